// The stage work of one rank: one kernel kind (spin, compute or memory) on a
// share of the SMs, calibrated at start-up so that a target time in
// microseconds becomes a number of work units.
//
// Calibration (docs/gpu.md): the median time of a few launches at two sizes
// gives a slope (units per microsecond) and an intercept (fixed cost of a
// launch); units(target) = max(0, target - intercept) * slope. The spin
// kernel's unit is a nanosecond of the GPU timer, so only its intercept is
// measured.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include <nlohmann/json.hpp>

#include "backends/cuda/cuda_options.h"

namespace ppb::cuda {

class StageKernel {
 public:
  StageKernel(const CudaBackendOptions& options, int sm_count, std::size_t l2_bytes);
  ~StageKernel();
  StageKernel(const StageKernel&) = delete;
  StageKernel& operator=(const StageKernel&) = delete;

  // Blocks on `stream` while it measures; call before the first iteration.
  void calibrate(cudaStream_t stream);
  // Enqueues the kernel sized for `target_us` (nothing for target_us <= 0).
  void launch(cudaStream_t stream, double target_us);
  std::uint64_t units_for(double target_us) const;
  // One launch of `units`, timed by events (synchronises): for calibration and tests.
  double time_units_us(cudaStream_t stream, std::uint64_t units);

  double units_per_us() const { return units_per_us_; }
  double intercept_us() const { return intercept_us_; }
  int blocks() const { return blocks_; }
  nlohmann::json describe() const;

 private:
  void launch_units(cudaStream_t stream, std::uint64_t units);
  double median_us(cudaStream_t stream, std::uint64_t units);

  CudaBackendOptions options_;
  int blocks_ = 1;
  float* sink_ = nullptr;
  void* src_ = nullptr;
  void* dst_ = nullptr;
  std::size_t buffer_bytes_ = 0;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  double units_per_us_ = 1000.0;  // spin: nanoseconds per microsecond
  double intercept_us_ = 0.0;
  bool calibrated_ = false;
  int calibration_rounds_ = 0;  // compute/memory: fits taken; 6 when the large point never repeated within 2%
};

}  // namespace ppb::cuda
