#include "backends/cuda/buffer_pool.h"

#include <algorithm>

#include "backends/cuda/cuda_check.h"

namespace ppb::cuda {

BufferPool::BufferPool(std::size_t message_bytes, cudaStream_t compute_stream)
    : message_bytes_(message_bytes), buffer_bytes_(std::max<std::size_t>(message_bytes, 16)), compute_(compute_stream) {}

BufferPool::~BufferPool() {
  for (void* p : all_) CUDA_CHECK_NOTHROW(cudaFree(p));
}

void BufferPool::reserve(std::size_t count) {
  while (all_.size() < count) {
    void* p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, buffer_bytes_));
    all_.push_back(p);
    free_.push_back(Free{p, nullptr, nullptr});
  }
}

void* BufferPool::acquire(cudaStream_t stream, bool for_receive) {
  auto take = [&](std::size_t i) {
    void* p = free_[i].ptr;
    free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
    peak_ = std::max(peak_, ++held_);
    return p;
  };
  for (std::size_t i = 0; i < free_.size(); ++i) {
    if (free_[i].stream == stream || free_[i].event == nullptr) return take(i);
  }
  for (std::size_t i = 0; i < free_.size(); ++i) {
    const cudaError_t state = query_event(free_[i].event);
    if (state == cudaSuccess) return take(i);
    if (state != cudaErrorNotReady && state != cudaSuccess) {
      throw_cuda_error(state, "cudaEventQuery (a free buffer's last use)", __FILE__, __LINE__);
    }
  }
  if (for_receive) {
    for (std::size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].stream != compute_) continue;
      CUDA_CHECK(cudaStreamWaitEvent(stream, free_[i].event, 0));
      return take(i);
    }
  }
  void* p = nullptr;
  CUDA_CHECK(cudaMalloc(&p, buffer_bytes_));
  all_.push_back(p);
  ++growths_;
  peak_ = std::max(peak_, ++held_);
  return p;
}

void BufferPool::release(void* buffer, cudaStream_t stream, cudaEvent_t after_last_use) {
  if (buffer == nullptr) return;
  free_.push_back(Free{buffer, stream, after_last_use});
  if (held_ > 0) --held_;
}

void BufferPool::reset_iteration() {
  free_.clear();
  for (void* p : all_) free_.push_back(Free{p, nullptr, nullptr});
  held_ = 0;
  peak_ = 0;
}

}  // namespace ppb::cuda
