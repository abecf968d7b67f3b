// Built in every configuration (no CUDA header): ppbench calls it before MPI_Init.
#include <cstdlib>

#include "backends/cuda/cuda_backend.h"

namespace ppb {

void set_cuda_environment_defaults() { ::setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", /*overwrite=*/0); }

}  // namespace ppb
