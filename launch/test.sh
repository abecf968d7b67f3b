#!/usr/bin/env bash
# The README's test command: install what is missing, build, run every test.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ppb_install_missing
ppb_install_npm_tools
ppb_configure_and_build
ctest --test-dir "$build_dir" --output-on-failure -j "${PPB_JOBS:-2}" "$@"
