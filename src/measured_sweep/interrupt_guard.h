// Rank 0 writes each finished point of a sweep, and the chart at the end; a
// SIGINT or SIGTERM then (Ctrl-C, mpirun passing on its own) would cut a
// write short. While an InterruptGuard lives, those signals (and SIGHUP) are
// only noted; the writer may ask and, interrupted, throw. The guard's end
// puts the old handlers back and raises a noted signal again: the process
// still ends as the signal would have ended it, only after the write.
#pragma once

#include <stdexcept>

namespace ppb {

class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  // Throws Interrupted ("interrupted by SIGTERM") when a signal was noted.
  void throw_if_interrupted() const;
};

}  // namespace ppb
