#include "sim/simulator.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace ppb {

Timeline simulate(const Schedule& schedule, const CostModel& costs) {
  Timeline timeline;
  Simulator().run(schedule, costs, timeline);
  return timeline;
}

void Simulator::run(const Schedule& schedule, const CostModel& costs, Timeline& timeline) {
  set_timeline_header(timeline, schedule, "predicted");
  for (int r = 0; r < schedule.num_ranks; ++r) {
    timeline.ranks[static_cast<std::size_t>(r)].resize(schedule.ops[static_cast<std::size_t>(r)].size());
  }

  const OpIndexer index{schedule.num_stages(), schedule.num_microbatches};
  end_us_.assign(index.size(), 0.0);
  rank_free_us_.assign(static_cast<std::size_t>(schedule.num_ranks), 0.0);

  // Link costs looked up once per rank pair, not once per transfer.
  const auto ranks = static_cast<std::size_t>(schedule.num_ranks);
  link_us_.resize(ranks * ranks);
  for (std::size_t src = 0; src < ranks; ++src) {
    for (std::size_t dst = 0; dst < ranks; ++dst) {
      link_us_[src * ranks + dst] = costs.transfer_us(static_cast<int>(src), static_cast<int>(dst));
    }
  }
  // Every cross-rank edge between neighbouring stages carries one activation and
  // one gradient per microbatch: reserve exactly that many transfer records.
  std::size_t transfers = 0;
  for (int stage = 0; stage + 1 < schedule.num_stages(); ++stage) {
    if (schedule.rank_of(stage) != schedule.rank_of(stage + 1)) transfers += 2 * std::size_t(schedule.num_microbatches);
  }
  timeline.transfers.clear();
  timeline.transfers.reserve(transfers);

  const WalkResult walk = walk_schedule(
      schedule,
      [&](int rank, std::size_t pos, const Op& op) {
        double start = rank_free_us_[static_cast<std::size_t>(rank)];
        Op producers[2];
        const int n = producers_of(schedule, op, producers);
        for (int i = 0; i < n; ++i) {
          const Op& p = producers[i];
          const double produced = end_us_[index(p)];
          const int src = schedule.rank_of(p.stage);
          double ready = produced;
          if (src != rank) {
            ready += link_us_[static_cast<std::size_t>(src) * ranks + static_cast<std::size_t>(rank)];
            timeline.transfers.push_back({p, src, rank, produced, ready, costs.activation_bytes});
          }
          start = std::max(start, ready);
        }
        const double end = start + costs.op_us(op);
        end_us_[index(op)] = end;
        rank_free_us_[static_cast<std::size_t>(rank)] = end;
        timeline.ranks[static_cast<std::size_t>(rank)][pos] = OpRecord{op, start, end};
      },
      &walk_);
  if (!walk.complete) PPB_THROW(ScheduleError, "schedule: deadlock (run validate() for the offending op)");
  // An infinite or NaN time stays on its rank to the rank's last op (max and +
  // keep it), so the last end of every rank tells whether all times are finite.
  // Renderers and metrics assume finite times: stop here instead.
  for (int r = 0; r < schedule.num_ranks; ++r) {
    const double end = rank_free_us_[static_cast<std::size_t>(r)] + costs.optimizer_us;
    PPB_REQUIRE_INPUT(std::isfinite(end), "cost model: rank ", r, "'s ops end at ", end,
                      " us: the op or transfer times are too large or not numbers");
  }

  if (costs.optimizer_us > 0) {
    for (int r = 0; r < schedule.num_ranks; ++r) {
      const double start = rank_free_us_[static_cast<std::size_t>(r)];
      timeline.ranks[static_cast<std::size_t>(r)].push_back(
          OpRecord{Op{OpKind::Optimizer, -1, -1}, start, start + costs.optimizer_us});
    }
  }
}

}  // namespace ppb
