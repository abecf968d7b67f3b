// Discrete-event simulator of the execution rule (ARCHITECTURE.md): each rank
// runs its compute ops one at a time in list order; an op starts when the rank
// is free and every producer has ended plus, across ranks, the link's cost.
// Transfers never occupy a rank. The result is exact for the cost model and
// deterministic: the same input gives the same Timeline.
#pragma once

#include "core/schedule.h"
#include "core/schedule_walk.h"
#include "core/timeline.h"
#include "sim/cost_model.h"

namespace ppb {

// Requires a valid schedule (validate()); throws ScheduleError otherwise.
Timeline simulate(const Schedule& schedule, const CostModel& costs);

// For many simulations in a row (sweeps, benchmarks): keeps its working buffers
// and fills a caller's Timeline in place, so repeated runs reuse memory.
class Simulator {
 public:
  void run(const Schedule& schedule, const CostModel& costs, Timeline& out);

 private:
  std::vector<double> end_us_;
  std::vector<double> rank_free_us_;
  std::vector<double> link_us_;
  WalkScratch walk_;
};

}  // namespace ppb
