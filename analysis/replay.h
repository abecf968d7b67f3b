// The replay: the simulator re-run with what the run measured instead of the
// nominal inputs (the median duration of each stage's F, B and W, and the
// median send-to-arrival time of each link). Holding measured against replay
// isolates the schedule and transfer model; replay against predicted isolates
// the op durations.
#pragma once

#include <vector>

#include "core/schedule.h"
#include "core/timeline.h"
#include "sim/cost_model.h"

namespace ppb {

// Median of the values (the mean of the two middle ones for an even count);
// NaN when empty.
double median_of(std::vector<double> values);

// The nominal model with each (stage, kind) duration replaced by its median
// over the iterations, and a fixed per-link cost (link_by_pair, keyed by
// (src rank, dst rank)) equal to the median arrive - send of that link. Kinds
// or links that never ran keep their nominal cost.
CostModel measured_cost_model(const std::vector<Timeline>& iterations, const CostModel& nominal);

// simulate(schedule, measured_cost_model(...)) with source "replay".
Timeline replay_timeline(const Schedule& schedule, const std::vector<Timeline>& iterations, const CostModel& nominal);

}  // namespace ppb
