// The replay: the simulator re-run with what the run measured instead of the
// nominal inputs (the median duration of each stage's F, B and W, and each
// link's send-to-arrival time, estimate_link_cost below). Holding measured against replay
// isolates the schedule and transfer model; replay against predicted isolates
// the op durations.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "core/schedule.h"
#include "core/timeline.h"
#include "sim/cost_model.h"

namespace ppb {

// Median of the values (the mean of the two middle ones for an even count);
// NaN when empty.
double median_of(std::vector<double> values);

// One link's cost for the replay, from that link's measured transfers (those
// with a finite send and arrive): the median arrive - send (negative counts as
// 0) over the transfers whose consumer was already waiting when the data
// arrived (wait_start <= arrive). Only those time the transfer itself: when the
// consumer was computing, `arrive` is when the backend next looked (the CPU
// backend polls between sleep slices of a compute), so the difference adds the
// consumer's polling lag, not the link's cost. A link whose consumer never
// waited takes the median over all its transfers instead, an upper bound.
// NaN when no transfer has both times.
struct LinkCostEstimate {
  double cost_us = 0;
  int samples = 0;          // transfers with both times
  int waiting_samples = 0;  // of those, the consumer was waiting: the ones used when > 0
};
LinkCostEstimate estimate_link_cost(const std::vector<TransferRecord>& transfers);

// estimate_link_cost per link (src rank, dst rank) over the transfers of every
// iteration; links without a transfer that has both times are left out.
std::map<std::pair<int, int>, LinkCostEstimate> measured_link_costs(const std::vector<Timeline>& iterations);

// The nominal model with each (stage, kind) duration replaced by its median
// over the iterations, and a fixed per-link cost (link_by_pair, keyed by
// (src rank, dst rank)) from estimate_link_cost over that link's transfers of
// every iteration (measured_link_costs). Kinds or links that never ran keep
// their nominal cost.
CostModel measured_cost_model(const std::vector<Timeline>& iterations, const CostModel& nominal);

// simulate(schedule, measured_cost_model(...)) with source "replay".
Timeline replay_timeline(const Schedule& schedule, const std::vector<Timeline>& iterations, const CostModel& nominal);

}  // namespace ppb
