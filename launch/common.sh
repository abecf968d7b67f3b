# Shared by launch/demo.sh and launch/test.sh: install what is missing, then
# configure and build. Sourced, not run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${PPB_BUILD_DIR:-$repo/build}

# Debian packages the build and tests need. CUDA and NCCL are not among them:
# they come with the CUDA toolkit where a GPU build is wanted (/usr/local/cuda).
ppb_packages=(cmake ninja-build g++ pkg-config git nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenmpi-dev openmpi-bin libcairo2-dev
  fonts-dejavu-core libxml2-utils)  # chart text; xmllint checks the SVG output

ppb_install_missing() {
  local missing=()
  for p in "${ppb_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "launch: installing ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "launch: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# npm packages of the tests (tests/trace_load: Chrome DevTools' trace engine,
# which loads ppsim's Chrome trace). Skipped without Node; the test then skips.
ppb_install_npm_tools() {
  command -v npm >/dev/null || { echo "launch: npm not found: the trace loading test will be skipped"; return 0; }
  [[ -d $repo/tests/trace_load/node_modules/@paulirish/trace_engine ]] && return 0
  echo "launch: installing tests/trace_load npm packages"
  npm ci --prefix "$repo/tests/trace_load" --no-audit --no-fund --loglevel=error \
    || echo "launch: npm install failed: the trace loading test will be skipped"
}

ppb_configure_and_build() {
  cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
  cmake --build "$build_dir" -j "${PPB_JOBS:-2}"
}

# Open MPI refuses to run as root unless told that it is on purpose (CI, containers).
if [[ $(id -u) -eq 0 ]]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
