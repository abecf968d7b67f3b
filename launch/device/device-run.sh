#!/usr/bin/env bash
# Everything a lent GPU machine is asked, in one command that fits one device
# call, cheapest and most telling first (docs/gpu.md, "Measuring on a
# borrowed GPU machine"):
#   preflight        glibc, ldd of the pack, GPU, driver, compute mode, MPS,
#                    which libnccl.so.2 loads, mpirun (launch/device/preflight.sh);
#                    a refusal stops everything (exit 3)
#   gpu_kernels_test, gpu_backend_test
#                    one process each: kernels, event-to-host clock mapping,
#                    a one-rank NCCL communicator
#   smoke-2ranks     ppbench 1f1b on 2 ranks, NCCL_DEBUG=INFO for INIT,NET
#   1f1b, 1f1b-mps   4 ranks through launch/one-gpu.sh, then under MPS
#   gpipe, interleaved, zb-h1
#   calibrate, 1f1b-calibrated
#   gpu_ppbench_test
#   sweep            the four schedules at M = 4, 8, with what time is left
# Every run gets three predictions: free transfers (predicted-free.json),
# the calibrated link model (predicted-links.json, once calibration.json
# exists) and the replay (summary.json); errors.md holds all three.
#
# Fail-fast: ppbench runs with --setup-timeout 45 --timeout 30; after the
# first MPI step that times out or fails in set-up, the MPI steps left are
# skipped (one NCCL bootstrap hang would otherwise cost every step its
# limit). After any failed step its leftover processes are ended by id (its
# session, then what nvidia-smi still lists on the GPU) and MPS daemons it
# started are told to quit.
#
# Results are built in a temporary folder as results/<gpu>/ (a folder per
# run, sweep/, calibration.json, tests/<test>.xml, commands.txt: each step's
# command, exit status and seconds, or why it was skipped) and packed after
# every step into OUT_DIR/results.tar.gz (extract it in the repository's
# root), beside device.txt (the pre-flight's facts), commands.txt, errors.md
# and log.txt (everything the steps print, as they print it): the device tool
# brings back at most 8 files, two folders deep, and a call killed at its
# limit still brings back what OUT holds. A call with --parts other than all
# suffixes its commands, errors and log files with the parts.
#
# usage: launch/device/device-run.sh OUT_DIR [--local] [--parts LIST]
#   On the GPU machine, from the checkout's root, with .devpack carried
#   (launch/device/pack-for-device.sh). The script keeps the caller's
#   environment for itself (python3, tar, nvidia-smi) and gives the pack's
#   (launch/device/device-env.sh) to the steps only.
#   --local       the same flow on a machine without a GPU: the build tree's
#                 ppbench and ppsim (PPB_PPBENCH, PPB_PPSIM) on the CPU
#                 backend, the system's mpirun, tiny runs; GPU steps skipped.
#   --parts LIST  comma-separated subset of tests,runs,mps,calibrate,sweep
# PPB_DEVICE_BUDGET_S: seconds for the whole script (default 430); each step's
# limit is cut to what is left of it. PPB_DEVICE_SETUP_TIMEOUT_S and
# PPB_DEVICE_TIMEOUT_S: ppbench's --setup-timeout and --timeout (45, 30; 15
# each with --local). PPB_DEVICE_STEP_LIMIT_S: caps every step's limit.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
me=device-run.sh
all_parts=tests,runs,mps,calibrate,sweep
usage="usage: launch/device/device-run.sh OUT_DIR [--local] [--parts $all_parts]"
bad() { echo "$me: $*" >&2; exit 2; }
out=${1:-}
[[ -n $out && $out != -* ]] || bad "$usage"
shift
local_check=0 parts=$all_parts
while (($#)); do
  case $1 in
    --local) local_check=1; shift ;;
    --parts) parts=${2:-}; shift 2 || bad "--parts: give a list" ;;
    *) bad "unknown argument '$1'; $usage" ;;
  esac
