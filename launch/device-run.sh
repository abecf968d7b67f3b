#!/usr/bin/env bash
# Everything issue 5 asks of a lent GPU machine, in one command that fits one
# device call (10 minutes): ppbench for gpipe, 1f1b, interleaved and zb-h1
# through one-gpu.sh, a ppbench sweep of the four over M, ppbench calibrate
# and 1f1b predicted from that calibration, 1f1b again under MPS where the
# machine has it, and the GPU tests. The results are built in a temporary
# folder as
#   results/<gpu>/<run>/            each run's summary.json, measured.json and timeline.txt
#   results/<gpu>/sweep/            sweep.csv, sweep.json, sweep.png, points/<point>/ as a run's
#   results/<gpu>/calibration.json
#   results/<gpu>/commands.txt      the exact command of every step and its exit status
#                                   (or why it was skipped)
#   results/<gpu>/errors.md         measured / predicted / replay per run, as a table
#   results/<gpu>/tests/<test>.xml  each packed gpu_*_test (GoogleTest XML)
#   results/<gpu>/device.txt        nvidia-smi, compute mode, MPS, versions
#   results/<gpu>/log.txt           everything the steps printed
# and packed after every step into OUT_DIR/results.tar.gz (extract it in the
# repository's root), beside copies of commands.txt, errors.md and device.txt.
# One archive because the device tool brings back at most 8 files from OUT, no
# more than two folders down; rebuilt after every step because a call killed
# at its limit still brings back what OUT holds. A call with --parts other
# than all of them suffixes its commands, errors and log files with the parts
# (commands-tests.txt), so that its archive extracts beside an earlier one.
# Each step has its own time limit, cut to what is left of the whole budget;
# a failed step does not stop the next (the end of its output is printed), and
# a step that no longer fits is skipped and recorded. The tests come last: they
# take longest, and a second call with --parts tests runs them alone.
#
# usage: launch/device-run.sh OUT_DIR [--local] [--parts LIST]
#   on the device, from the checkout's root, after launch/pack-for-device.sh
#   here and carrying .devpack (it sources launch/device-env.sh itself).
#   --local       development check on a machine without a GPU: the build tree's
#                 ppbench on the CPU backend, the system mpirun, no tests, tiny runs.
#   --parts LIST  comma-separated subset of runs,sweep,calibrate,mps,tests (default all)
# PPB_DEVICE_BUDGET_S: seconds for the whole script (default 570; a device call
# may run 600).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
all_parts=runs,sweep,calibrate,mps,tests
usage="usage: launch/device-run.sh OUT_DIR [--local] [--parts $all_parts]"
out=${1:-}
[[ -n $out && $out != -* ]] || { echo "device-run.sh: $usage" >&2; exit 2; }
shift
local_check=0 parts=$all_parts
while (($#)); do
  case $1 in
    --local) local_check=1; shift ;;
    --parts) parts=${2:-}; shift 2 || { echo "device-run.sh: --parts: give a list" >&2; exit 2; } ;;
    *) echo "device-run.sh: unknown argument '$1'; $usage" >&2; exit 2 ;;
  esac
