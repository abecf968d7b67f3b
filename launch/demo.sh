#!/usr/bin/env bash
# The main job on this machine: install what is missing, build, simulate 1F1B
# on 4 stages and 8 microbatches, then run the same schedule for real on 4 MPI
# ranks (the CPU backend where no GPU is visible) and compare the two.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ppb_install_missing
ppb_configure_and_build
"$build_dir/src/ppsim" --schedule 1f1b --num-stages 4 --num-batches 8 -f 1 --backward-times 2
echo
# --oversubscribe: 4 ranks on a host with fewer cores (the CPU backend sleeps
# through most of each op, so the timings hold). The run directory goes under runs/.
cd "$repo"
mpirun -np 4 --oversubscribe "$build_dir/src/ppbench" --schedule 1f1b
