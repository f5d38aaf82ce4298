#!/usr/bin/env bash
# bench/service.sh: `postcheck serve` under a bounded load on loopback, with oha, on SQLite
# and on PostgreSQL. Called by scripts/bench (which builds the binaries and installs oha);
# usable alone:
#
#   bench/service.sh POSTCHECK TESTCLUSTER K8S_VERSION OUT_DIR WORK_DIR [OHA]
#
# Scenarios, each bounded in time (and so in requests):
#   get-task-rate  GET .../postcheck/tasks/{id} of a finished task: 500 open connections
#                  sending $GET_RATE requests/s in all, 20 s; latencies corrected for
#                  coordinated omission (a request is timed from when it was due);
#   get-task-max   the same GET, 500 connections, each sending its next request as soon as
#                  the last is answered: the throughput ceiling (latency there is queueing:
#                  500 requests are always waiting, so p50 ≈ 500 / throughput);
#   post-check     POST .../operation/postcheck (synchronous: each request runs a full check
#                  of a small 3-node test cluster and stores the task): 1 connection, 15 s
#                  (the service runs one check per cluster at a time, 429 to a second).
# The load generator shares the machine's 2 cores with the server (and PostgreSQL).
# Writes OUT_DIR/<backend>-<scenario>.json (oha's JSON report).
# Everything it starts (the cluster, the servers, PostgreSQL) it stops on exit, by pid.
set -euo pipefail
POSTCHECK=$1 TESTCLUSTER=$2 VERSION=$3 OUT=$4 WORK=$5 OHA=${6:-oha}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GET_CONNECTIONS=${GET_CONNECTIONS:-500} GET_SECONDS=${GET_SECONDS:-20} GET_RATE=${GET_RATE:-2000}
POST_CONNECTIONS=${POST_CONNECTIONS:-1} POST_SECONDS=${POST_SECONDS:-15}
# The cluster under test is on loopback, which the service refuses unless allowed.
export POSTCHECK_ALLOW_ENDPOINT=${POSTCHECK_ALLOW_ENDPOINT:-127.0.0.0/8}
log() { printf '[bench service %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

mkdir -p "$OUT" "$WORK"
STATE=$WORK/cluster PG_DIR=$WORK/pg SERVER_PID=
PG_STARTED=0
cleanup() {
  local status=$?
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ $PG_STARTED = 1 ]] && "$ROOT/scripts/pg-test-server" stop "$PG_DIR" >&2 || true
  [[ -f $STATE/state.json ]] && "$TESTCLUSTER" down --state "$STATE" >&2 || true
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh start each time: a database or cluster left by an earlier run would hold the
# same registered cluster and tasks.
rm -rf "$STATE" "$PG_DIR" "$WORK"/sqlite.db*
log "starting a small cluster to be checked"
"$TESTCLUSTER" up --version "$VERSION" --nodes 3 --state "$STATE" > "$WORK/up.out" 2> "$WORK/up.log"
KUBECONFIG_FILE=$(tail -n 1 "$WORK/up.out")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

PROJECT=0123456789abcdef0123456789abcdef
CLUSTER_ID=7d1c5e2a-0b5e-4c59-9a55-2f1f6f3c9b10

# run_backend NAME DATABASE_URL
run_backend() {
  local name=$1 db=$2 key=$WORK/$1.key port
  rm -f "$key"
  export POSTCHECK_DATABASE_URL=$db POSTCHECK_KEY_FILE=$key
  port=$(free_port)
  log "[$name] serve on 127.0.0.1:$port"
  "$POSTCHECK" serve --listen "127.0.0.1:$port" > "$WORK/$name.serve.log" 2>&1 &
  SERVER_PID=$!
  local base=http://127.0.0.1:$port
  for _ in $(seq 1 100); do curl -sf "$base/readyz" > /dev/null && break; sleep 0.2; done
  curl -sf "$base/readyz" > /dev/null || { tail -n 20 "$WORK/$name.serve.log" >&2; return 1; }
  local token
  token=$("$POSTCHECK" token create --project "$PROJECT" 2>/dev/null | tail -n 1)
  "$POSTCHECK" cluster add --project "$PROJECT" --cluster-id "$CLUSTER_ID" --kubeconfig "$KUBECONFIG_FILE" > /dev/null 2>&1 \
    || "$POSTCHECK" cluster add --project "$PROJECT" --cluster-id "$CLUSTER_ID" --kubeconfig "$KUBECONFIG_FILE" >&2
  local path=/api/v3/projects/$PROJECT/clusters/$CLUSTER_ID/operation/postcheck
  local body='{"apiVersion":"v3","kind":"PostCheckTask","spec":{"clusterVersion":"v'$VERSION'","targetVersion":"v'$VERSION'"}}'
  local task
  task=$(curl -sS -X POST -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -d "$body" "$base$path")
  local id; id=$(jq -r '.metadata.uid // .metadata.id // .id' <<<"$task")
  log "[$name] one check: phase $(jq -r '.status.phase' <<<"$task"), task $id"
  curl -sSf -H "X-Auth-Token: $token" "$base$path/tasks/$id" > /dev/null || { log "GET of the task failed"; return 1; }

  local oha=("$OHA" --no-tui --output-format json -H "X-Auth-Token: $token")
  log "[$name] GET task: $GET_CONNECTIONS connections, $GET_RATE requests/s, ${GET_SECONDS}s"
  "${oha[@]}" -c "$GET_CONNECTIONS" -q "$GET_RATE" --latency-correction -z "${GET_SECONDS}s" "$base$path/tasks/$id" > "$OUT/$name-get-task-rate.json"
  log "[$name] GET task: $GET_CONNECTIONS connections, as fast as answered, ${GET_SECONDS}s"
  "${oha[@]}" -c "$GET_CONNECTIONS" -z "${GET_SECONDS}s" "$base$path/tasks/$id" > "$OUT/$name-get-task-max.json"
  log "[$name] POST check: $POST_CONNECTIONS connections, ${POST_SECONDS}s"
  "${oha[@]}" -c "$POST_CONNECTIONS" -z "${POST_SECONDS}s" -m POST -T application/json -d "$body" -t 60s "$base$path" > "$OUT/$name-post-check.json"
  for f in "$OUT/$name"-*.json; do
    jq -r --arg f "$(basename "$f")" '"\($f): \(.summary.requestsPerSec | floor) req/s, p50 \(.latencyPercentiles.p50 * 1000 | . * 100 | round / 100) ms, p99 \(.latencyPercentiles.p99 * 1000 | . * 100 | round / 100) ms, statuses \(.statusCodeDistribution | tostring)"' "$f" >&2 || true
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

run_backend sqlite "sqlite:$WORK/sqlite.db"
log "starting PostgreSQL (scripts/pg-test-server)"
PG_URL=$("$ROOT/scripts/pg-test-server" start "$PG_DIR"); PG_STARTED=1
run_backend postgres "$PG_URL"
