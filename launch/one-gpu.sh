#!/usr/bin/env bash
# Several ranks on one GPU, for development: every rank gets its own NCCL
# host id (NCCL refuses two ranks of one communicator on one GPU otherwise),
# NCCL is forced onto the socket transport over loopback, and the run is
# labelled "functional" (PPB_RUN_LABEL): its timings show that the harness
# works, not what a pipeline on separate GPUs would achieve. docs/gpu.md.
#
# usage: launch/one-gpu.sh [--mps] [--sm-share F] [--dry-run] -np N PROGRAM [ARGS...]
#   --mps         start the MPS control daemon for the run (stopped after), so
#                 the ranks' kernels run side by side instead of time-sliced
#   --sm-share F  with --mps: each rank's CUDA_MPS_ACTIVE_THREAD_PERCENTAGE = 100*F
#   --dry-run     print the mpirun command and each rank's environment, run nothing
# MPIRUN overrides the launcher (default mpirun); extra mpirun flags go in MPIRUN_FLAGS.
set -euo pipefail
self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# Per-rank environment: the part that differs between ranks.
rank_env() {  # rank mps share
  local rank=$1 mps=$2 share=$3
  echo "NCCL_HOSTID=ppb-one-gpu-rank-$rank"
  if [[ $mps == 1 && -n $share ]]; then
    awk -v s="$share" 'BEGIN { p = int(s * 100 + 0.5); if (p < 1) p = 1; print "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=" p }'
  fi
}

# Rank mode: run by mpirun once per rank, sets the per-rank variables, then execs.
if [[ ${1:-} == --rank-exec ]]; then
  shift
  rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${SLURM_PROCID:-}}}
  [[ -n $rank ]] || { echo "one-gpu.sh: --rank-exec: no OMPI_COMM_WORLD_RANK, PMIX_RANK or SLURM_PROCID" >&2; exit 2; }
  while IFS= read -r kv; do export "${kv?}"; done < <(rank_env "$rank" "${PPB_ONE_GPU_MPS:-0}" "${PPB_ONE_GPU_SM_SHARE:-}")
  exec "$@"
fi

np="" mps=0 share="" dry=0
while (($#)); do
  case $1 in
    -np|-n) np=${2:-}; shift 2 ;;
    --mps) mps=1; shift ;;
    --sm-share) share=${2:-}; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,14p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "one-gpu.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $np =~ ^[1-9][0-9]*$ ]] || { echo "one-gpu.sh: -np: expected a positive rank count, got '${np}'" >&2; exit 2; }
(($#)) || { echo "one-gpu.sh: no program to run" >&2; exit 2; }
if [[ -n $share ]]; then
  awk -v s="$share" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 1 && s ~ /^[0-9.]+$/) }' \
    || { echo "one-gpu.sh: --sm-share: must be in (0, 1], got '$share'" >&2; exit 2; }
  ((mps)) || echo "one-gpu.sh: --sm-share without --mps: no SM limit is applied (pass the program its own --sm-share)" >&2
fi

# The same for every rank.
common=(NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_NET=Socket NCCL_SOCKET_IFNAME=lo PPB_RUN_LABEL=functional
        PPB_ONE_GPU_MPS=$mps PPB_ONE_GPU_SM_SHARE=$share)
# Under MPS, clients asking for 32 hardware queues each (ppbench's default) can
# exhaust the server's shared pool; 16 still gives every stream of a rank
# (compute, one per link, NCCL's own) a queue of its own.
((mps)) && common+=("CUDA_DEVICE_MAX_CONNECTIONS=${CUDA_DEVICE_MAX_CONNECTIONS:-16}")
build_command() {
  mpirun_cmd=(${MPIRUN:-mpirun} -np "$np" --oversubscribe --bind-to none ${MPIRUN_FLAGS:-})
  for kv in "${common[@]}"; do mpirun_cmd+=(-x "$kv"); done
  mpirun_cmd+=("$self" --rank-exec "$@")
}

if ((dry)); then
  build_command "$@"
  echo "command: ${mpirun_cmd[*]}"
  echo "all ranks: ${common[*]}"
  for ((r = 0; r < np; ++r)); do echo "rank $r: $(rank_env "$r" "$mps" "$share" | tr '\n' ' ')$*"; done
  if ((mps)); then
    echo "mps: nvidia-cuda-mps-control -d with CUDA_MPS_PIPE_DIRECTORY and CUDA_MPS_LOG_DIRECTORY in a temp dir; quit after the run"
  fi
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# A GPU in exclusive-process mode takes one context: every rank but the first
# would fail at its first CUDA call. Only MPS (one server context) shares it.
# (The first GPU nvidia-smi lists: the one the ranks use unless
# CUDA_VISIBLE_DEVICES says otherwise.) Where nvidia-smi fails, CUDA will say why.
if command -v nvidia-smi > /dev/null; then
  mode=$(nvidia-smi --query-gpu=compute_mode --format=csv,noheader 2>/dev/null | head -1) || mode=""
  case $mode in
    "" | Default) ;;
    Exclusive_Process)
      ((mps)) || { echo "one-gpu.sh: the GPU's compute mode is Exclusive_Process: one rank at a time; use --mps" >&2; exit 2; } ;;
    *) echo "one-gpu.sh: the GPU's compute mode is $mode: its ranks cannot share it" >&2; exit 2 ;;
  esac
fi
if ((mps)); then
  command -v nvidia-cuda-mps-control >/dev/null || { echo "one-gpu.sh: --mps: nvidia-cuda-mps-control not found" >&2; exit 2; }
  mps_dir=$(mktemp -d)
  export CUDA_MPS_PIPE_DIRECTORY=$mps_dir/pipe CUDA_MPS_LOG_DIRECTORY=$mps_dir/log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  # The daemon outlives this script unless told to quit. The traps come first,
  # so a signal during the start cannot leave it running, and a signal ends
  # the script through `exit`, so the quit has finished before the script has:
  # a caller that kills it (device-run.sh's time limit) finds the daemon gone.
  trap 'echo quit | nvidia-cuda-mps-control; rm -rf "$mps_dir"' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  nvidia-cuda-mps-control -d
  common+=("CUDA_MPS_PIPE_DIRECTORY=$CUDA_MPS_PIPE_DIRECTORY" "CUDA_MPS_LOG_DIRECTORY=$CUDA_MPS_LOG_DIRECTORY")
fi
build_command "$@"
echo "one-gpu.sh: $np ranks on one GPU$( ((mps)) && echo " under MPS")${share:+, SM share $share}: functional figures, not performance" >&2
status=0
"${mpirun_cmd[@]}" || status=$?
# Clients that cannot reach the MPS server run without it, silently: say so,
# or the figures would pass for MPS ones.
if ((mps)) && [[ -z $(echo get_server_list | nvidia-cuda-mps-control 2>/dev/null) ]]; then
  echo "one-gpu.sh: --mps: no MPS server ran: the ranks were time-sliced, not under MPS" >&2
fi
exit "$status"
