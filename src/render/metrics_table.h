// The console summary under a timeline: makespan, bubble, the analytic
// reference (labelled as such) and the per-rank table.
#pragma once

#include <string>

#include "analysis/metrics.h"
#include "core/timeline.h"

namespace ppb {

std::string format_metrics_table(const Metrics& metrics, const Timeline& timeline);

// "12.345 ms" / "850.0 us": times in the unit a reader expects.
std::string format_duration(double us);

}  // namespace ppb
