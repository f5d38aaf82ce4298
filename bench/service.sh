#!/usr/bin/env bash
# bench/service.sh: `postcheck serve` under a bounded load on loopback, with wrk, on SQLite
# and on PostgreSQL. Called by scripts/bench (which builds the binaries); usable alone:
#
#   bench/service.sh POSTCHECK TESTCLUSTER K8S_VERSION OUT_DIR WORK_DIR
#
# Scenarios, each bounded in time (and so in requests):
#   get-task   GET .../postcheck/tasks/{id} of a finished task: 500 connections, 20 s;
#   post-check POST .../operation/postcheck (synchronous: each request runs a full check of a
#              small 3-node test cluster and stores the task): 1 connection, 15 s (the
#              service runs one check per cluster at a time and answers 429 to a second).
# Writes OUT_DIR/<backend>-<scenario>.txt (wrk's report with its latency distribution).
# Everything it starts (the cluster, the servers, PostgreSQL) it stops on exit, by pid.
set -euo pipefail
POSTCHECK=$1 TESTCLUSTER=$2 VERSION=$3 OUT=$4 WORK=$5
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GET_CONNECTIONS=${GET_CONNECTIONS:-500} GET_SECONDS=${GET_SECONDS:-20}
POST_CONNECTIONS=${POST_CONNECTIONS:-1} POST_SECONDS=${POST_SECONDS:-15}
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

rm -rf "$STATE"
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

  cat > "$WORK/get.lua" <<LUA
wrk.method = "GET"
wrk.headers["X-Auth-Token"] = "$token"
LUA
  cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = "$token"
LUA
  log "[$name] GET task: $GET_CONNECTIONS connections, ${GET_SECONDS}s"
  wrk -t2 -c"$GET_CONNECTIONS" -d"${GET_SECONDS}s" --timeout 10s --latency -s "$WORK/get.lua" "$base$path/tasks/$id" > "$OUT/$name-get-task.txt"
  log "[$name] POST check: $POST_CONNECTIONS connections, ${POST_SECONDS}s"
  wrk -t1 -c"$POST_CONNECTIONS" -d"${POST_SECONDS}s" --timeout 60s --latency -s "$WORK/post.lua" "$base$path" > "$OUT/$name-post-check.txt"
  grep -E 'Requests/sec|50%|99%|Non-2xx' "$OUT/$name-get-task.txt" "$OUT/$name-post-check.txt" >&2 || true
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
}

run_backend sqlite "sqlite:$WORK/sqlite.db"
log "starting PostgreSQL (scripts/pg-test-server)"
PG_URL=$("$ROOT/scripts/pg-test-server" start "$PG_DIR"); PG_STARTED=1
run_backend postgres "$PG_URL"