done
for part in ${parts//,/ }; do
  [[ ,$all_parts, == *,$part,* ]] || bad "--parts: '$part' is not one of ${all_parts//,/, }"
done
[[ -n ${parts//,/} ]] || bad "--parts: give at least one of ${all_parts//,/, }"
wanted() { [[ ,$parts, == *,$1,* ]]; }
whole_seconds() {  # NAME DEFAULT: the variable's value, checked
  local v=${!1:-$2}
  [[ $v =~ ^[0-9]+$ ]] || bad "$1: expected whole seconds, got '$v'"
  echo "$v"
}
budget=$(whole_seconds PPB_DEVICE_BUDGET_S 430) || exit 2
quick=45 iteration=30
((local_check)) && quick=15 iteration=15
setup_timeout=$(whole_seconds PPB_DEVICE_SETUP_TIMEOUT_S $quick) || exit 2
iteration_timeout=$(whole_seconds PPB_DEVICE_TIMEOUT_S $iteration) || exit 2
step_cap=$(whole_seconds PPB_DEVICE_STEP_LIMIT_S 600) || exit 2
deadline=$((SECONDS + budget))
mkdir -p "$out" || bad "$out: cannot create"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ppb-device.XXXXXX") || bad "cannot make a temporary folder"
trap 'rm -rf "$work"' EXIT
# The files of a call that runs only some parts get the parts in their names.
suffix=
[[ $parts == "$all_parts" ]] || suffix=-${parts//,/-}
# Streamed: a call killed inside a step still returns what the step printed.
log=$out/log$suffix.txt
: > "$log"

env_refusal=
# python3 in the caller's environment: on PATH, else the GPU image's venv.
python=$(command -v python3)
for p in /opt/*/.venv/bin/python3; do [[ -z $python && -x $p ]] && python=$p; done

# The steps' environment, captured once: the caller's here, the pack's on
# the device. Steps run as `env -i "${step_env[@]}" ...`; this script itself
# never takes the pack's libraries.
if ((local_check)); then
  ppbench=${PPB_PPBENCH:-$root/build/src/ppbench}
  ppsim=${PPB_PPSIM:-$(dirname "$ppbench")/ppsim}
  backend=cpu gpu=local-cpu
  times=(-f 1 --backward-times 2 --weight-times 1)
  m=4 size=(--activation-bytes 64K --warmup 1 --iters 2)
  bytes=64K
  calibrate_size=(--sizes "4K,64K" --reps 3 --warmup 1)
  sweep_size=(-b "2,4" --activation-bytes 64K --warmup 1 --iters 2)
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mapfile -d '' step_env < <(env -0)
  preflight=("$root/launch/device/preflight.sh" --local "$ppbench" "$ppsim")
else
  # Where the pack's environment cannot be had, the pre-flight still runs
  # (in the caller's) for the facts, and its line is the refusal.
  if bash -c 'source "$1" && env -0 > "$2"' _ "$root/launch/device/device-env.sh" "$work/pack.env" >> "$log" 2>&1; then
    mapfile -d '' step_env < "$work/pack.env"
  else
    env_refusal=$(grep -m 1 '^device-env.sh: ' "$log" || echo "launch/device/device-env.sh failed")
    mapfile -d '' step_env < <(env -0)
  fi
  # NCCL's warnings into the log: a hang or failure inside NCCL's set-up would
  # otherwise leave nothing there (one-gpu.sh passes it to the ranks).
  step_env+=("NCCL_DEBUG=${NCCL_DEBUG:-WARN}")
  ppbench=$root/.devpack/ppbench ppsim=$root/.devpack/ppsim
  # A copy that lost its modes on the way would fail every step with 126.
  chmod -f u+x "$root"/.devpack/{ppbench,ppsim,gpu_kernels_test,gpu_backend_test,gpu_ppbench_test} \
    "$root"/.devpack/ompi/bin/* 2> /dev/null
  backend=cuda
  gpu=$(timeout 20 nvidia-smi --query-gpu=name --format=csv,noheader 2> /dev/null | head -n 1 |
    tr -c 'A-Za-z0-9\n' '-' | sed 's/-*$//')
  gpu=${gpu:-unknown-gpu}
  times=(-f 2 --backward-times 4 --weight-times 2)
  m=8 size=(--activation-bytes 4M --warmup 2 --iters 5)
  bytes=4M
  calibrate_size=(--sizes "1M,4M" --reps 10 --warmup 2)
  sweep_size=(-b "4,8" --activation-bytes 4M --warmup 2 --iters 5)
  preflight=("$root/launch/device/preflight.sh" "$root/.devpack")
fi
[[ $ppbench == /* ]] || ppbench=$PWD/$ppbench  # the steps run elsewhere
[[ $ppsim == /* ]] || ppsim=$PWD/$ppsim
results=$work/results/$gpu
rel=results/$gpu  # what the steps are given: they run in $work
cd "$work" || exit 2
mkdir -p "$results"
commands=$results/commands$suffix.txt
: > "$commands"
# shellcheck source=launch/device/steps.sh
source "$root/launch/device/steps.sh"

# --- pre-flight: nothing else runs when it refuses --------------------------------
step --always 60 preflight "${preflight[@]}"
cp "$work/step.txt" "$work/device.txt"
if [[ -n $env_refusal ]] || ((last_status != 0)); then
  refusal=${env_refusal:-$(grep -m 1 '^preflight: refused: ' "$work/step.txt" || tail -n 1 "$work/step.txt")}
  [[ -n $env_refusal ]] && echo "device-env (refused): $env_refusal" >> "$commands"
  pack
  echo "$me: ${refusal:-preflight: exit $last_status}: nothing else was run"
  exit 3
fi

# --- single-process GPU tests -------------------------------------------------------
if wanted tests; then
  if ((local_check)); then
    skip gpu-tests "--local"
  else
    mkdir -p "$results/tests"
    for t in gpu_kernels_test gpu_backend_test; do
      step 90 "$t" "$root/.devpack/$t" --gtest_output=xml:"$rel/tests/$t.xml"
    done
  fi
fi

# --- MPI runs -------------------------------------------------------------------------
launch=("$root/launch/one-gpu.sh" -np 4)
limits=(--timeout "$iteration_timeout" --setup-timeout "$setup_timeout")
common=(--backend "$backend" "${times[@]}" "${size[@]}" "${limits[@]}")  # and -b, given per run
# run [--mps] [VAR=VALUE...] NAME RANKS SCHEDULE M [ARG...]: one ppbench run
# through one-gpu.sh into results/<gpu>/NAME, with its ppsim arguments kept
# for the predictions.
declare -A predict_args
run() {
  local launcher=() vars=()
  [[ $1 == --mps ]] && { launcher=(--mps); shift; }
  while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
  local name=$1 ranks=$2 schedule=$3 m=$4
  shift 4
  rm -rf "${results:?}/$name"
  predict_args[$name]="-s $ranks --schedule $schedule -b $m"
  mpi_step 75 "$name" "${vars[@]}" "$root/launch/one-gpu.sh" "${launcher[@]}" -np "$ranks" \
    "$ppbench" --schedule "$schedule" -b "$m" "${common[@]}" "$@" --out "$rel/$name"
}
if wanted runs; then
  run NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,NET smoke-2ranks 2 1f1b 4
  run 1f1b 4 1f1b "$m"
fi
# Without MPS the four ranks' contexts time-slice the GPU; under MPS their
# kernels run side by side. Both are functional figures; the pair shows how
# much the sharing itself costs.
if wanted mps; then
  if ((local_check)); then
    skip 1f1b-mps "--local"
  elif ! command -v nvidia-cuda-mps-control > /dev/null; then
    skip 1f1b-mps "nvidia-cuda-mps-control not found"
  else
    run --mps 1f1b-mps 4 1f1b "$m"
  fi
fi
if wanted runs; then
  # W is given to every schedule: zb-h1 runs B and W apart, the others one
  # backward of B + W, as in the sweep and the calibration.
  for schedule in gpipe interleaved zb-h1; do
    run "$schedule" 4 "$schedule" "$m"
  done
fi
if wanted calibrate; then
  rm -f "$results/calibration.json"
  mpi_step 150 calibrate "${launch[@]}" "$ppbench" calibrate --backend "$backend" "${times[@]}" "${calibrate_size[@]}" \
    "${limits[@]}" --out "$rel/calibration.json"
  if [[ -f $results/calibration.json ]]; then
    run 1f1b-calibrated 4 1f1b "$m" --calibration "$rel/calibration.json"
  else
    skip 1f1b-calibrated "no calibration.json"
  fi
fi
if wanted tests && ! ((local_check)); then
  mpi_step --gtest 180 gpu_ppbench_test "$root/.devpack/gpu_ppbench_test" \
    --gtest_output=xml:"$rel/tests/gpu_ppbench_test.xml"
fi
if wanted sweep; then
  rm -rf "${results:?}/sweep"
  mpi_step 300 sweep "${launch[@]}" "$ppbench" sweep --schedule gpipe,1f1b,interleaved,zb-h1 --backend "$backend" \
    "${times[@]}" "${sweep_size[@]}" "${limits[@]}" --out "$rel/sweep"
fi

pack
echo "$me: wrote $out/results.tar.gz (results/$gpu/; commands in commands$suffix.txt, errors in errors$suffix.md, $((SECONDS)) s)"
