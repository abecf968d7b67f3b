#include "stage_kernels.h"

#include <cuda_runtime.h>

namespace ppb::kernels {
namespace {

__device__ __forceinline__ std::uint64_t global_timer_ns() {
  std::uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void spin_kernel(std::uint64_t ns) {
  const std::uint64_t start = global_timer_ns();
  while (global_timer_ns() - start < ns) {
  }
}

__global__ void compute_kernel(std::uint64_t iterations, float* sink) {
  // Eight independent chains keep the FMA pipes full; the values stay finite
  // (a contraction towards 1) whatever the iteration count.
  float a[8];
  for (int i = 0; i < 8; ++i) a[i] = 1.0f + 1e-3f * static_cast<float>(threadIdx.x + i);
  for (std::uint64_t it = 0; it < iterations; ++it) {
#pragma unroll
    for (int i = 0; i < 8; ++i) a[i] = fmaf(a[i], 0.999f, 0.001f);
  }
  float sum = 0.f;
  for (int i = 0; i < 8; ++i) sum += a[i];
  // Only an impossible value is written, but the compiler cannot know that.
  if (sum == -1.0f) sink[blockIdx.x] = sum;
}

__global__ void memory_kernel(std::uint64_t words, int4* dst, const int4* src, std::uint64_t buffer_words) {
  // Passes over the buffers instead of an index modulo, which would make the
  // loop bound by integer division rather than by memory.
  const std::uint64_t stride = std::uint64_t(gridDim.x) * blockDim.x;
  const std::uint64_t first = std::uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (std::uint64_t base = 0; base < words; base += buffer_words) {
    const std::uint64_t n = words - base < buffer_words ? words - base : buffer_words;
    for (std::uint64_t i = first; i < n; i += stride) dst[i] = src[i];
  }
}

__global__ void timestamp_kernel(std::uint64_t* out) { *out = global_timer_ns(); }

int last_error() { return static_cast<int>(cudaGetLastError()); }

// A launch reports only its own error: cudaEventQuery's cudaErrorNotReady (a
// state, not a failure) also lands in the runtime's per-thread last-error slot
// and would otherwise be returned by the next launch's cudaGetLastError.
void clear_stale_error() { (void)cudaGetLastError(); }

}  // namespace

int launch_spin(Stream stream, std::uint64_t ns, int blocks) {
  clear_stale_error();
  spin_kernel<<<blocks, 32, 0, stream>>>(ns);
  return last_error();
}

int launch_compute(Stream stream, std::uint64_t iterations, int blocks, float* sink) {
  clear_stale_error();
  compute_kernel<<<blocks, 512, 0, stream>>>(iterations, sink);
  return last_error();
}

int launch_memory(Stream stream, std::uint64_t bytes, int blocks, void* dst, const void* src,
                  std::size_t buffer_bytes) {
  const std::uint64_t buffer_words = buffer_bytes / sizeof(int4);
  if (buffer_words == 0) return static_cast<int>(cudaErrorInvalidValue);
  clear_stale_error();
  memory_kernel<<<blocks, 1024, 0, stream>>>(bytes / sizeof(int4), static_cast<int4*>(dst),
                                              static_cast<const int4*>(src), buffer_words);
  return last_error();
}

int launch_timestamp(Stream stream, std::uint64_t* out) {
  clear_stale_error();
  timestamp_kernel<<<1, 1, 0, stream>>>(out);
  return last_error();
}

}  // namespace ppb::kernels
