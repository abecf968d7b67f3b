// The environment ppbench sets before MPI_Init for the CUDA backend: the
// user's CUDA_DEVICE_MAX_CONNECTIONS is kept, NCCL's implicit launch order is
// always turned off (it would tie the independent links together).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "backends/cuda/cuda_backend.h"

namespace ppb {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "<unset>";
}

TEST(CudaEnvironment, DefaultsFillWhatIsUnsetAndImplicitLaunchOrderIsAlwaysOff) {
  ::unsetenv("CUDA_DEVICE_MAX_CONNECTIONS");
  ::setenv("NCCL_LAUNCH_ORDER_IMPLICIT", "1", 1);
  set_cuda_environment_defaults();
  EXPECT_EQ(env("CUDA_DEVICE_MAX_CONNECTIONS"), "32");
  EXPECT_EQ(env("NCCL_LAUNCH_ORDER_IMPLICIT"), "0");

  ::setenv("CUDA_DEVICE_MAX_CONNECTIONS", "16", 1);  // e.g. one-gpu.sh --mps
  ::unsetenv("NCCL_LAUNCH_ORDER_IMPLICIT");
  set_cuda_environment_defaults();
  EXPECT_EQ(env("CUDA_DEVICE_MAX_CONNECTIONS"), "16");
  EXPECT_EQ(env("NCCL_LAUNCH_ORDER_IMPLICIT"), "0");
}

}  // namespace
}  // namespace ppb
