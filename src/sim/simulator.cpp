#include "sim/simulator.h"

#include <algorithm>

#include "core/errors.h"
#include "core/schedule_walk.h"

namespace ppb {

Timeline simulate(const Schedule& schedule, const CostModel& costs) {
  Timeline timeline;
  timeline.schedule = schedule.name;
  timeline.source = "predicted";
  timeline.num_ranks = schedule.num_ranks;
  timeline.num_microbatches = schedule.num_microbatches;
  timeline.chunks = schedule.chunks;
  timeline.split_backward = schedule.split_backward;
  timeline.stage_rank = schedule.stage_rank;
  timeline.ranks.resize(static_cast<std::size_t>(schedule.num_ranks));
  for (int r = 0; r < schedule.num_ranks; ++r) {
    timeline.ranks[static_cast<std::size_t>(r)].resize(schedule.ops[static_cast<std::size_t>(r)].size());
  }

  const OpIndexer index{schedule.num_stages(), schedule.num_microbatches};
  std::vector<double> end_us(index.size(), 0.0);
  std::vector<double> rank_free_us(static_cast<std::size_t>(schedule.num_ranks), 0.0);

  const WalkResult walk = walk_schedule(schedule, [&](int rank, std::size_t pos, const Op& op) {
    double start = rank_free_us[static_cast<std::size_t>(rank)];
    Op producers[2];
    const int n = producers_of(schedule, op, producers);
    for (int i = 0; i < n; ++i) {
      const Op& p = producers[i];
      const double produced = end_us[index(p)];
      const int src = schedule.rank_of(p.stage);
      double ready = produced;
      if (src != rank) {
        ready += costs.transfer_us(src, rank);
        timeline.transfers.push_back({p, src, rank, produced, ready, costs.activation_bytes});
      }
      start = std::max(start, ready);
    }
    const double end = start + costs.op_us(op);
    end_us[index(op)] = end;
    rank_free_us[static_cast<std::size_t>(rank)] = end;
    timeline.ranks[static_cast<std::size_t>(rank)][pos] = OpRecord{op, start, end};
  });
  if (!walk.complete) PPB_THROW(ScheduleError, "schedule: deadlock (run validate() for the offending op)");

  if (costs.optimizer_us > 0) {
    for (int r = 0; r < schedule.num_ranks; ++r) {
      const double start = rank_free_us[static_cast<std::size_t>(r)];
      timeline.ranks[static_cast<std::size_t>(r)].push_back(
          OpRecord{Op{OpKind::Optimizer, -1, -1}, start, start + costs.optimizer_us});
    }
  }
  return timeline;
}

}  // namespace ppb
