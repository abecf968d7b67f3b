// The guard that holds SIGINT/SIGTERM/SIGHUP while `ppbench sweep` writes: a
// signal under it is only noted, throw_if_interrupted names it, and the
// guard's end raises it again with the old handler, so the process still ends
// by that signal (death tests: each runs in a child process).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "measured_sweep/interrupt_guard.h"

namespace ppb {
namespace {

void interrupted_under_guard(int signal) {
  {
    const InterruptGuard guard;
    std::raise(signal);
    std::cerr << "still running; ";
    try {
      guard.throw_if_interrupted();
    } catch (const Interrupted& e) {
      std::cerr << e.what() << "; ";
    }
  }
  std::cerr << "not ended by the signal\n";
  std::exit(0);
}

TEST(InterruptGuardDeathTest, SignalIsHeldUntilTheGuardEndsThenEndsTheProcess) {
  EXPECT_EXIT(interrupted_under_guard(SIGTERM), testing::KilledBySignal(SIGTERM),
              "still running; interrupted by SIGTERM; $");
  EXPECT_EXIT(interrupted_under_guard(SIGINT), testing::KilledBySignal(SIGINT), "interrupted by SIGINT; $");
  EXPECT_EXIT(interrupted_under_guard(SIGHUP), testing::KilledBySignal(SIGHUP), "interrupted by SIGHUP; $");
}

TEST(InterruptGuard, NothingNotedNothingThrownAndTheOldHandlerIsBack) {
  static volatile std::sig_atomic_t seen = 0;
  const auto previous = std::signal(SIGHUP, [](int) { seen = 1; });
  {
    const InterruptGuard guard;
    EXPECT_NO_THROW(guard.throw_if_interrupted());
  }
  std::raise(SIGHUP);  // the handler from before the guard, not the guard's
  EXPECT_EQ(seen, 1);
  std::signal(SIGHUP, previous);
}

}  // namespace
}  // namespace ppb
