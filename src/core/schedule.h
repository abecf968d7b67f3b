// The schedule IR: per-rank ordered op lists plus the placement of stages on
// ranks. Both executors (simulator and runtime) consume exactly this.
//
// Contract (ARCHITECTURE.md): dependencies follow from each op and the placement,
// never from list order:
//   F(s,m) needs F(s-1,m) when s > 0;
//   B(s,m) needs F(s,m) and, when s is not the last stage, B(s+1,m);
//   W(s,m) needs B(s,m).
// A dependency between stages on different ranks is a transfer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/op.h"

namespace ppb {

struct Schedule {
  // A label for people: the generator's name, or for a schedule read from a file
  // "file NAME.csv", "file NAME.json (its \"name\")" (io/schedule_io.h).
  std::string name;
  // The generator that built it ("gpipe", "1f1b", "interleaved", "zb-h1"); empty
  // for a schedule read from a file or built by hand. What depends on how the
  // schedule was made (the analytic bubble formula) reads this, never `name`.
  std::string generator;
  int num_ranks = 0;                 // P
  int num_microbatches = 0;          // M
  int chunks = 1;                    // v: stages per rank
  bool split_backward = false;       // true when W ops are present (zero bubble)
  std::vector<int> stage_rank;       // rank of each stage; size P * v
  std::vector<std::vector<Op>> ops;  // per rank, in execution order

  int num_stages() const { return static_cast<int>(stage_rank.size()); }
  int rank_of(int stage) const { return stage_rank[static_cast<std::size_t>(stage)]; }
  std::size_t total_ops() const;
};

// Placement rules. Plain: stage s on rank s. Interleaved (Megatron virtual
// pipeline): stage s on rank s % P. V-shape: chunk c runs forward across ranks on
// even c and back on odd c, so the first and last stage share rank 0.
std::vector<int> plain_placement(int num_ranks);
std::vector<int> interleaved_placement(int num_ranks, int chunks);
std::vector<int> vshape_placement(int num_ranks, int chunks);

// The producers an op waits for (0, 1 or 2 of them); returns how many were written.
int producers_of(const Schedule& schedule, const Op& op, Op out[2]);

// Throws ScheduleError naming the first offending op when the schedule breaks a
// rule: an op out of range or on the wrong rank, an op missing or repeated, W ops
// in only part of the schedule, F/B/W of a stage out of order, or a set of ranks
// that would wait on each other forever under the execution rule.
void validate(const Schedule& schedule);

}  // namespace ppb
