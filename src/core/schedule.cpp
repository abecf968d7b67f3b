#include "core/schedule.h"
#include "core/timeline.h"

#include <string>

#include "core/errors.h"
#include "core/schedule_walk.h"

namespace ppb {

std::size_t Schedule::total_ops() const {
  std::size_t n = 0;
  for (const auto& list : ops) n += list.size();
  return n;
}

std::vector<int> plain_placement(int num_ranks) { return interleaved_placement(num_ranks, 1); }

std::vector<int> interleaved_placement(int num_ranks, int chunks) {
  std::vector<int> placement(static_cast<std::size_t>(num_ranks) * chunks);
  for (std::size_t s = 0; s < placement.size(); ++s) placement[s] = static_cast<int>(s) % num_ranks;
  return placement;
}

std::vector<int> vshape_placement(int num_ranks, int chunks) {
  std::vector<int> placement(static_cast<std::size_t>(num_ranks) * chunks);
  for (std::size_t s = 0; s < placement.size(); ++s) {
    const int chunk = static_cast<int>(s) / num_ranks;
    const int offset = static_cast<int>(s) % num_ranks;
    placement[s] = (chunk % 2 == 0) ? offset : num_ranks - 1 - offset;
  }
  return placement;
}

int producers_of(const Schedule& schedule, const Op& op, Op out[2]) {
  switch (op.kind) {
    case OpKind::F:
      if (op.stage == 0) return 0;
      out[0] = Op{OpKind::F, op.stage - 1, op.microbatch};
      return 1;
    case OpKind::B:
      out[0] = Op{OpKind::F, op.stage, op.microbatch};
      if (op.stage == schedule.num_stages() - 1) return 1;
      out[1] = Op{OpKind::B, op.stage + 1, op.microbatch};
      return 2;
    case OpKind::W:
      out[0] = Op{OpKind::B, op.stage, op.microbatch};
      return 1;
    case OpKind::Optimizer:
      return 0;
  }
  return 0;
}

namespace {

std::string at_rank(int rank, std::size_t pos) {
  return " (rank " + std::to_string(rank) + ", position " + std::to_string(pos) + ")";
}

void check_shape(const Schedule& s) {
  if (s.num_ranks <= 0) PPB_THROW(ScheduleError, "schedule: num_ranks must be positive");
  if (s.num_microbatches <= 0) PPB_THROW(ScheduleError, "schedule: num_microbatches must be positive");
  if (s.chunks <= 0) PPB_THROW(ScheduleError, "schedule: chunks must be positive");
  if (s.num_stages() != s.num_ranks * s.chunks) {
    PPB_THROW(ScheduleError, "schedule: placement has ", s.num_stages(), " stages, expected ranks x chunks = ",
              s.num_ranks * s.chunks);
  }
  if (static_cast<int>(s.ops.size()) != s.num_ranks) {
    PPB_THROW(ScheduleError, "schedule: ", s.ops.size(), " op lists for ", s.num_ranks, " ranks");
  }
  std::vector<int> stages_on_rank(static_cast<std::size_t>(s.num_ranks), 0);
  for (int stage = 0; stage < s.num_stages(); ++stage) {
    const int r = s.rank_of(stage);
    if (r < 0 || r >= s.num_ranks) {
      PPB_THROW(ScheduleError, "schedule: stage ", stage, " is placed on rank ", r, ", outside 0..", s.num_ranks - 1);
    }
    ++stages_on_rank[static_cast<std::size_t>(r)];
  }
  for (int r = 0; r < s.num_ranks; ++r) {
    if (stages_on_rank[static_cast<std::size_t>(r)] != s.chunks) {
      PPB_THROW(ScheduleError, "schedule: rank ", r, " holds ", stages_on_rank[static_cast<std::size_t>(r)],
                " stages, expected ", s.chunks, " (one per chunk)");
    }
  }
}

}  // namespace

void validate(const Schedule& s) {
  check_shape(s);
  const OpIndexer index{s.num_stages(), s.num_microbatches};
  // position + 1 of each op in its rank's list; 0 = not seen.
  std::vector<std::size_t> seen_at(index.size(), 0);
  std::size_t w_ops = 0;
  for (int r = 0; r < s.num_ranks; ++r) {
    const auto& list = s.ops[static_cast<std::size_t>(r)];
    for (std::size_t pos = 0; pos < list.size(); ++pos) {
      const Op& op = list[pos];
      if (op.kind == OpKind::Optimizer) {
        PPB_THROW(ScheduleError, "schedule: optimizer op", at_rank(r, pos), " is not allowed in op lists");
      }
      if (op.stage < 0 || op.stage >= s.num_stages() || op.microbatch < 0 ||
          op.microbatch >= s.num_microbatches) {
        PPB_THROW(ScheduleError, "schedule: op ", describe(op), at_rank(r, pos), " is out of range (", s.num_stages(),
                  " stages, ", s.num_microbatches, " microbatches)");
      }
      if (s.rank_of(op.stage) != r) {
        PPB_THROW(ScheduleError, "schedule: op ", describe(op), at_rank(r, pos), " belongs on rank ",
                  s.rank_of(op.stage));
      }
      std::size_t& slot = seen_at[index(op)];
      if (slot != 0) PPB_THROW(ScheduleError, "schedule: op ", describe(op), at_rank(r, pos), " appears twice");
      slot = pos + 1;
      if (op.kind == OpKind::W) ++w_ops;
    }
  }
  if (w_ops != 0 && !s.split_backward) {
    PPB_THROW(ScheduleError, "schedule: has W ops but does not split the backward");
  }
  // Every op exactly once; F before B before W on each stage.
  for (int stage = 0; stage < s.num_stages(); ++stage) {
    for (int m = 0; m < s.num_microbatches; ++m) {
      const Op f{OpKind::F, stage, m}, b{OpKind::B, stage, m}, w{OpKind::W, stage, m};
      const int r = s.rank_of(stage);
      for (const Op& op : {f, b}) {
        if (seen_at[index(op)] == 0) PPB_THROW(ScheduleError, "schedule: op ", describe(op), " (rank ", r, ") is missing");
      }
      if (s.split_backward && seen_at[index(w)] == 0) {
        PPB_THROW(ScheduleError, "schedule: op ", describe(w), " (rank ", r, ") is missing");
      }
      if (seen_at[index(b)] < seen_at[index(f)]) {
        PPB_THROW(ScheduleError, "schedule: op ", describe(b), at_rank(r, seen_at[index(b)] - 1), " comes before ",
                  describe(f));
      }
      if (s.split_backward && seen_at[index(w)] < seen_at[index(b)]) {
        PPB_THROW(ScheduleError, "schedule: op ", describe(w), at_rank(r, seen_at[index(w)] - 1), " comes before ",
                  describe(b));
      }
    }
  }
  // Deadlock: the walk stops where ranks wait on each other.
  WalkScratch walked;  // after the walk, walked.done says which ops ran
  const WalkResult walk = walk_schedule(s, [](int, std::size_t, const Op&) {}, &walked);
  if (!walk.complete) {
    for (int r = 0; r < s.num_ranks; ++r) {
      const std::size_t pos = walk.stuck_at[static_cast<std::size_t>(r)];
      if (pos < s.ops[static_cast<std::size_t>(r)].size()) {
        const Op& op = s.ops[static_cast<std::size_t>(r)][pos];
        Op producers[2];
        const int n = producers_of(s, op, producers);
        // Only the producers that never ran: the others are not what it waits for.
        std::string waits;
        for (int i = 0; i < n; ++i) {
          if (walked.done[index(producers[i])] == 0) waits += (waits.empty() ? "" : ", ") + describe(producers[i]);
        }
        PPB_THROW(ScheduleError, "schedule: deadlock: op ", describe(op), at_rank(r, pos), " waits for ", waits,
                  ", which can never run");
      }
    }
  }
}

void set_timeline_header(Timeline& timeline, const Schedule& schedule, const std::string& source) {
  timeline.schedule = schedule.name;
  timeline.generator = schedule.generator;
  timeline.source = source;
  timeline.num_ranks = schedule.num_ranks;
  timeline.num_microbatches = schedule.num_microbatches;
  timeline.chunks = schedule.chunks;
  timeline.split_backward = schedule.split_backward;
  timeline.stage_rank = schedule.stage_rank;
  timeline.ranks.resize(static_cast<std::size_t>(schedule.num_ranks));
}

}  // namespace ppb
