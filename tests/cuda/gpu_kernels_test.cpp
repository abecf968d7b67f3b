// Stage kernels on a real GPU: a calibrated kernel of each kind lasts about
// its target (generous bounds: shared GPUs and MPS make timings noisy), and
// the timestamp kernel reads a running nanosecond clock. Skipped without a device.
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_check.h"
#include "launch_slack.h"
#include "backends/cuda/stage_kernel.h"
#include "stage_kernels.h"

namespace ppb {
namespace {

using test::kLaunchSlackUs;

#define SKIP_WITHOUT_GPU() \
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device"

int sm_count() {
  int n = 0;
  CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0));
  return n;
}

TEST(GpuKernels, BlocksForShare) {
  // Plain arithmetic, but it lives in the CUDA library: runs without a device.
  EXPECT_EQ(kernels::blocks_for_share(132, 1.0), 132);
  EXPECT_EQ(kernels::blocks_for_share(132, 0.5), 66);
  EXPECT_EQ(kernels::blocks_for_share(132, 0.3), 40);  // ceil(39.6)
  EXPECT_EQ(kernels::blocks_for_share(132, 0.001), 1);
}

class CalibratedKernel : public ::testing::TestWithParam<const char*> {};

TEST_P(CalibratedKernel, LastsAboutItsTarget) {
  SKIP_WITHOUT_GPU();
  CUDA_CHECK(cudaSetDevice(0));
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  {
    CudaBackendOptions o;
    o.kernel = GetParam();
    cuda::StageKernel k(o, sm_count(), 50u << 20);
    k.calibrate(stream);
    EXPECT_GT(k.units_per_us(), 0.0);
    for (double target : {200.0, 2000.0}) {
      const double t = k.time_units_us(stream, k.units_for(target));
      EXPECT_GT(t, 0.75 * target) << GetParam() << " target " << target;
      EXPECT_LT(t, 1.25 * target + kLaunchSlackUs) << GetParam() << " target " << target;
    }
    EXPECT_EQ(k.units_for(0.0), 0u);
  }
  CUDA_CHECK(cudaStreamDestroy(stream));
}

INSTANTIATE_TEST_SUITE_P(Kinds, CalibratedKernel, ::testing::Values("spin", "compute", "memory"));

TEST(GpuKernels, SpinOnAShareOfTheSmsStillTakesItsTime) {
  SKIP_WITHOUT_GPU();
  CUDA_CHECK(cudaSetDevice(0));
  CudaBackendOptions o;
  o.sm_share = 0.25;
  cuda::StageKernel k(o, sm_count(), 0);
  EXPECT_EQ(k.blocks(), kernels::blocks_for_share(sm_count(), 0.25));
  k.time_units_us(nullptr, 0);  // lazy loading: the first launch loads the module, not a measurement
  const double t = k.time_units_us(nullptr, 1'000'000);  // 1 ms
  EXPECT_GT(t, 990.0);
  EXPECT_LT(t, 1300.0 + kLaunchSlackUs - 20.0);
}

TEST(GpuKernels, TimestampKernelReadsARunningNanosecondClock) {
  SKIP_WITHOUT_GPU();
  CUDA_CHECK(cudaSetDevice(0));
  std::uint64_t* d = nullptr;
  CUDA_CHECK(cudaMalloc(&d, 2 * sizeof(std::uint64_t)));
  std::uint64_t h[2] = {0, 0};
  KERNEL_CHECK(kernels::launch_timestamp(nullptr, d));
  CUDA_CHECK(cudaDeviceSynchronize());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  KERNEL_CHECK(kernels::launch_timestamp(nullptr, d + 1));
  CUDA_CHECK(cudaMemcpy(h, d, sizeof(h), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaFree(d));
  const double elapsed_ms = double(h[1] - h[0]) / 1e6;
  EXPECT_GT(elapsed_ms, 4.5);
  EXPECT_LT(elapsed_ms, 100.0);
}

}  // namespace
}  // namespace ppb
