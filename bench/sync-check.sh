#!/usr/bin/env bash
# Side by side: the synchronous post-check of one 3-node test cluster through `postcheck serve`
# (SQLite), the HTTP/1.1 build (before) and the HTTP/2 build (after), alternated: oha, one
# connection, RATE (2) checks a second, under the per-cluster throttle, so every check is run.
#
#   bench/sync-check.sh BEFORE_BIN AFTER_BIN OHA OUT_DIR [SECONDS_EACH]
#
# Writes OUT_DIR/{h1,h2}-round{1,2}.json (oha) and prints one line per run. The cluster it
# starts is stopped on exit, by pid (testcluster down).
set -euo pipefail
H1=$1 H2=$2 OHA=$3 OUT=$4 SECONDS_EACH=${5:-15}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TC=${TESTCLUSTER:-$ROOT/target/release/testcluster}
W=${TMPDIR:-/tmp}/postcheck-sync-check; rm -rf "$W"; mkdir -p "$W" "$OUT"
"$TC" up --version 1.36 --nodes 3 --state "$W/c" > "$W/up.out" 2> "$W/up.log"
trap '"$TC" down --state "$W/c" >&2 || true' EXIT
KC=$(tail -n 1 "$W/up.out")
export POSTCHECK_ALLOW_ENDPOINT=127.0.0.0/8
PROJECT=0123456789abcdef0123456789abcdef CLUSTER_ID=7d1c5e2a-0b5e-4c59-9a55-2f1f6f3c9b10
body='{"apiVersion":"v3","kind":"PostCheckTask","spec":{"clusterVersion":"v1.36","targetVersion":"v1.36"}}'
path=/api/v3/projects/$PROJECT/clusters/$CLUSTER_ID/operation/postcheck
for round in 1 2; do
  for name in h1 h2; do
    bin=$H1; [[ $name = h2 ]] && bin=$H2
    export POSTCHECK_DATABASE_URL=sqlite:$W/$name-$round.db POSTCHECK_KEY_FILE=$W/$name-$round.key
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$bin" serve --listen "127.0.0.1:$port" > "$W/$name-$round.log" 2>&1 & pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break; sleep 0.2; done
    token=$("$bin" token create --project "$PROJECT" 2>/dev/null | tail -n 1)
    "$bin" cluster add --project "$PROJECT" --cluster-id "$CLUSTER_ID" --kubeconfig "$KC" > /dev/null
    curl -sS -X POST -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port$path" | jq -r '.status.phase' >&2
    "$OHA" --no-tui --output-format json -H "X-Auth-Token: $token" -c 1 -q "${RATE:-2}" -z "${SECONDS_EACH}s" -m POST -T application/json -d "$body" -t 60s "http://127.0.0.1:$port$path" > "$OUT/$name-round$round.json"
    jq -r --arg n "$name round $round" '"\($n): \(.summary.requestsPerSec * 100 | round / 100) checks/s, p50 \(.latencyPercentiles.p50 * 1000 | . * 10 | round / 10) ms, p90 \(.latencyPercentiles.p90 * 1000 | . * 10 | round / 10) ms, p99 \(.latencyPercentiles.p99 * 1000 | . * 10 | round / 10) ms, statuses \(.statusCodeDistribution | tostring)"' "$OUT/$name-round$round.json"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
