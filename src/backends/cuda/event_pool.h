// Timing events, created before the first iteration so that recording one
// never allocates on the measured path. The backend sizes the pool from the
// rank's plan (events per op and per transfer); it grows only if that count
// was wrong, which costs an event creation, never a synchronisation.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <vector>

namespace ppb::cuda {

class EventPool {
 public:
  explicit EventPool(std::size_t count);
  ~EventPool();
  EventPool(const EventPool&) = delete;
  EventPool& operator=(const EventPool&) = delete;

  cudaEvent_t next();
  // Every event reusable again; only after the events handed out have completed
  // (the backend calls it after end_iteration's synchronisation).
  void reset() { used_ = 0; }
  std::size_t used() const { return used_; }
  std::size_t capacity() const { return events_.size(); }

 private:
  std::vector<cudaEvent_t> events_;
  std::size_t used_ = 0;
};

}  // namespace ppb::cuda
