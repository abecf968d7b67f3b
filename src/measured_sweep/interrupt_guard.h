// Rank 0 writes a sweep's directory in its last second or so; a SIGINT or
// SIGTERM then (Ctrl-C, mpirun passing on its own) would leave DIR.tmp.<pid>
// half written. While an InterruptGuard lives, those signals (and SIGHUP) are
// only noted; the writer asks between files and, interrupted, throws, so that
// write_directory_atomically removes what it wrote. The guard's end puts the
// old handlers back and raises a noted signal again: the process still ends as
// the signal would have ended it, only after the clean-up.
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
