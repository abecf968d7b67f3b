// One ppbench run on every rank: agree on the input, pick the backend, align
// the clocks, run warm-up and measured iterations under a watchdog, and let
// rank 0 compare, write and print. Returns the exit code, the same on every rank.
#pragma once

#include <string>
#include <vector>

#include "apps/ppbench_options.h"
#include "runtime/mpi_world.h"

namespace ppb {

int run_ppbench(PpbenchOptions options, const std::vector<std::string>& argv, MpiWorld& world);

}  // namespace ppb
