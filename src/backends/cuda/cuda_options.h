// The CUDA backend's options: plain C++, so the flags exist (and are checked)
// in every build, with or without CUDA.
#pragma once

#include <string>

namespace ppb {

struct CudaBackendOptions {
  std::string kernel = "spin";  // spin | compute | memory (docs/gpu.md)
  double sm_share = 1.0;        // share of the SMs a stage kernel uses, in (0, 1]
  bool nvtx = true;             // NVTX ranges per op and per iteration
  int calibration_launches = 5; // launches per calibration point (median taken)
};

}  // namespace ppb
