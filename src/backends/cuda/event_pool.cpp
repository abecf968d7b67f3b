#include "backends/cuda/event_pool.h"

#include "backends/cuda/cuda_check.h"

namespace ppb::cuda {

EventPool::EventPool(std::size_t count) {
  events_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    cudaEvent_t e = nullptr;
    CUDA_CHECK(cudaEventCreate(&e));  // default flags: timing enabled
    events_.push_back(e);
  }
}

EventPool::~EventPool() {
  for (cudaEvent_t e : events_) CUDA_CHECK_NOTHROW(cudaEventDestroy(e));
}

cudaEvent_t EventPool::next() {
  if (used_ == events_.size()) {
    cudaEvent_t e = nullptr;
    CUDA_CHECK(cudaEventCreate(&e));
    events_.push_back(e);
  }
  return events_[used_++];
}

}  // namespace ppb::cuda
