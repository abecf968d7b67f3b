#!/usr/bin/env bash
# ppbench across nodes with mpirun and a hostfile (launch/hosts.example): one
# rank per GPU; each rank takes GPU local_rank % GPUs on its node.
# usage: launch/multi-node.sh HOSTFILE GPUS_PER_NODE [--dry-run] PROGRAM [ARGS...]
# Exports NCCL_* and PPB_* variables of the caller to every rank (set
# NCCL_SOCKET_IFNAME / NCCL_IB_HCA for your fabric). MPIRUN overrides mpirun.
set -euo pipefail
hostfile=${1:?usage: multi-node.sh HOSTFILE GPUS_PER_NODE [--dry-run] PROGRAM [ARGS...]}
per_node=${2:?usage: multi-node.sh HOSTFILE GPUS_PER_NODE [--dry-run] PROGRAM [ARGS...]}
shift 2
dry=0
if [[ ${1:-} == --dry-run ]]; then dry=1; shift; fi
[[ -r $hostfile ]] || { echo "multi-node.sh: $hostfile: cannot read the hostfile" >&2; exit 2; }
[[ $per_node =~ ^[1-9][0-9]*$ ]] || { echo "multi-node.sh: GPUS_PER_NODE: expected a positive count, got '$per_node'" >&2; exit 2; }
(($#)) || { echo "multi-node.sh: no program to run" >&2; exit 2; }
nodes=$(grep -cEv '^\s*(#|$)' "$hostfile")
cmd=(${MPIRUN:-mpirun} --hostfile "$hostfile" -np $((nodes * per_node)) --map-by "ppr:$per_node:node" --bind-to none
     -x LD_LIBRARY_PATH -x PATH)
while IFS='=' read -r name _; do cmd+=(-x "$name"); done < <(env | grep -E '^(NCCL|PPB)_' || true)
cmd+=("$@")
if ((dry)); then echo "${cmd[*]}"; exit 0; fi
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
exec "${cmd[@]}"
