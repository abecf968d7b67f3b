// The double's knobs, read once from the environment at the first CUDA or
// NCCL call (before then the program may still set them: ppbench sets
// CUDA_DEVICE_MAX_CONNECTIONS in main). A malformed value ends the process
// with exit status 2 and one line naming the variable. Per-rank lists
// ("0,1500,-300") give rank r the r-th value (the last one repeats); the rank
// is the MPI world rank from the launcher's environment (0 without one).
//
//   PPB_CUDA_DOUBLE_DEVICES        devices cudaGetDeviceCount reports (1; 0: none)
//   PPB_CUDA_DOUBLE_MEMORY         device memory capacity, bytes with K/M/G (16G)
//   PPB_CUDA_DOUBLE_SM_COUNT       multiprocessors (132)
//   PPB_CUDA_DOUBLE_GPU_PER_RANK   1: each rank has its own device (PCI bus id);
//                                  0 (default): all ranks share one, as one-gpu.sh
//   PPB_CUDA_DOUBLE_CLOCK_OFFSET_US   device clock minus host clock, per rank (0)
//   PPB_CUDA_DOUBLE_CLOCK_DRIFT_PPM   device clock rate error, per rank (0)
//   PPB_CUDA_DOUBLE_LAUNCH_US      fixed cost of every kernel (2)
//   PPB_CUDA_DOUBLE_COMPUTE_RATE   compute kernel: FMA steps per us (2000)
//   PPB_CUDA_DOUBLE_MEMORY_RATE    memory kernel: bytes per us (2000000)
//   PPB_CUDA_DOUBLE_LINK_LATENCY_US   NCCL transfer: fixed cost (10)
//   PPB_CUDA_DOUBLE_LINK_RATE      NCCL transfer: bytes per us (10000)
//   PPB_CUDA_DOUBLE_QUEUES         hardware queues the driver grants at most (32)
//   PPB_CUDA_DOUBLE_MPS            1: cudaDevAttrMpsEnabled reports MPS (0)
//   PPB_CUDA_DOUBLE_NCCL_VERSION   what ncclGetVersion returns (nccl.h's code)
//   CUDA_DEVICE_MAX_CONNECTIONS    the hardware queues asked for (8), as CUDA reads it
#pragma once

#include <cstdint>
#include <string>

namespace ppb::cuda_double {

struct DoubleConfig {
  int world_rank = 0;
  int devices = 1;
  std::uint64_t memory_bytes = std::uint64_t(16) << 30;
  int sm_count = 132;
  bool gpu_per_rank = false;
  double clock_offset_us = 0;
  double clock_drift_ppm = 0;
  double launch_us = 2;
  double compute_steps_per_us = 2000;
  double memory_bytes_per_us = 2e6;
  double link_latency_us = 10;
  double link_bytes_per_us = 1e4;
  int requested_queues = 8;
  int queue_limit = 32;
  bool mps = false;
  int nccl_version = 0;
};

const DoubleConfig& config();

// The PCI bus number of `device`: shared by every rank, or the rank's own
// with PPB_CUDA_DOUBLE_GPU_PER_RANK.
int pci_bus(int device);

// Ends the process (status 2) with "ppbench CUDA double: <what>".
[[noreturn]] void config_error(const std::string& what);

// "12", "64K", "2M", "16G" (binary units); nullopt-like -1 when malformed.
long long parse_bytes(const std::string& text);

}  // namespace ppb::cuda_double
