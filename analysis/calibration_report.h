// The console tables of `ppbench calibrate`: per rank and kind the target and
// the measured median, p5 and p95; per link the per-size medians and the fit.
#pragma once

#include <string>
#include <vector>

#include "analysis/calibration.h"

namespace ppb {

// `targets`: the target of every rank's stage (a cost model with one stage per
// rank, as calibration runs it); a target of 0 is shown as "-".
std::string format_calibration_report(const Calibration& calibration, const CostModel& targets);

}  // namespace ppb
