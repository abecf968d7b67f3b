// A dependency-respecting traversal of a schedule, shared by validation (which
// only needs to know whether it completes) and the simulator (which computes
// times in the same order). Each rank advances through its list while the head
// op's producers are done; finishing an op wakes the ranks that may consume it.
// Every op is visited once and every rank is woken O(1) times per op, so the walk
// is linear in the number of ops.
#pragma once

#include <cstdint>
#include <vector>

#include "core/schedule.h"

namespace ppb {

// Dense index of an op: ((microbatch * S) + stage) * 3 + kind. Microbatch-major
// keeps the ops that run close in time (the pipeline's wavefront spans a few
// microbatches across all stages) close in memory.
struct OpIndexer {
  int stages = 0;
  int microbatches = 0;
  std::size_t size() const { return std::size_t(kNumComputeKinds) * stages * microbatches; }
  std::size_t operator()(const Op& op) const {
    return (std::size_t(op.microbatch) * stages + op.stage) * kNumComputeKinds + std::size_t(op.kind);
  }
};

struct WalkResult {
  bool complete = true;
  // When incomplete: for each rank, the position of the op it is stuck at
  // (ops[r].size() where the rank finished).
  std::vector<std::size_t> stuck_at;
};

// Buffers a walk needs; kept by callers that walk many schedules (the
// simulator) so that repeated walks reuse memory instead of faulting in new pages.
struct WalkScratch {
  std::vector<std::uint8_t> done;
  std::vector<std::size_t> next;
  std::vector<int> work;
};

// on_op(rank, position, op) is called once per op, after all of the op's
// producers and after the previous op of the same rank. Requires the ops to be
// in range (validate() checks this before walking).
template <typename OnOp>
WalkResult walk_schedule(const Schedule& schedule, OnOp&& on_op, WalkScratch* reuse = nullptr) {
  const OpIndexer index{schedule.num_stages(), schedule.num_microbatches};
  const int num_ranks = schedule.num_ranks;
  WalkScratch local;
  WalkScratch& scratch = reuse != nullptr ? *reuse : local;
  std::vector<std::uint8_t>& done = scratch.done;
  std::vector<std::size_t>& next = scratch.next;
  std::vector<int>& work = scratch.work;
  done.assign(index.size(), 0);
  next.assign(static_cast<std::size_t>(num_ranks), 0);
  work.clear();
  for (int r = num_ranks - 1; r >= 0; --r) work.push_back(r);

  const int last_stage = schedule.num_stages() - 1;
  while (!work.empty()) {
    const int rank = work.back();
    work.pop_back();
    const auto& list = schedule.ops[static_cast<std::size_t>(rank)];
    std::size_t& pos = next[static_cast<std::size_t>(rank)];
    while (pos < list.size()) {
      const Op& op = list[pos];
      Op producers[2];
      const int n = producers_of(schedule, op, producers);
      bool ready = true;
      for (int i = 0; i < n && ready; ++i) ready = done[index(producers[i])] != 0;
      if (!ready) break;
      on_op(rank, pos, op);
      done[index(op)] = 1;
      ++pos;
      // Wake the ranks that can consume this op (its own rank keeps going).
      if (op.kind == OpKind::F && op.stage < last_stage) {
        const int consumer = schedule.rank_of(op.stage + 1);
        if (consumer != rank) work.push_back(consumer);
      } else if (op.kind == OpKind::B && op.stage > 0) {
        const int consumer = schedule.rank_of(op.stage - 1);
        if (consumer != rank) work.push_back(consumer);
      }
    }
  }

  WalkResult result;
  for (int r = 0; r < num_ranks; ++r) {
    if (next[static_cast<std::size_t>(r)] != schedule.ops[static_cast<std::size_t>(r)].size()) {
      result.complete = false;
    }
  }
  if (!result.complete) result.stuck_at = next;
  return result;
}

}  // namespace ppb
