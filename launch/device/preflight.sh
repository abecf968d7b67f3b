#!/usr/bin/env bash
# The first thing run on a lent GPU machine, in the pack's environment
# (launch/device/device-env.sh): seconds of checks that decide whether
# anything after them can run. Prints what it finds on standard output (the
# device's facts: launch/device/device-run.sh keeps them as device.txt), then
# either "preflight: ok" or one line on standard error saying what cannot
# work, and exits 2:
#   - glibc: the device's against the newest GLIBC_ symbol version a packed
#     file needs (manifest.txt, found by objdump when packing);
#   - ldd of every packed program, library and plugin: a library or symbol
#     version "not found";
#   - which libnccl.so.2 the programs will load;
#   - nvidia-smi: a GPU, its compute capability against the architectures the
#     programs were built for, the driver's CUDA version against the
#     toolkit's, a compute mode that lets ranks share it; MPS present or not;
#   - mpirun -np 2 true with the packed Open MPI.
#
# usage: launch/device/preflight.sh PACK_DIR
#        launch/device/preflight.sh --local PROGRAM...
#   --local (launch/device/device-run.sh --local, no GPU): the same facts, and
#   only the ldd and mpirun checks, of the given programs.
set -uo pipefail
me=preflight
refuse() { echo "$me: refused: $*" >&2; exit 2; }

local_check=0 pack=
if [[ ${1:-} == --local ]]; then
  local_check=1
  shift
  elves=("$@")
else
  pack=${1:-}
  [[ -n $pack ]] || refuse "usage: preflight.sh PACK_DIR | --local PROGRAM..."
fi
manifest() { sed -n "s/^$1: //p" "$pack/manifest.txt" 2> /dev/null | head -n 1; }

# The facts, first, so that a refusal still brings them back.
echo "date: $(date -u +%FT%TZ)"
echo "host: $(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
echo "os: $( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || echo unknown), kernel $(uname -r), $(nproc) cores"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{ print $2 }')
[[ -n $glibc ]] || glibc=$(ldd --version 2>/dev/null | head -n 1 | awk '{ print $NF }')
echo "glibc: ${glibc:-unknown}"
echo "shared memory: $(df -h /dev/shm 2>/dev/null | awk 'NR == 2 { print $2 " (" $4 " free)" }')"
((local_check)) || sed 's/^/pack: /' "$pack/manifest.txt" 2> /dev/null
echo "library path: ${LD_LIBRARY_PATH:-}"
echo "mpirun: $(command -v mpirun || echo absent) $(mpirun --version 2>/dev/null | head -n 1)"
gpu_names='' gpu_ok=0
if ! ((local_check)); then
  if gpu_names=$(nvidia-smi -L 2>&1) && [[ -n $gpu_names ]]; then
    gpu_ok=1
    echo "$gpu_names" | sed 's/^/gpu: /'
    nvidia-smi --query-gpu=name,driver_version,compute_cap,compute_mode,clocks.max.sm,memory.total,memory.used \
      --format=csv 2>&1 | sed 's/^/gpu: /'
    echo "driver: $(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -n 1)"
    echo "gpu processes: $(nvidia-smi --query-compute-apps=pid,process_name --format=csv,noheader 2>/dev/null | tr '\n' ';')"
  else
    echo "gpu: nvidia-smi -L failed: $gpu_names"
  fi
  echo "mps control: $(command -v nvidia-cuda-mps-control || echo absent)"
fi

# The checks, cheapest first; the first that fails is the one line.
if ! ((local_check)); then
  [[ -f $pack/manifest.txt ]] || refuse "$pack/manifest.txt missing: run launch/device/pack-for-device.sh and carry .devpack"
  mapfile -t elves < <(find "$pack" -type f \( -name '*.so*' -o -perm -u+x \) | sort)
  needed=$(manifest glibc_needed)
  if [[ -n $needed && -n $glibc ]]; then
    lowest=$(printf '%s\n' "${needed%% *}" "$glibc" | sort -V | head -n 1)
    [[ $lowest == "${needed%% *}" ]] \
      || refuse "this machine's glibc is $glibc; the pack needs $needed (its newest GLIBC_ symbol version): pack on a machine whose glibc is no newer than $glibc"
  fi
fi
if ((local_check)); then
  for p in "${elves[@]}"; do [[ -x $p ]] || refuse "$p: no such program"; done
fi
broken=()
for elf in "${elves[@]}"; do
  while IFS= read -r line; do
    broken+=("${elf##*/}: $(echo "$line" | sed 's/^[[:space:]]*//; s/ (0x[0-9a-f]*)$//')")
  done < <(ldd "$elf" 2>&1 | grep 'not found')
done
for b in "${broken[@]}"; do echo "ldd: $b"; done
((${#broken[@]} == 0)) || refuse "${broken[0]}$( ((${#broken[@]} > 1)) && echo " (and $((${#broken[@]} - 1)) more, listed in device.txt)")"
if ! ((local_check)); then
  nccl=$(ldd "$pack/ppbench" 2>/dev/null | awk '$1 == "libnccl.so.2" { print $3 }')
  echo "libnccl.so.2: $nccl -> $(readlink -f "$nccl")"
  ((gpu_ok)) || refuse "nvidia-smi -L: ${gpu_names:-lists no GPU}"
  built_for=$(manifest cuda_architectures)
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
  if [[ -n $built_for && $cap =~ ^[0-9]+$ && " ${built_for//;/ } " != *" $cap "* ]]; then
    refuse "the GPU's compute capability is ${cap:0:-1}.${cap: -1}; the programs were built for ${built_for} (PPB_CUDA_ARCHITECTURES=$cap launch/device/pack-for-device.sh)"
  fi
  toolkit=$(manifest cuda_toolkit)
  supports=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -n 1 | awk '{ print $3 }')
  if [[ -n $toolkit && -n $supports ]] && ((${supports%%.*} < ${toolkit%%.*})); then
    refuse "the driver supports CUDA $supports; the programs were built with CUDA $toolkit"
  fi
  mode=$(nvidia-smi --query-gpu=compute_mode --format=csv,noheader 2>/dev/null | head -n 1)
  [[ $mode == Prohibited ]] && refuse "the GPU's compute mode is Prohibited: no process may use it"
fi
if ! mpi=$(timeout 30 mpirun -np 2 --oversubscribe true 2>&1); then
  refuse "mpirun -np 2 true failed: $(echo "$mpi" | grep -v '^-*$' | head -n 3 | tr '\n' ' ')"
fi
echo "$me: ok"