done
for part in ${parts//,/ }; do
  [[ ,$all_parts, == *,$part,* ]] \
    || { echo "device-run.sh: --parts: '$part' is not one of ${all_parts//,/, }" >&2; exit 2; }
done
[[ -n ${parts//,/} ]] || { echo "device-run.sh: --parts: give at least one of ${all_parts//,/, }" >&2; exit 2; }
wanted() { [[ ,$parts, == *,$1,* ]]; }
budget=${PPB_DEVICE_BUDGET_S:-570}
[[ $budget =~ ^[0-9]+$ ]] || { echo "device-run.sh: PPB_DEVICE_BUDGET_S: expected whole seconds, got '$budget'" >&2; exit 2; }
deadline=$((SECONDS + budget))
mkdir -p "$out" || { echo "device-run.sh: $out: cannot create" >&2; exit 2; }
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ppb-device.XXXXXX") || { echo "device-run.sh: cannot make a temporary folder" >&2; exit 2; }
trap 'rm -rf "$work"' EXIT
log=$work/log.txt
: > "$log"
# The files of a call that runs only some parts get the parts in their names.
suffix=
[[ $parts == "$all_parts" ]] || suffix=-${parts//,/-}

if ((local_check)); then
  ppbench=${PPB_PPBENCH:-$root/build/src/ppbench}
  backend=cpu gpu=local-cpu
  times=(-f 1 --backward-times 2)
  size=(-b 4 "${times[@]}" --activation-bytes 64K --warmup 1 --iters 2)
  calibrate_size=(--sizes 4K,64K --reps 3 --warmup 1)
  sweep_size=(-b 2,4 --activation-bytes 64K --warmup 1 --iters 2)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
else
  # shellcheck source=launch/device-env.sh
  source "$root/launch/device-env.sh" >> "$log" 2>&1 || { echo "device-run.sh: device-env.sh failed:" >&2; tail -n 12 "$log" >&2; exit 2; }
  ppbench=$PPB_PPBENCH
  backend=cuda
  # NCCL's own warnings into log.txt: a hang or failure inside NCCL's set-up
  # would otherwise leave nothing there (one-gpu.sh passes it to the ranks).
  export NCCL_DEBUG=${NCCL_DEBUG:-WARN}
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr -c 'A-Za-z0-9\n' '-' | sed 's/-*$//')
  gpu=${gpu:-unknown-gpu}
  times=(-f 2 --backward-times 4)
  size=(-b 8 "${times[@]}" --activation-bytes 4M --warmup 2 --iters 5)
  calibrate_size=(--sizes 64K,1M,4M,16M --reps 10 --warmup 2)
  sweep_size=(-b 4,8,16 --activation-bytes 4M --warmup 2 --iters 5)
fi
[[ $ppbench == /* ]] || ppbench=$PWD/$ppbench  # the steps run elsewhere
results=$work/results/$gpu
rel=results/$gpu  # what the steps are given: they run in $work
cd "$work" || exit 2
mkdir -p "$results"
commands=$results/commands$suffix.txt
: > "$commands"

# What results/ keeps of a run: the summary, the measured timeline and the console timeline.
trim_runs() {
  local run
  for run in "$results"/*/ "$results"/sweep/points/*/; do
    [[ -f $run/summary.json ]] || continue
    find "$run" -maxdepth 1 -type f ! -name summary.json ! -name measured.json ! -name timeline.txt -delete
  done
}

# One table for the notes and results/README.md.
write_error_table() {
  python3 - "$results" > "$results/errors$suffix.md" <<'PY' || echo "device-run.sh: errors$suffix.md not written (python3)" >&2
import json, pathlib, sys
print("| run | measured (median) | predicted | replay | makespan error | replay error | bubble measured | bubble error |")
print("|---|---|---|---|---|---|---|---|")
results = pathlib.Path(sys.argv[1])
for summary in sorted(results.glob("*/summary.json")) + sorted(results.glob("sweep/points/*/summary.json")):
    s = json.loads(summary.read_text())
    m, e = s["measured"], s["error"]
    print(f"| {summary.parent.relative_to(results)} | {m['median_iteration']['makespan'] / 1000:.3f} ms | {s['predicted']['makespan'] / 1000:.3f} ms"
          f" | {s['replay']['makespan'] / 1000:.3f} ms | {100 * e['makespan_rel']:+.2f}% | {100 * e['replay_makespan_rel']:+.2f}%"
          f" | {100 * m['median_iteration']['bubble_fraction']:.1f}% | {e['bubble_pp']:+.2f} pp |")
PY
}

# Brings OUT up to date with everything finished so far: the archive (written
# aside, then renamed, so a call killed while packing still returns the last
# whole one) and copies of the files worth reading first.
pack() {
  trim_runs
  cp "$log" "$results/log$suffix.txt"
  [[ -f $work/device.txt ]] && cp "$work/device.txt" "$results/device.txt"
  ((wrote_errors)) && write_error_table
  # Python's tarfile where tar is missing or fails (the GPU image has python3);
  # it picks gzip by the name's ending.
  local part=$out/.partial-results.tar.gz
  if tar -C "$work" -czf "$part" results 2> /dev/null || (cd "$work" && python3 -m tarfile -c "$part" results); then
    mv -f "$part" "$out/results.tar.gz"
  else
    echo "device-run.sh: packing results.tar.gz failed: OUT holds only the copies" >&2
  fi
  cp "$commands" "$out/commands$suffix.txt"
  [[ -f $results/errors$suffix.md ]] && cp "$results/errors$suffix.md" "$out/errors$suffix.md"
  [[ -f $work/device.txt ]] && cp "$work/device.txt" "$out/device.txt"
  return 0
}
# A call that only runs the tests has no runs to tabulate.
wrote_errors=0
[[ $parts =~ runs|sweep|calibrate|mps ]] && wrote_errors=1

# skip NAME REASON: records a step that did not run, and why.
skip() {
  echo "$1 (skipped: $2)" >> "$commands"
  echo "device-run.sh: $1: skipped ($2)"
  pack
}

# step LIMIT_S NAME COMMAND...: runs with a time limit (cut to what is left of
# the budget, less 15 s for the kill grace and the packing), logs, records the
# status, prints the end of a failed step's output (the device call's reply
# shows only the end of what this script prints), packs.
step() {
  local limit=$1 name=$2 status left shown
  shift 2
  # As typed in the checkout's root: the steps run in the temporary folder,
  # so their output paths read results/<gpu>/..., as they land once extracted.
  shown="$*"
  shown=${shown//$root\//}
  left=$((deadline - SECONDS - 15))
  if ((left < 20)); then
    skip "$name" "time budget spent: $shown"
    return 0
  fi
  ((limit > left)) && limit=$left
  echo "== $name: $shown" >> "$log"
  timeout --kill-after=10 "$limit" "$@" > "$work/step.txt" 2>&1
  status=$?
  cat "$work/step.txt" >> "$log"
  echo "$name (exit $status): $shown" >> "$commands"
  echo "device-run.sh: $name: exit $status"
  ((status == 0)) || tail -n 12 "$work/step.txt" | sed 's/^/    /'
  pack
  return 0
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(hostname)"
  nvidia-smi -L 2>&1
  nvidia-smi --query-gpu=name,driver_version,compute_mode,clocks.max.sm,memory.total --format=csv 2>&1
  echo "mps control: $(command -v nvidia-cuda-mps-control || echo absent)"
  echo "library path: ${LD_LIBRARY_PATH:-}"
  echo "mpirun: $(command -v mpirun) $(mpirun --version 2>&1 | head -1)"
} > "$work/device.txt" 2>&1 || true

launch=("$root/launch/one-gpu.sh" -np 4)
common=(--backend "$backend" "${size[@]}" --timeout 60 --setup-timeout 120)
if wanted runs; then
  for schedule in gpipe 1f1b interleaved zb-h1; do
    extra=()
    [[ $schedule == zb-h1 ]] && extra=(--weight-times "${times[1]}")  # W as long as F
    rm -rf "${results:?}/$schedule"
    step 120 "$schedule" "${launch[@]}" "$ppbench" --schedule "$schedule" "${common[@]}" "${extra[@]}" \
      --out "$rel/$schedule"
  done
fi

# The same costs for every schedule: W is given, so zb-h1 runs B and W apart
# and the others run one backward of B + W.
if wanted sweep; then
  rm -rf "${results:?}/sweep"
  step 240 sweep "${launch[@]}" "$ppbench" sweep --schedule gpipe,1f1b,interleaved,zb-h1 --backend "$backend" \
    "${times[@]}" --weight-times "${times[1]}" "${sweep_size[@]}" --timeout 60 --setup-timeout 120 \
    --out "$rel/sweep"
fi

if wanted calibrate; then
  rm -f "$results/calibration.json"
  step 240 calibrate "${launch[@]}" "$ppbench" calibrate --backend "$backend" "${times[@]}" "${calibrate_size[@]}" \
    --timeout 60 --setup-timeout 120 --out "$rel/calibration.json"
  rm -rf "$results/1f1b-calibrated"
  if [[ -f $results/calibration.json ]]; then
    step 120 1f1b-calibrated "${launch[@]}" "$ppbench" --schedule 1f1b "${common[@]}" \
      --calibration "$rel/calibration.json" --out "$rel/1f1b-calibrated"
  else
    skip 1f1b-calibrated "no calibration.json"
  fi
fi

# Without MPS the four ranks' contexts time-slice the GPU; under MPS their
# kernels run side by side. Both are functional figures; the pair shows how
# much the sharing itself costs.
if wanted mps; then
  rm -rf "$results/1f1b-mps"
  if ((local_check)); then
    skip 1f1b-mps "--local"
  elif ! command -v nvidia-cuda-mps-control > /dev/null; then
    skip 1f1b-mps "nvidia-cuda-mps-control not found"
  else
    step 120 1f1b-mps "$root/launch/one-gpu.sh" --mps -np 4 "$ppbench" --schedule 1f1b "${common[@]}" \
      --out "$rel/1f1b-mps"
  fi
fi

if wanted tests; then
  tests=("$root"/.devpack/gpu_*_test)
  if ((local_check)); then
    skip tests "--local"
  elif [[ ! -x ${tests[0]} ]]; then
    skip tests "no .devpack/gpu_*_test (run launch/pack-for-device.sh)"
  else
    mkdir -p "$results/tests"
    for t in "${tests[@]}"; do
      name=$(basename "$t")
      step 240 "$name" "$t" --gtest_output=xml:"$rel/tests/$name.xml"
    done
  fi
fi

pack
echo "device-run.sh: wrote $out/results.tar.gz (results/$gpu/; commands in commands$suffix.txt$( ((wrote_errors)) && echo ", errors in errors$suffix.md"))"
