// Discrete-event simulator of the execution rule (ARCHITECTURE.md): each rank
// runs its compute ops one at a time in list order; an op starts when the rank
// is free and every producer has ended plus, across ranks, the link's cost.
// Transfers never occupy a rank. The result is exact for the cost model and
// deterministic: the same input gives the same Timeline.
#pragma once

#include "core/schedule.h"
#include "core/timeline.h"
#include "sim/cost_model.h"

namespace ppb {

// Requires a valid schedule (validate()); throws ScheduleError otherwise.
Timeline simulate(const Schedule& schedule, const CostModel& costs);

}  // namespace ppb
