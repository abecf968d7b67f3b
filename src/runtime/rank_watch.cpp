#include "runtime/rank_watch.h"

#include <cstdio>
#include <thread>

namespace ppb {

RankWatch::RankWatch(int rank, std::function<void()> stop, std::chrono::milliseconds grace)
    : rank_(rank), stop_(std::move(stop)), grace_(grace), watchdog_(std::make_unique<Watchdog>([this] { expire(); })) {}

RankWatch::~RankWatch() { watchdog_.reset(); }

void RankWatch::start_setup(double timeout_s, const char* step) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_setup_ = true;
    step_ = step;
  }
  watchdog_->arm(timeout_s);
}

void RankWatch::setup_step(const char* step) {
  std::lock_guard<std::mutex> lock(mutex_);
  step_ = step;
}

void RankWatch::start_iteration(double timeout_s) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_setup_ = false;
  }
  watchdog_->arm(timeout_s);
}

void RankWatch::finish() { watchdog_->disarm(); }

void RankWatch::attach(Backend* backend, const Executor* executor) {
  std::lock_guard<std::mutex> lock(mutex_);
  backend_ = backend;
  executor_ = executor;
}

std::string RankWatch::describe() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return describe_locked();
}

std::string RankWatch::describe_locked() const {
  const std::string stall = backend_ != nullptr ? backend_->describe_stall() : std::string();
  std::string line = "rank " + std::to_string(rank_);
  if (in_setup_) {
    line += std::string(" timed out in set-up, ") + step_;
    if (!stall.empty()) line += " (" + stall + ")";
    return line;
  }
  line += " timed out in iteration ";
  if (executor_ != nullptr) {
    line += std::to_string(executor_->current_iteration()) + " " + executor_->describe_progress();
  } else {
    line += "(no executor attached)";
  }
  if (!stall.empty()) line += "; on the device: " + stall;
  return line;
}

void RankWatch::expire() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fprintf(stderr, "ppbench: %s\n", describe_locked().c_str());
  std::fflush(stderr);
  std::this_thread::sleep_for(grace_);
  if (backend_ != nullptr) backend_->abort();
  stop_();
}

}  // namespace ppb
