// Typed errors for ppbench. Every user-facing failure is one of these, so the
// command-line front ends can map it to a documented exit code and print one
// line. The macros add the throwing file:line for debugging (kept out of the
// user message, available through where()).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ppb {

// Exit codes: the contract of both commands (documented in README.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,     // a bug or an unexpected system failure
  kExitBadInput = 2,     // bad flag, key or file; nothing is written
  kExitRunFailed = 3,    // a rank failed, crashed or timed out
  kExitErrorExceeded = 4 // measured vs predicted error above --max-error
};

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, std::string where)
      : std::runtime_error(message), where_(std::move(where)) {}
  const std::string& where() const { return where_; }
  virtual int exit_code() const { return kExitInternal; }

 private:
  std::string where_;
};

// Bad input: a flag, config key, or file is wrong. The message starts with the
// name of the flag, key or file.
class InputError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitBadInput; }
};

// A schedule that violates the IR's rules (duplicate op, order, deadlock).
class ScheduleError : public InputError {
 public:
  using InputError::InputError;
};

// A distributed run that failed: a rank crashed, hung or timed out.
class RunError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitRunFailed; }
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
inline std::string where(const char* file, int line) {
  return concat(file, ":", line);
}
}  // namespace detail

}  // namespace ppb

#define PPB_THROW(Type, ...) \
  throw Type(::ppb::detail::concat(__VA_ARGS__), ::ppb::detail::where(__FILE__, __LINE__))

// Throws InputError with the message when cond is false.
#define PPB_REQUIRE_INPUT(cond, ...)            \
  do {                                          \
    if (!(cond)) PPB_THROW(::ppb::InputError, __VA_ARGS__); \
  } while (0)

// Internal invariant: a failure is a bug in ppbench, not in the input.
#define PPB_ASSERT(cond, ...)                                               \
  do {                                                                      \
    if (!(cond)) PPB_THROW(::ppb::Error, "internal error: ", #cond, ": ", __VA_ARGS__); \
  } while (0)
