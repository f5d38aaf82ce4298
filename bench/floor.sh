#!/usr/bin/env bash
# bench/floor.sh: the floor, the API server's own limit for postcheck's gather pass. Replays a
# plan from bench/floor-plan.sh (which `postcheck floor-plan` records from a real gathering
# pass, so it cannot drift from the engine) with curl (HTTP/1.1 like kube-rs, no compression
# like kube-rs without its gzip feature): every chain at once, each chain's requests one
# after the other, each list paged with its continue token; bodies are discarded (a page
# goes to /dev/shm only until its continue token is read).
#
# Like kube-rs, a chain keeps its connection: one curl process sends the first request of
# every step of the chain over one kept-alive connection; the further pages of a list, which
# need the previous page's continue token, take one curl (and one TLS handshake) each.
# The user agent is not curl's: the API server pretty-prints JSON for curl, which would
# double the bytes and its work.
#
# Usage: bench/floor.sh SERVER TOKEN CAFILE PLAN
set -euo pipefail
server=$1 token=$2 ca=$3 plan=$4
scratch=$(mktemp -d /dev/shm/floor.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
meta_accept='Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'
common=(-sS --http1.1 -A postcheck-bench-floor --cacert "$ca" -H "Authorization: Bearer $token")

accept_of() { case $1 in GET) echo "Accept: application/json, */*" ;; MLIST) echo "$meta_accept" ;; *) echo "Accept: application/json" ;; esac; }
page_url() { # page_url PATH SIZE [CONTINUE]
  local sep='?'; case $1 in *\?*) sep='&' ;; esac
  echo "$server$1${sep}limit=$2${3:+&continue=$3}"
}
continue_of() { head -c 4096 "$1" | grep -o '"continue":"[^"]*"' | head -n1 | cut -d'"' -f4 || true; }

run_chain() { # run_chain NAME: the steps of chain NAME, in order
  local name=$1 i=0 chain verb path size args=() verbs=() paths=() sizes=()
  while IFS=$'\t' read -r chain verb path size; do
    [ "$chain" = "$name" ] || continue
    verbs+=("$verb") paths+=("$path") sizes+=("$size")
    [ ${#args[@]} -eq 0 ] || args+=(--next)
    args+=("${common[@]}" -H "$(accept_of "$verb")" -o "$scratch/$name.$i")
    if [ "$verb" = GET ]; then args+=("$server$path"); else args+=("$(page_url "$path" "$size")"); fi
    i=$((i + 1))
  done < "$plan"
  curl "${args[@]}"
  for i in "${!verbs[@]}"; do
    local file=$scratch/$name.$i token_
    [ "${verbs[$i]}" = GET ] && { rm -f "$file"; continue; }
    token_=$(continue_of "$file"); rm -f "$file"
    while [ -n "$token_" ]; do
      curl "${common[@]}" --fail -H "$(accept_of "${verbs[$i]}")" "$(page_url "${paths[$i]}" "${sizes[$i]}" "$token_")" \
        | { head -c 4096 > "$file"; cat > /dev/null; }
      token_=$(continue_of "$file")
    done
    rm -f "$file"
  done
}

pids=()
for chain in $(cut -f1 "$plan" | awk '!seen[$0]++'); do
  run_chain "$chain" & pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
