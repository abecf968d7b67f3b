#include "backends/cuda/call_gate.h"

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
  gate_.lock();
  std::lock_guard<std::mutex> lock(holder_mutex_);
  holder_ = std::move(what);
  return Scope(this);
}

bool CallGate::run_exclusive(std::chrono::milliseconds grace, const std::function<void()>& fn) {
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
