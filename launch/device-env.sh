# Source on the GPU machine, from the checkout's root, after
# launch/pack-for-device.sh packed .devpack/ here: puts the packed Open MPI and
# programs on PATH and NCCL (the machine's pip package, when present) on
# LD_LIBRARY_PATH. The programs link the CUDA runtime statically.
# Exports PPB_SOURCE_DIR and PPB_PPBENCH for the packed gpu_ppbench_test,
# whose compiled-in paths are the build machine's.
ppb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ppb_devpack=$ppb_root/.devpack
if [[ ! -f $ppb_devpack/ompi/env.sh ]]; then
  echo "device-env.sh: $ppb_devpack/ompi/env.sh missing: run launch/pack-for-device.sh on the build machine" >&2
  return 2 2>/dev/null || exit 2
fi
source "$ppb_devpack/ompi/env.sh"
export PATH=$ppb_devpack:$PATH
export PPB_SOURCE_DIR=$ppb_root PPB_PPBENCH=$ppb_devpack/ppbench
# Open MPI's single-copy shared memory (CMA, process_vm_readv) fails in
# sandboxes that restrict ptrace; plain copies cost nothing at these sizes.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# nvidia.nccl is a namespace package (no __init__.py): __file__ is None, __path__ holds the folder.
ppb_nccl_dir=$(python3 -c "import nvidia.nccl as m; print(list(m.__path__)[0])" 2>/dev/null || true)
if [[ -n $ppb_nccl_dir && -f $ppb_nccl_dir/lib/libnccl.so.2 ]]; then
  export LD_LIBRARY_PATH=$ppb_nccl_dir/lib:$LD_LIBRARY_PATH
elif ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
  ppb_nccl_dir="the system (ldconfig)"
else
  echo "device-env.sh: libnccl.so.2 not found (no pip package nvidia-nccl-*, nothing in ldconfig): the programs will not start" >&2
  return 2 2>/dev/null || exit 2
fi
echo "device-env.sh: Open MPI from $ppb_devpack/ompi, NCCL from $ppb_nccl_dir; GPUs:"
nvidia-smi -L 2>/dev/null || echo "  (nvidia-smi not found)"
