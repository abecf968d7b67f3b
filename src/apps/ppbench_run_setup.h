// What a ppbench run and each point of `ppbench sweep` share: the cost models
// and faults of one schedule, worked out before any rank does work, and rank
// 0's analysis of the measured iterations (prediction, replay, summary), so
// that a sweep point is measured and judged exactly as a run is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/ppbench_measure.h"
#include "apps/ppbench_output.h"
#include "core/schedule.h"
#include "runtime/fault_spec.h"
#include "sim/cost_model.h"

namespace ppb {

// Identical on every rank (it depends only on argv and the world size).
struct RunSetup {
  Schedule schedule;
  CostModel nominal;    // the ops' target times, from the flags
  CostModel targets;    // nominal with '*' slowdowns: what the ops run with
  CostModel predicted;  // what the run is held against: targets, or the calibration with the same slowdowns
  std::vector<FaultSpec> faults;
};

// The cost models of `schedule`: the time flags always set the ops' targets,
// --calibration only changes the prediction (and excludes the link flags).
// `faults` were parsed against `schedule`. Throws InputError naming the flag.
RunSetup make_run_setup(Schedule schedule, const CostInputs& costs, std::vector<FaultSpec> faults);

// One op kind's target over the stages: "2.000 ms", or "1.000 ms to 3.000 ms"
// where the stages differ.
std::string stage_times(const std::vector<double>& us);

// "F 1.000 ms, B 2.000 ms[, W ...] per stage" for the setup's nominal times.
std::string stage_times_line(const RunSetup& setup);

// Rank 0's context block of a measurement: measurement_context plus the
// faults (as given) and the calibration file (null when none).
nlohmann::json run_context(const std::vector<std::string>& argv, const MpiWorld& world,
                           const std::vector<std::string>& hosts, const RankSession& session, double clock_bound_us,
                           const CostInputs& costs, const std::vector<std::string>& faults);

// --max-error, as a run and a sweep take it: a percentage >= 0 (InputError naming the flag).
void check_max_error(const std::optional<double>& max_error_pct);
// Rank 0, after the report: when |makespan_rel_error| exceeds --max-error, one
// line on standard error ("... makespan error 7.2%<where> exceeds 5%"; `where`
// names a sweep's point, " at 1f1b M=8") and kExitErrorExceeded; else kExitOk.
int max_error_exit_code(const std::optional<double>& max_error_pct, double makespan_rel_error,
                        const std::string& where);

// Rank 0, after run_iterations: the prediction, the replay and the summary
// (the median iteration, the errors, the peaks) of the measured iterations.
RunResults analyze_measurement(const RunSetup& setup, MeasuredIterations measured, int warmup,
                               std::uint64_t activation_bytes, nlohmann::json context);

}  // namespace ppb
