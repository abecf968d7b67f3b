# shellcheck shell=bash
# Source (bash) on the GPU machine, from the checkout's root, after carrying
# .devpack/ (launch/device/pack-for-device.sh): puts the packed Open MPI and
# programs first on PATH, and the pack's libraries and the device's NCCL on
# LD_LIBRARY_PATH. Exports PPB_SOURCE_DIR and PPB_PPBENCH for the packed
# gpu_ppbench_test, whose compiled-in paths are the build machine's, and
# PPB_NCCL_LIB, the folder libnccl.so.2 loads from.
#
# NCCL: PPB_NCCL_LIB when set (a folder holding libnccl.so.2), else the pip
# package nvidia-nccl-* (asked of python3, then of /opt/*/.venv/bin/python3),
# else the system's (ldconfig). The packed programs carry no RPATH, so the
# folder put first here is the one that loads.
#
# python3 is asked before anything of the pack is set, and must never run
# with this environment: the pack's libraries (Debian 12's) would shadow the
# ones python3 was built against, and it may not start. Run Python in the
# caller's environment (launch/device/device-run.sh keeps it for itself and
# gives this one to its steps only).
ppb_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ppb_devpack=$ppb_root/.devpack
if [[ ! -f $ppb_devpack/ompi/env.sh ]]; then
  echo "device-env.sh: $ppb_devpack/ompi/env.sh missing: run launch/device/pack-for-device.sh on the build machine and carry .devpack" >&2
  return 2 2>/dev/null || exit 2
fi
if [[ -n ${PPB_NCCL_LIB:-} ]]; then
  ppb_nccl_from="PPB_NCCL_LIB"
else
  # python3 on PATH first, then the GPU image's virtual environments (a
  # non-interactive shell may not have one activated).
  for ppb_python in python3 /opt/*/.venv/bin/python3; do
    command -v "$ppb_python" > /dev/null || continue
    # nvidia.nccl is a namespace package (no __init__.py): __file__ is None, __path__ holds the folder.
    PPB_NCCL_LIB=$("$ppb_python" -c "import nvidia.nccl as m; print(list(m.__path__)[0] + '/lib')" 2>/dev/null || true)
    ppb_nccl_from="the pip package nvidia-nccl ($ppb_python)"
    [[ -n $PPB_NCCL_LIB ]] && break
  done
fi
if [[ -n $PPB_NCCL_LIB && -f $PPB_NCCL_LIB/libnccl.so.2 ]]; then
  export PPB_NCCL_LIB
elif ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
  unset PPB_NCCL_LIB
  ppb_nccl_from="the system (ldconfig)"
else
  echo "device-env.sh: libnccl.so.2 not found (${PPB_NCCL_LIB:+not in $PPB_NCCL_LIB; }no pip package nvidia-nccl-*, nothing in ldconfig): the programs will not start" >&2
  return 2 2>/dev/null || exit 2
fi
source "$ppb_devpack/ompi/env.sh"
export PATH=$ppb_devpack:$PATH
[[ -n ${PPB_NCCL_LIB:-} ]] && export LD_LIBRARY_PATH=$PPB_NCCL_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PPB_SOURCE_DIR=$ppb_root PPB_PPBENCH=$ppb_devpack/ppbench
echo "device-env.sh: Open MPI from $ppb_devpack/ompi, NCCL from ${PPB_NCCL_LIB:-the system} ($ppb_nccl_from)"
