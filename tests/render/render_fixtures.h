// Timelines for the renderer tests: simulated ones (exact, deterministic) and
// a synthetic "measured" one derived from a prediction, standing in for the
// runtime's output (slower ops, a receiver that waited).
#pragma once

#include <string>

#include "core/timeline.h"
#include "schedules/generators.h"
#include "sim/cost_model.h"
#include "sim/simulator.h"

namespace ppb::test {

inline Timeline simulated(const std::string& schedule, int p, int m, CostInputs costs = {}) {
  const Schedule s = generate_schedule(schedule, p, m, schedule == "interleaved" ? 2 : 1);
  return simulate(s, make_cost_model(costs, s));
}

// Every time stretched by 10 % plus a per-rank skew; each receiver began
// waiting half-way through its transfer.
inline Timeline fake_measured(Timeline t) {
  t.source = "measured";
  for (std::size_t r = 0; r < t.ranks.size(); ++r) {
    for (OpRecord& rec : t.ranks[r]) {
      rec.start_us = rec.start_us * 1.1 + 10.0 * static_cast<double>(r);
      rec.end_us = rec.end_us * 1.1 + 10.0 * static_cast<double>(r);
    }
  }
  for (TransferRecord& x : t.transfers) {
    x.send_us *= 1.1;
    x.arrive_us *= 1.1;
    x.wait_start_us = 0.5 * (x.send_us + x.arrive_us);
  }
  return t;
}

}  // namespace ppb::test
