#include "analysis/idle_breakdown.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "analysis/metrics.h"
#include "core/schedule.h"

namespace ppb {
namespace {

// The in-flight interval of each cross-rank hand-off, by (producer, receiver).
// Each producer has one consumer, so the key is unique.
class TransferIndex {
 public:
  explicit TransferIndex(const Timeline& t) : stages_(t.num_stages()), ranks_(t.num_ranks) {
    for (const TransferRecord& x : t.transfers) by_key_[key(x.producer, x.dst_rank)] = &x;
  }
  const TransferRecord* find(const Op& producer, int dst_rank) const {
    const auto it = by_key_.find(key(producer, dst_rank));
    return it == by_key_.end() ? nullptr : it->second;
  }

 private:
  std::uint64_t key(const Op& op, int dst) const {
    const std::uint64_t op_index =
        (std::uint64_t(op.microbatch) * std::uint64_t(stages_) + std::uint64_t(op.stage)) * kNumComputeKinds +
        std::uint64_t(op.kind);
    return op_index * std::uint64_t(ranks_) + std::uint64_t(dst);
  }
  int stages_;
  int ranks_;
  std::unordered_map<std::uint64_t, const TransferRecord*> by_key_;
};

// Only the placement is needed to name an op's producers.
Schedule placement_of(const Timeline& t) {
  Schedule s;
  s.name = t.schedule;
  s.num_ranks = t.num_ranks;
  s.num_microbatches = t.num_microbatches;
  s.chunks = t.chunks;
  s.split_backward = t.split_backward;
  s.stage_rank = t.stage_rank;
  return s;
}

}  // namespace

std::vector<IdleBreakdown> idle_breakdown(const Timeline& t) {
  const OpSpan span = op_span(t);
  const double first = span.first_us, last = span.last_us, makespan = span.length_us();
  const Schedule placement = placement_of(t);
  const TransferIndex transfers(t);

  std::vector<IdleBreakdown> out;
  for (int r = 0; r < t.num_ranks; ++r) {
    const auto& ops = t.ranks[static_cast<std::size_t>(r)];
    IdleBreakdown b;
    b.rank = r;
    double busy = 0;
    for (const OpRecord& rec : ops) busy += rec.end_us - rec.start_us;
    b.idle_us = makespan - busy;
    if (ops.empty()) {
      b.warmup_us = makespan;  // a rank with nothing to do only waits
      out.push_back(b);
      continue;
    }
    b.warmup_us = ops.front().start_us - first;
    b.cooldown_us = last - ops.back().end_us;
    for (std::size_t i = 1; i < ops.size(); ++i) {
      const double ready = ops[i - 1].end_us;  // the rank is free from here
      const double start = ops[i].start_us;
      const double gap = start - ready;
      if (gap <= 0) {
        // Only overlapping measured ops (clock error) give a negative gap; it is
        // kept in imbalance so that the parts still sum to idle.
        b.imbalance_us += gap;
        continue;
      }
      // The op waits on its latest-arriving cross-rank input (under the
      // dependency rules an op has at most one). The part of the gap while that
      // input is in flight is transfer wait; before it was sent, the rank waits
      // on the producer's compute (imbalance); after it arrived, on nothing
      // modelled (launch overhead in measurements; zero in predictions).
      const TransferRecord* binding = nullptr;
      if (ops[i].op.kind != OpKind::Optimizer) {
        Op producers[2];
        const int n = producers_of(placement, ops[i].op, producers);
        for (int k = 0; k < n; ++k) {
          if (placement.rank_of(producers[k].stage) == r) continue;
          const TransferRecord* x = transfers.find(producers[k], r);
          if (x != nullptr && (binding == nullptr || x->arrive_us > binding->arrive_us)) binding = x;
        }
      }
      double wait = 0;
      if (binding != nullptr) wait = std::max(0.0, std::min(binding->arrive_us, start) - std::max(binding->send_us, ready));
      b.transfer_wait_us += wait;
      b.imbalance_us += gap - wait;
    }
    out.push_back(b);
  }
  return out;
}

}  // namespace ppb
