// The unit of a pipeline schedule: one compute op of one stage on one microbatch.
#pragma once

#include <cstdint>
#include <string>

namespace ppb {

// F: forward. B: backward; the input-gradient half when the schedule splits out W,
// otherwise the full backward. W: weight gradient. Optimizer never appears in a
// Schedule; executors append it per rank after the rank's last op when enabled.
enum class OpKind : std::uint8_t { F = 0, B = 1, W = 2, Optimizer = 3 };

constexpr int kNumComputeKinds = 3;  // F, B, W: the kinds a Schedule holds

struct Op {
  OpKind kind = OpKind::F;
  int stage = 0;
  int microbatch = 0;

  friend bool operator==(const Op& a, const Op& b) {
    return a.kind == b.kind && a.stage == b.stage && a.microbatch == b.microbatch;
  }
  friend bool operator!=(const Op& a, const Op& b) { return !(a == b); }
};

char kind_letter(OpKind kind);        // 'F', 'B', 'W', 'O'
const char* kind_name(OpKind kind);   // "forward", "backward", ...

// "F3@s1": kind, microbatch and stage, for messages.
std::string describe(const Op& op);

}  // namespace ppb
