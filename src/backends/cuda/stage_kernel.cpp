#include "backends/cuda/stage_kernel.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backends/cuda/cuda_check.h"
#include "core/errors.h"
#include "stage_kernels.h"

namespace ppb::cuda {

StageKernel::StageKernel(const CudaBackendOptions& options, int sm_count, std::size_t l2_bytes)
    : options_(options), blocks_(kernels::blocks_for_share(sm_count, options.sm_share)) {
  PPB_REQUIRE_INPUT(options.kernel == "spin" || options.kernel == "compute" || options.kernel == "memory",
                    "--kernel: unknown kernel '", options.kernel, "' (expected spin, compute or memory)");
  CUDA_CHECK(cudaEventCreate(&start_));
  CUDA_CHECK(cudaEventCreate(&stop_));
  CUDA_CHECK(cudaMalloc(&sink_, sizeof(float) * static_cast<std::size_t>(blocks_)));
  if (options.kernel == "memory") {
    // Four times the L2 cache (at least 64 MiB) per buffer, so the copy streams
    // from HBM instead of hitting in L2.
    buffer_bytes_ = std::max<std::size_t>(4 * l2_bytes, std::size_t(64) << 20);
    buffer_bytes_ -= buffer_bytes_ % 16;
    CUDA_CHECK(cudaMalloc(&src_, buffer_bytes_));
    CUDA_CHECK(cudaMalloc(&dst_, buffer_bytes_));
    CUDA_CHECK(cudaMemset(src_, 1, buffer_bytes_));
  }
}

StageKernel::~StageKernel() {
  if (sink_ != nullptr) CUDA_CHECK_NOTHROW(cudaFree(sink_));
  if (src_ != nullptr) CUDA_CHECK_NOTHROW(cudaFree(src_));
  if (dst_ != nullptr) CUDA_CHECK_NOTHROW(cudaFree(dst_));
  if (start_ != nullptr) CUDA_CHECK_NOTHROW(cudaEventDestroy(start_));
  if (stop_ != nullptr) CUDA_CHECK_NOTHROW(cudaEventDestroy(stop_));
}

void StageKernel::launch_units(cudaStream_t stream, std::uint64_t units) {
  if (options_.kernel == "spin") {
    KERNEL_CHECK(kernels::launch_spin(stream, units, blocks_));
  } else if (options_.kernel == "compute") {
    KERNEL_CHECK(kernels::launch_compute(stream, units, blocks_, sink_));
  } else {
    KERNEL_CHECK(kernels::launch_memory(stream, units, blocks_, dst_, src_, buffer_bytes_));
  }
}

double StageKernel::time_units_us(cudaStream_t stream, std::uint64_t units) {
  CUDA_CHECK(cudaEventRecord(start_, stream));
  launch_units(stream, units);
  CUDA_CHECK(cudaEventRecord(stop_, stream));
  CUDA_CHECK(cudaEventSynchronize(stop_));
  float ms = 0.f;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
  return 1000.0 * ms;
}

double StageKernel::median_us(cudaStream_t stream, std::uint64_t units) {
  const int n = std::max(1, options_.calibration_launches);
  std::vector<double> t;
  for (int i = 0; i < n; ++i) t.push_back(time_units_us(stream, units));
  std::nth_element(t.begin(), t.begin() + n / 2, t.end());
  return t[static_cast<std::size_t>(n / 2)];
}

void StageKernel::calibrate(cudaStream_t stream) {
  time_units_us(stream, 1);  // first launch loads the module: not a measurement
  if (options_.kernel == "spin") {
    units_per_us_ = 1000.0;
    intercept_us_ = std::max(0.0, median_us(stream, 0));
    calibrated_ = true;
    return;
  }
  // Grow the size until one launch takes about a millisecond, then fit a line
  // through that point and one an eighth of its size.
  std::uint64_t large = options_.kernel == "compute" ? 1024 : (std::uint64_t(1) << 20);
  double t_large = median_us(stream, large);
  for (int i = 0; i < 40 && t_large < 1000.0; ++i) {
    large *= 2;
    t_large = median_us(stream, large);
  }
  // The GPU was nearly idle until now, so its clocks may still be ramping up
  // (compute time follows the SM clock): keep it busy for ~200 ms, then take
  // the fit's two points until the large one repeats within 2% around the
  // small one, so both come from the same clock.
  for (double busy_us = 0; busy_us < 200000.0;) busy_us += time_units_us(stream, large);
  const std::uint64_t small = std::max<std::uint64_t>(1, large / 8);
  double t_small = 0;
  t_large = median_us(stream, large);
  for (calibration_rounds_ = 1; calibration_rounds_ <= 5; ++calibration_rounds_) {
    t_small = median_us(stream, small);
    const double again = median_us(stream, large);
    const bool settled = std::abs(again - t_large) <= 0.02 * t_large;
    t_large = again;
    if (settled) break;
  }
  const double slope = t_large > t_small ? double(large - small) / (t_large - t_small) : double(large) / t_large;
  units_per_us_ = slope;
  intercept_us_ = std::max(0.0, t_small - double(small) / slope);
  calibrated_ = true;
}

std::uint64_t StageKernel::units_for(double target_us) const {
  if (target_us <= 0) return 0;
  const double units = std::max(0.0, target_us - intercept_us_) * units_per_us_;
  std::uint64_t u = static_cast<std::uint64_t>(std::llround(units));
  if (options_.kernel == "memory") u -= u % 16;  // whole 16-byte words
  return u;
}

void StageKernel::launch(cudaStream_t stream, double target_us) {
  if (target_us <= 0) return;
  launch_units(stream, units_for(target_us));
}

nlohmann::json StageKernel::describe() const {
  const char* unit = options_.kernel == "spin" ? "ns" : options_.kernel == "compute" ? "fma_steps" : "bytes";
  return {{"kind", options_.kernel},
          {"sm_share", options_.sm_share},
          {"blocks", blocks_},
          {"unit", unit},
          {"units_per_us", units_per_us_},
          {"launch_intercept_us", intercept_us_},
          {"calibration_rounds", calibration_rounds_},
          {"clock_settled", options_.kernel == "spin" || calibration_rounds_ <= 5},
          {"calibrated", calibrated_}};
}

}  // namespace ppb::cuda
