#!/usr/bin/env bash
# ctest trace_loads_in_devtools_engine: ppsim writes a trace, Chrome DevTools'
# trace engine loads it (check_trace_loads.mjs). Exit 77 (skipped) when Node or
# the npm package is missing; launch/common.sh installs both.
set -euo pipefail
ppsim=$1
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ppsim" --schedule interleaved -s 4 -b 8 --p2p-time 0.2 -o "$tmp/trace.json" >/dev/null
(cd "$here" && node check_trace_loads.mjs "$tmp/trace.json" 4)
