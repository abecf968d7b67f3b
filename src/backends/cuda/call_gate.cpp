#include "backends/cuda/call_gate.h"

#include <thread>

namespace ppb::cuda {

CallGate::Scope::~Scope() {
  if (gate_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(gate_->holder_mutex_);
    gate_->holder_.clear();
  }
  gate_->gate_.unlock();
}

CallGate::Scope CallGate::enter(std::string what) {
  while (exclusive_waiting_.load() > 0) std::this_thread::yield();
  gate_.lock();
  std::lock_guard<std::mutex> lock(holder_mutex_);
  holder_ = std::move(what);
  return Scope(this);
}

bool CallGate::run_exclusive(std::chrono::milliseconds grace, const std::function<void()>& fn) {
  struct Waiting {
    std::atomic<int>& count;
    explicit Waiting(std::atomic<int>& c) : count(c) { ++count; }
    ~Waiting() { --count; }
  } waiting(exclusive_waiting_);
  std::unique_lock<std::timed_mutex> lock(gate_, std::defer_lock);
  if (!lock.try_lock_for(grace)) return false;
  fn();
  return true;
}

std::string CallGate::holder() const {
  std::lock_guard<std::mutex> lock(holder_mutex_);
  return holder_;
}

}  // namespace ppb::cuda
