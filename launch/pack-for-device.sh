#!/usr/bin/env bash
# Development only: pack built programs and this machine's Open MPI into
# .devpack/ (ignored by git) for a GPU machine that has CUDA but no Open MPI
# (/work/shared/device/README.md). Builds nothing: build with CUDA first, e.g.
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 && cmake --build build
# usage: launch/pack-for-device.sh [BUILD_DIR] [EXTRA_PROGRAM...]
# PPB_DEVICE_TOOLS is the folder with pack-openmpi.sh (default ../shared/device
# beside the checkout). Then on the GPU machine: source launch/device-env.sh
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build}
shift || true
tools=${PPB_DEVICE_TOOLS:-$repo/../shared/device}
[[ -x $tools/pack-openmpi.sh ]] || { echo "pack-for-device.sh: $tools/pack-openmpi.sh not found (set PPB_DEVICE_TOOLS)" >&2; exit 2; }
[[ -d $build ]] || { echo "pack-for-device.sh: $build: no build directory" >&2; exit 2; }
programs=()
for p in "$build/src/ppbench" "$build/src/ppsim" "$build"/tests/cuda/gpu_*_test "$@"; do
  [[ -f $p && -x $p ]] && programs+=("$p")
done
((${#programs[@]})) || { echo "pack-for-device.sh: no built programs in $build" >&2; exit 2; }
grep -qx '/.devpack/' "$repo/.git/info/exclude" 2>/dev/null || grep -qx '/.devpack/' "$repo/.gitignore" \
  || echo /.devpack/ >> "$(git -C "$repo" rev-parse --git-path info/exclude)"
rm -rf "$repo/.devpack"
mkdir -p "$repo/.devpack"
"$tools/pack-openmpi.sh" "$repo/.devpack/ompi" "${programs[@]}"
cp "${programs[@]}" "$repo/.devpack/"
echo "pack-for-device.sh: packed ${programs[*]##*/} into .devpack/ (carry .devpack; there: source launch/device-env.sh)"
