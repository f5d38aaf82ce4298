#!/usr/bin/env bash
# bench/floor-plan.sh: writes the "floor" plan, the exact requests postcheck's gather pass
# makes, so that bench/floor.sh can replay them with curl: the same lists, the same page
# sizes, the same concurrency (one chain per concurrent list in the engine, steps within a
# chain one after the other).
#
# The plan is not written by hand: `postcheck floor-plan` runs a real gathering pass (the
# sources a default `postcheck check` reads) through a client that records every request it
# sends (crates/engine/src/gather/plan.rs), so a new source or list shows up here by itself.
#
# Usage: bench/floor-plan.sh SERVER TOKEN CAFILE [RULES_YAML, ignored: the engine knows it] > plan.tsv
#   POSTCHECK: the postcheck binary (default: target/release/postcheck)
#   PLAN_COUNTS: also write there how many requests the recorded pass sent, `VERB PATH
#   COUNT` a line, every page counted (bench/floor.py --counts writes the same for the floor)
# Output lines: CHAIN <tab> VERB (GET|LIST|MLIST) <tab> PATH <tab> PAGE_SIZE
#   GET: one request; LIST: paged JSON list; MLIST: paged metadata-only list
#   (Accept: PartialObjectMetadataList, what kube-rs's list_metadata sends).
set -euo pipefail
server=$1 token=$2 ca=$3
root=$(cd "$(dirname "$0")/.." && pwd)
postcheck=${POSTCHECK:-$root/target/release/postcheck}
kubeconfig=$(mktemp)
trap 'rm -f "$kubeconfig"' EXIT
cat > "$kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster: {server: "$server", certificate-authority: "$ca"}
users:
- name: bench
  user: {token: "$token"}
contexts:
- name: bench
  context: {cluster: bench, user: bench}
current-context: bench
KUBECONFIG
exec "$postcheck" floor-plan --kubeconfig "$kubeconfig" ${PLAN_COUNTS:+--counts "$PLAN_COUNTS"}
