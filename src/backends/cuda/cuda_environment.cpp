// Built in every configuration (no CUDA header): ppbench calls it before MPI_Init.
#include <cstdlib>

#include "backends/cuda/cuda_backend.h"

namespace ppb {

void set_cuda_environment_defaults() {
  ::setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", /*overwrite=*/0);
  // Overrides the user's: with implicit launch order (NCCL 2.26+) NCCL orders
  // the kernels of all communicators on a device by host launch order, which
  // ties every link to the others again; ranks issue their links in different
  // orders on purpose, so that would deadlock (docs/gpu.md).
  ::setenv("NCCL_LAUNCH_ORDER_IMPLICIT", "0", /*overwrite=*/1);
}

}  // namespace ppb
