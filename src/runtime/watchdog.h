// A per-rank timer thread for --timeout: armed around each iteration; when it
// expires before being disarmed it calls `on_expiry` on its own thread (which
// reports and stops the job; it is not expected to return).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ppb {

class Watchdog {
 public:
  explicit Watchdog(std::function<void()> on_expiry);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(double seconds);
  void disarm();

 private:
  void loop();

  std::function<void()> on_expiry_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::thread thread_;
};

}  // namespace ppb
