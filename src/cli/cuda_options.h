// The CUDA backend's flags, registered on ppbench's command line whether or
// not CUDA was built (so scripts and configs stay valid everywhere).
#pragma once

#include <CLI/CLI.hpp>

#include "backends/cuda/cuda_options.h"

namespace ppb {

// Registers --kernel (spin|compute|memory), --sm-share (0,1] and --no-nvtx.
// Bad values fail parsing with one line naming the flag (exit 2 through
// parse_command_line).
void add_cuda_backend_options(CLI::App& app, CudaBackendOptions& options);

}  // namespace ppb
