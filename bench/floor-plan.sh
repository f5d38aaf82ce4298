#!/usr/bin/env bash
# bench/floor-plan.sh: writes the "floor" plan, the exact requests postcheck's gather pass
# makes (crates/engine/src/gather.rs and gather_objects.rs), so that bench/floor.sh can replay
# them with curl: the same lists, the same page sizes, the same concurrency (one chain per
# concurrent list in the engine, steps within a chain one after the other).
#
# Usage: bench/floor-plan.sh SERVER TOKEN CAFILE RULES_YAML > plan.tsv
# Output lines: CHAIN <tab> VERB (GET|LIST|MLIST) <tab> PATH <tab> PAGE_SIZE
#   GET: one request; LIST: paged JSON list; MLIST: paged metadata-only list
#   (Accept: PartialObjectMetadataList, what kube-rs's list_metadata sends).
# The removed-API chain depends on discovery (which kinds this server lists), so this script
# asks discovery once, untimed, and the floor replays the same discovery GETs.
set -euo pipefail
server=$1 token=$2 ca=$3 rules=$4
get() { curl -sS --fail --http1.1 -A postcheck-bench-floor --cacert "$ca" -H "Authorization: Bearer $token" "$server$1"; }
t=$'\t'
cat <<PLAN
version${t}GET${t}/version${t}0
health${t}GET${t}/readyz?verbose${t}0
health${t}GET${t}/livez?verbose${t}0
nodes${t}LIST${t}/api/v1/nodes${t}500
pods${t}LIST${t}/api/v1/pods${t}500
leases${t}LIST${t}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases${t}500
deployments${t}LIST${t}/apis/apps/v1/deployments${t}500
statefulsets${t}LIST${t}/apis/apps/v1/statefulsets${t}500
daemonsets${t}LIST${t}/apis/apps/v1/daemonsets${t}500
services${t}LIST${t}/api/v1/services${t}500
endpointslices${t}LIST${t}/apis/discovery.k8s.io/v1/endpointslices${t}500
claims${t}LIST${t}/api/v1/persistentvolumeclaims${t}500
apiservices${t}LIST${t}/apis/apiregistration.k8s.io/v1/apiservices${t}500
vwebhooks${t}LIST${t}/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations${t}500
mwebhooks${t}LIST${t}/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations${t}500
crds${t}LIST${t}/apis/apiextensions.k8s.io/v1/customresourcedefinitions${t}500
events${t}LIST${t}/api/v1/events?fieldSelector=type%3DWarning${t}500
PLAN
# The removed-API pass: for each (replacement apiVersion, kind) of the rule table, sorted,
# one discovery GET of the group/version, then (when the kind is served and listable) a
# paged metadata list; then the Helm release Secrets in pages of 20.
grep -o 'kind: [A-Za-z]*, removedIn: "[0-9.]*", replacement: [a-z0-9./]*' "$rules" \
  | sed -E 's/kind: ([A-Za-z]*), removedIn: "[0-9.]*", replacement: ([a-z0-9./]*)/\2 \1/' \
  | LC_ALL=C sort -u \
  | while read -r apiver kind; do
      case $apiver in */*) disc=/apis/$apiver ;; *) disc=/api/$apiver ;; esac
      echo "removed${t}GET${t}${disc}${t}0"
      doc=$(get "$disc" 2>/dev/null) || continue
      resource=$(jq -r --arg k "$kind" '.resources[] | select(.kind == $k and (.name | contains("/") | not) and (.verbs | index("list"))) | .name' <<<"$doc" | head -n1)
      [ -n "$resource" ] && echo "removed${t}MLIST${t}${disc}/${resource}${t}500"
    done
echo "removed${t}LIST${t}/api/v1/secrets?labelSelector=owner%3Dhelm%2Cstatus%3Ddeployed${t}20"
