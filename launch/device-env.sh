# Source on the GPU machine, from the checkout's root, after
# launch/pack-for-device.sh packed .devpack/ here: puts the packed Open MPI and
# programs on PATH and NCCL (the machine's pip package, when present) on
# LD_LIBRARY_PATH. The programs link the CUDA runtime statically.
ppb_devpack=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.devpack
if [[ ! -f $ppb_devpack/ompi/env.sh ]]; then
  echo "device-env.sh: $ppb_devpack/ompi/env.sh missing: run launch/pack-for-device.sh on the build machine" >&2
  return 2 2>/dev/null || exit 2
fi
source "$ppb_devpack/ompi/env.sh"
export PATH=$ppb_devpack:$PATH
ppb_nccl_dir=$(python3 -c "import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__))" 2>/dev/null || true)
if [[ -n $ppb_nccl_dir ]]; then
  export LD_LIBRARY_PATH=$ppb_nccl_dir/lib:$LD_LIBRARY_PATH
fi
echo "device-env.sh: Open MPI from $ppb_devpack/ompi, NCCL from ${ppb_nccl_dir:-the system}; GPUs:"
nvidia-smi -L 2>/dev/null || echo "  (nvidia-smi not found)"
