// Serialises the calls of the main thread into a library that allows one
// thread at a time per handle with an abort from the watchdog thread. NCCL:
// "it is safe to operate a communicator from multiple threads as long as
// users can guarantee only one thread operates the communicator at a time"
// (NCCL user guide, Thread Safety); ncclCommAbort is such an operation.
//
// The main thread holds the gate for each call (Scope) and names it; the
// watchdog runs its abort only when it gets the gate within a grace period.
// When the main thread is stuck inside a call (a blocking NCCL enqueue, e.g.
// a connection set-up waiting for a dead peer) the abort is skipped: the job
// is being stopped anyway, and holder() says where the thread is stuck.
// Plain C++ so that it is tested without a GPU.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace ppb::cuda {

class CallGate {
 public:
  class Scope {
   public:
    Scope(Scope&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope();

   private:
    friend class CallGate;
    explicit Scope(CallGate* gate) : gate_(gate) {}
    CallGate* gate_;
  };

  // Blocks while another thread holds the gate or waits for it in
  // run_exclusive (the abort goes first: a mutex is not fair, and the main
  // thread calling again right away could keep it out). `what` names the
  // call, e.g. "ncclSend of F3@s1 to rank 2".
  Scope enter(std::string what);
  // From another thread: runs `fn` holding the gate if it can be had within
  // `grace` and returns true; otherwise returns false without running it.
  bool run_exclusive(std::chrono::milliseconds grace, const std::function<void()>& fn);
  // Whether a run_exclusive is waiting for the gate (for tests).
  bool exclusive_waiting() const { return exclusive_waiting_.load() > 0; }
  // The call holding the gate now; empty when it is free.
  std::string holder() const;

 private:
  std::timed_mutex gate_;
  std::atomic<int> exclusive_waiting_{0};
  mutable std::mutex holder_mutex_;  // holder_ only: never waits on the gate
  std::string holder_;
};

}  // namespace ppb::cuda
