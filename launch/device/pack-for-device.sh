#!/usr/bin/env bash
# Builds the GPU programs here and packs them, with this machine's Open MPI,
# into .devpack/ (git-ignored), for a lent GPU machine that has CUDA, a driver
# and NCCL but no Open MPI and no compiler toolchain for this project
# (docs/gpu.md, "Measuring on a borrowed GPU machine").
#
# usage: launch/device/pack-for-device.sh [--from BUILD_DIR]
#   By default it configures its own build, build-devpack/: CUDA, NCCL and MPI
#   ON (a missing one stops the configuration instead of falling back to the
#   CPU-only stub), cairo OFF (pictures are drawn here, and without it the pack
#   needs no fontconfig, expat or X11), CUDA architectures 90 (Hopper; set
#   PPB_CUDA_ARCHITECTURES for others) and no RPATH, so that LD_LIBRARY_PATH
#   alone decides which libnccl.so.2 loads (launch/device/device-env.sh puts
#   the device's first); then builds ppbench, ppsim and the GPU tests.
#   --from packs the programs of a build made by hand instead; they are checked
#   the same way.
# Refuses (exit 2, one line) unless ppbench links libnccl.so.2, no program
# carries an RPATH or RUNPATH, and the three GPU test programs exist.
# Then: carry .devpack to the GPU machine and run launch/device/device-run.sh.
set -euo pipefail
me="pack-for-device.sh"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
fail() { echo "$me: $*" >&2; exit 2; }

build=
case ${1:-} in
  "") ;;
  --from) build=${2:-}; [[ -n $build && $# -eq 2 ]] || fail "--from: give one build folder" ;;
  *) fail "unknown argument '$1' (usage: $me [--from BUILD_DIR])" ;;
esac
for tool in readelf objdump ldd; do
  command -v "$tool" > /dev/null || fail "$tool not found (binutils, libc-bin)"
done

if [[ -z $build ]]; then
  build=$repo/build-devpack
  mkdir -p "$build"
  launchers=()
  command -v ccache > /dev/null && launchers=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DPPB_ENABLE_CUDA=ON -DPPB_ENABLE_MPI=ON -DPPB_ENABLE_CAIRO=OFF \
    -DCMAKE_CUDA_ARCHITECTURES="${PPB_CUDA_ARCHITECTURES:-90}" -DCMAKE_SKIP_RPATH=ON \
    -DPPB_BUILD_TESTS=ON -DPPB_BUILD_BENCHMARKS=OFF "${launchers[@]}" > "$build/configure.log" 2>&1 \
    || { tail -n 20 "$build/configure.log" >&2; fail "configuring $build with CUDA, NCCL and MPI failed (above; whole log in $build/configure.log)"; }
  cmake --build "$build" -j "${PPB_JOBS:-2}" --target ppbench ppsim gpu_kernels_test gpu_backend_test gpu_ppbench_test \
    || fail "building in $build failed"
fi
[[ -d $build ]] || fail "--from: $build: no such folder"
build=$(cd "$build" && pwd)

# The checks, on the programs themselves: a configuration can say CUDA while
# the binary is another build's.
programs=("$build/src/ppbench" "$build/src/ppsim")
for t in gpu_kernels_test gpu_backend_test gpu_ppbench_test; do programs+=("$build/tests/cuda/$t"); done
for p in "${programs[@]}"; do
  [[ -x $p ]] || fail "$p: missing: a build without CUDA, NCCL or MPI has no GPU tests (configure with PPB_ENABLE_CUDA=ON)"
done
readelf -d "$build/src/ppbench" | grep -q 'Shared library: \[libnccl\.so\.2\]' \
  || fail "$build/src/ppbench does not link libnccl.so.2: built without the CUDA backend (configure with PPB_ENABLE_CUDA=ON)"
for p in "${programs[@]}"; do
  paths=$(readelf -d "$p" | sed -n 's/.*(\(RPATH\|RUNPATH\)).*\[\(.*\)\]/\2/p')
  [[ -z $paths ]] || fail "$p has the library path $paths built in: it could load another libnccl.so.2 than the device's (configure with CMAKE_SKIP_RPATH=ON)"
done

pack=$repo/.devpack
rm -rf "$pack"
mkdir -p "$pack"
"$here/pack-openmpi.sh" "$pack/ompi" "${programs[@]}"
cp "${programs[@]}" "$pack/"

# The newest glibc symbol version any packed file needs: the pre-flight on
# the device compares it with the device's glibc (objdump may be missing there).
needed=0 needed_by=
while IFS= read -r -d '' f; do
  v=$(objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1 || true)
  if [[ -n $v && $(printf '%s\n' "$needed" "$v" | sort -V | tail -n 1) != "$needed" ]]; then
    needed=$v needed_by=${f#"$pack"/}
  fi
done < <(find "$pack" -type f \( -name '*.so*' -o -perm -u+x \) -print0)
{
  echo "glibc_needed: $needed $needed_by"
  echo "built: $(date -u +%FT%TZ) on $(hostname) ($(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"), glibc $(getconf GNU_LIBC_VERSION | cut -d' ' -f2))"
  sed -n 's/^CMAKE_CUDA_ARCHITECTURES:[A-Z]*=/cuda_architectures: /p' "$build/CMakeCache.txt" 2> /dev/null || true
  cat "$build"/CMakeFiles/*/CMakeCUDACompiler.cmake 2> /dev/null |
    sed -n 's/^set(CMAKE_CUDA_COMPILER_VERSION "\(.*\)")/cuda_toolkit: \1/p' | head -n 1 || true
  echo "source: $(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
  echo "build: $build"
  echo "programs: ${programs[*]##*/}"
} > "$pack/manifest.txt"
echo "$me: $(du -sh "$pack" | cut -f1) in .devpack (${programs[*]##*/}, Open MPI; needs glibc >= $needed); carry .devpack and run launch/device/device-run.sh there"
