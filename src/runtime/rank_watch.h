// Stops the job when this rank is stuck, in set-up or in an iteration, and says
// where it was. One per rank for the whole job: set-up (creating and preparing
// the backend: NCCL communicators, kernel calibration; clock alignment) runs
// under --setup-timeout, each iteration under --timeout.
//
// On expiry, on the watchdog's thread: print one line naming the rank and
// where it is (with the backend's own account, Backend::describe_stall), wait
// a grace period so that the other ranks' watchdogs print theirs before any
// communicator is torn down, call Backend::abort() (on a thread of its own,
// waited for at most `abort_limit`: tearing NCCL down can block), then `stop`
// (MPI_Abort with exit 3 in ppbench). `stop` is not expected to return.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/backend.h"
#include "runtime/executor.h"
#include "runtime/watchdog.h"

namespace ppb {

class RankWatch {
 public:
  RankWatch(int rank, std::function<void()> stop,
            std::chrono::milliseconds grace = std::chrono::milliseconds(1000),
            std::chrono::milliseconds abort_limit = std::chrono::milliseconds(3000));
  RankWatch(const RankWatch&) = delete;
  RankWatch& operator=(const RankWatch&) = delete;

  // Arms for `timeout_s` of set-up; `step` (a string literal) says what this
  // rank is doing, e.g. "preparing the backend". setup_step() moves on
  // without re-arming; finish() disarms.
  void start_setup(double timeout_s, const char* step);
  void setup_step(const char* step);
  // Arms for iteration `iteration` (the executor says where in it the rank is).
  void start_iteration(double timeout_s, int iteration);
  void finish();

  // What is described and aborted on expiry. The session that attached
  // detaches before its backend or executor is destroyed; detach() leaves
  // the watch alone when another backend has been attached since.
  void attach(Backend* backend, const Executor* executor);
  void detach(const Backend* backend);

  // True from the moment the watch fired: the rank is being stopped, and an
  // error its main thread meets from then on (a peer's abort closes the
  // links it waits on) is a consequence, not news: the watch's line is the
  // rank's report, and the watch ends the job.
  bool expired() const { return expired_.load(); }
  // Blocks for good when the watch has fired (it stops the job); returns at
  // once otherwise.
  void park_if_expired() const;

  // The line printed on expiry, without "ppbench: " and the newline:
  // "rank 1 timed out in set-up, preparing the backend (...)" or
  // "rank 2 timed out in iteration 0 after B0@s2; waiting for F2@s1 from rank 1".
  std::string describe() const;

 private:
  std::string describe_locked() const;
  void expire();

  int rank_;
  std::function<void()> stop_;
  std::chrono::milliseconds grace_;
  std::chrono::milliseconds abort_limit_;
  mutable std::mutex mutex_;  // held by expire() throughout, so nothing it uses is detached meanwhile
  bool in_setup_ = false;
  const char* step_ = "";
  int iteration_ = -1;
  Backend* backend_ = nullptr;
  const Executor* executor_ = nullptr;
  std::atomic<bool> expired_{false};
  // Last, so that it is destroyed first: its thread calls expire().
  std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace ppb
