// Where each rank's idle time goes, for one timeline (measured or predicted).
// The three parts sum to the rank's idle time (makespan - busy), so a bubble can
// be read as "how much is pipeline fill/drain, how much is communication, how
// much is one stage waiting for a slower one". Definitions: docs/compare.md.
#pragma once

#include <vector>

#include "core/timeline.h"

namespace ppb {

struct IdleBreakdown {
  int rank = 0;
  double idle_us = 0;           // makespan - busy (as in analysis/metrics.h)
  double warmup_us = 0;         // before the rank's first op, from the first op of any rank
  double cooldown_us = 0;       // after the rank's last op, to the last op end of any rank
  double transfer_wait_us = 0;  // inside the rank's span, while the input it waits for is in flight
  double imbalance_us = 0;      // the rest of the gaps inside the span (waiting on a producer still computing)
  double warmup_cooldown_us() const { return warmup_us + cooldown_us; }
};

// One entry per rank. Requires ops in range (a simulated timeline, or one that
// passed check_timeline in analysis/timeline_source.h).
std::vector<IdleBreakdown> idle_breakdown(const Timeline& timeline);

}  // namespace ppb
