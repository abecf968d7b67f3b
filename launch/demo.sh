#!/usr/bin/env bash
# The main job on this machine: install what is missing, build, then simulate
# 1F1B on 4 stages and 8 microbatches and print the timeline and metrics.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ppb_install_missing
ppb_configure_and_build
"$build_dir/src/ppsim" --schedule 1f1b --num-stages 4 --num-batches 8 -f 1 --backward-times 2
