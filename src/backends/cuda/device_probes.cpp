#include "backends/cuda/device_probes.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "backends/cuda/cuda_check.h"
#include "backends/cuda/stream_concurrency.h"
#include "stage_kernels.h"

namespace ppb::cuda {

TimerProbe probe_globaltimer(cudaStream_t stream, const std::function<double()>& now_us) {
  std::uint64_t* d = nullptr;
  CUDA_CHECK(cudaMalloc(&d, sizeof(std::uint64_t)));
  TimerProbe best{0, std::numeric_limits<double>::infinity()};
  for (int i = 0; i < 5; ++i) {
    const double before = now_us();
    KERNEL_CHECK(kernels::launch_timestamp(stream, d));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    const double after = now_us();
    std::uint64_t ns = 0;
    CUDA_CHECK(cudaMemcpy(&ns, d, sizeof(ns), cudaMemcpyDeviceToHost));
    if (0.5 * (after - before) < best.bound_us) {
      best.bound_us = 0.5 * (after - before);
      best.offset_us = static_cast<double>(ns) / 1000.0 - 0.5 * (before + after);
    }
  }
  CUDA_CHECK(cudaFree(d));
  return best;
}

QueueProbe probe_concurrent_streams(int count, double kernel_us) {
  QueueProbe probe;
  probe.streams = count;
  std::vector<cudaStream_t> streams(static_cast<std::size_t>(count), nullptr);
  std::vector<cudaEvent_t> starts(streams.size(), nullptr), ends(streams.size(), nullptr);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    CUDA_CHECK(cudaStreamCreateWithFlags(&streams[i], cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreate(&starts[i]));
    CUDA_CHECK(cudaEventCreate(&ends[i]));
  }
  const auto ns = static_cast<std::uint64_t>(std::llround(kernel_us * 1000.0));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    CUDA_CHECK(cudaEventRecord(starts[i], streams[i]));
    KERNEL_CHECK(kernels::launch_spin(streams[i], ns, 1));
    CUDA_CHECK(cudaEventRecord(ends[i], streams[i]));
  }
  std::vector<std::pair<double, double>> ran;
  for (std::size_t i = 0; i < streams.size(); ++i) {
    CUDA_CHECK(cudaEventSynchronize(ends[i]));
    float start_ms = 0, end_ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&start_ms, starts[0], starts[i]));
    CUDA_CHECK(cudaEventElapsedTime(&end_ms, starts[0], ends[i]));
    ran.push_back({start_ms, end_ms});
  }
  probe.concurrent = max_overlap(std::move(ran));
  for (std::size_t i = 0; i < streams.size(); ++i) {
    CUDA_CHECK(cudaEventDestroy(starts[i]));
    CUDA_CHECK(cudaEventDestroy(ends[i]));
    CUDA_CHECK(cudaStreamDestroy(streams[i]));
  }
  return probe;
}

}  // namespace ppb::cuda
