#include "runtime/rank_watch.h"

#include <cstdio>
#include <future>
#include <thread>

namespace ppb {

RankWatch::RankWatch(int rank, std::function<void()> stop, std::chrono::milliseconds grace,
                     std::chrono::milliseconds abort_limit)
    : rank_(rank),
      stop_(std::move(stop)),
      grace_(grace),
      abort_limit_(abort_limit),
      watchdog_(std::make_unique<Watchdog>([this] { expire(); })) {}

// Arming under the watch's lock: an expiry cannot see the new deadline with
// the old phase. (The watchdog calls expire() without its own lock held, so
// this order cannot invert.)
void RankWatch::start_setup(double timeout_s, const char* step) {
  std::lock_guard<std::mutex> lock(mutex_);
  in_setup_ = true;
  step_ = step;
  watchdog_->arm(timeout_s);
}

void RankWatch::setup_step(const char* step) {
  std::lock_guard<std::mutex> lock(mutex_);
  step_ = step;
}

void RankWatch::start_iteration(double timeout_s, int iteration) {
  std::lock_guard<std::mutex> lock(mutex_);
  in_setup_ = false;
  iteration_ = iteration;
  watchdog_->arm(timeout_s);
}

void RankWatch::finish() { watchdog_->disarm(); }

void RankWatch::attach(Backend* backend, const Executor* executor) {
  std::lock_guard<std::mutex> lock(mutex_);
  backend_ = backend;
  executor_ = executor;
}

void RankWatch::detach(const Backend* backend) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (backend_ != backend) return;  // a newer session is attached
  backend_ = nullptr;
  executor_ = nullptr;
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
  line += " timed out in iteration " + std::to_string(iteration_) + " ";
  if (executor_ == nullptr) {
    line += "(no executor attached)";
  } else if (executor_->current_iteration() != iteration_) {
    line += "before its first op; waiting for the other ranks (iteration barrier)";  // not started yet
  } else {
    line += executor_->describe_progress();
  }
  if (!stall.empty()) line += "; on the device: " + stall;
  return line;
}

void RankWatch::park_if_expired() const {
  while (expired_.load()) std::this_thread::sleep_for(std::chrono::seconds(1));
}

void RankWatch::expire() {
  expired_.store(true);
  std::lock_guard<std::mutex> lock(mutex_);
  std::fprintf(stderr, "ppbench: %s\n", describe_locked().c_str());
  std::fflush(stderr);
  std::this_thread::sleep_for(grace_);
  if (backend_ != nullptr) {
    // Tearing down NCCL can itself block (an abort synchronising behind a
    // kernel of another communicator that still spins): the job is stopped
    // after abort_limit_ whatever the abort is doing.
    Backend* backend = backend_;
    auto aborted = std::make_shared<std::promise<void>>();
    std::future<void> done = aborted->get_future();
    std::thread([backend, aborted] {
      backend->abort();
      aborted->set_value();
    }).detach();
    if (done.wait_for(abort_limit_) != std::future_status::ready) {
      std::fprintf(stderr, "ppbench: rank %d: backend abort still running after %lld ms; stopping anyway\n", rank_,
                   static_cast<long long>(abort_limit_.count()));
      std::fflush(stderr);
    }
  }
  stop_();
}

}  // namespace ppb
