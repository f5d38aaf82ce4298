#!/usr/bin/env bash
# bench/floor.sh: the floor, the API server's own limit for postcheck's gather pass: replays
# a plan from bench/floor-plan.sh with bench/floor.py (Python's http.client: one kept-alive
# connection per chain, every page of a list on it, bodies discarded; see its docstring).
# It used to take one curl process, and one TLS handshake, per continuation page, which made
# the floor pessimistic on long lists.
#
# Usage: bench/floor.sh SERVER TOKEN CAFILE PLAN [--counts FILE]
set -euo pipefail
exec python3 "$(dirname "$0")/floor.py" "$@"
