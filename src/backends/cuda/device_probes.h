// What the backend measures of its device once per process, each rank alone
// on its GPU (the backend runs these in the ranks' turns, with the kernel
// calibration): how the GPU timer relates to the host clock, and how many
// streams the device really runs side by side.
#pragma once

#include <cuda_runtime.h>

#include <functional>

namespace ppb::cuda {

struct TimerProbe {
  double offset_us = 0;  // %globaltimer - host clock
  double bound_us = 0;   // half the host time around the best launch
};

// The timestamp kernel between two host readings, best of 5 launches on `stream`.
TimerProbe probe_globaltimer(cudaStream_t stream, const std::function<double()>& now_us);

struct QueueProbe {
  int streams = 0;     // streams tried
  int concurrent = 0;  // the most kernels running at one instant
};

// One spin kernel of `kernel_us` (one block) on each of `streams` new
// non-blocking streams, enqueued one after the other and timed by events: the
// most kernels that ran at one instant. Streams the driver put on a shared
// hardware queue run one after the other, so with fewer queues granted than
// streams this is the number of queues (under MPS the driver may grant fewer
// than CUDA_DEVICE_MAX_CONNECTIONS asks for, and no API says how many).
QueueProbe probe_concurrent_streams(int streams, double kernel_us);

}  // namespace ppb::cuda
