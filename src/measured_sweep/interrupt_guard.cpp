#include "measured_sweep/interrupt_guard.h"

#include <csignal>
#include <iterator>
#include <string>

namespace ppb {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
volatile std::sig_atomic_t noted_signal = 0;
struct sigaction previous[std::size(kSignals)];

extern "C" void note_signal(int signal) {
  if (noted_signal == 0) noted_signal = signal;
}

}  // namespace

InterruptGuard::InterruptGuard() {
  noted_signal = 0;
  struct sigaction action {};
  action.sa_handler = note_signal;
  sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &action, &previous[i]);
}

InterruptGuard::~InterruptGuard() {
  for (std::size_t i = 0; i < std::size(kSignals); ++i) sigaction(kSignals[i], &previous[i], nullptr);
  if (noted_signal != 0) std::raise(noted_signal);
}

void InterruptGuard::throw_if_interrupted() const {
  if (noted_signal == 0) return;
  const int signal = noted_signal;
  throw Interrupted(std::string("interrupted by ") +
                    (signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGHUP"));
}

}  // namespace ppb
