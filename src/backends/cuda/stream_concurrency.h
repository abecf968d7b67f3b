// The arithmetic of the hardware-queue probe (device_probes.h), plain C++ so
// that it is tested without a GPU.
#pragma once

#include <utility>
#include <vector>

namespace ppb::cuda {

// The most intervals [start, end) that contain one instant: kernels that ran
// at the same time. Intervals that only touch (one ends where the next
// starts) do not overlap.
int max_overlap(std::vector<std::pair<double, double>> intervals);

// The hardware queues the program asks for: CUDA_DEVICE_MAX_CONNECTIONS as
// CUDA reads it (8 when unset or not a number; CUDA allows 1 to 32).
int requested_hardware_queues(const char* env_value);

}  // namespace ppb::cuda
