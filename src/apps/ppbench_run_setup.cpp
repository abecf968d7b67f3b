#include "apps/ppbench_run_setup.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <utility>

#include "analysis/calibration.h"
#include "analysis/replay.h"
#include "analysis/run_summary.h"
#include "core/errors.h"
#include "render/metrics_table.h"
#include "sim/simulator.h"

namespace ppb {

RunSetup make_run_setup(Schedule schedule, const CostInputs& costs, std::vector<FaultSpec> faults) {
  RunSetup setup;
  setup.schedule = std::move(schedule);
  setup.faults = std::move(faults);
  // The time flags always set the ops' targets; --calibration only changes the prediction.
  CostInputs target_inputs = costs;
  target_inputs.calibration_file.clear();
  setup.nominal = make_cost_model(target_inputs, setup.schedule);
  setup.targets = apply_slowdown(setup.nominal, setup.faults, setup.schedule);
  setup.predicted = setup.targets;
  if (!costs.calibration_file.empty()) {
    for (const char* flag : {"--p2p-time", "--p2p-latency", "--bandwidth"}) {
      PPB_REQUIRE_INPUT(costs.time_flags_given.count(flag) == 0, flag,
                        ": cannot be used with --calibration (the calibration file gives the link costs)");
    }
    setup.predicted = apply_slowdown(calibrated_cost_model(costs, setup.schedule), setup.faults, setup.schedule);
  }
  return setup;
}

std::string stage_times(const std::vector<double>& us) {
  const auto [low, high] = std::minmax_element(us.begin(), us.end());
  return *low == *high ? format_duration(*low) : format_duration(*low) + " to " + format_duration(*high);
}

std::string stage_times_line(const RunSetup& s) {
  std::string line = "F " + stage_times(s.nominal.forward_us) + ", B " + stage_times(s.nominal.backward_us);
  if (s.schedule.split_backward) line += ", W " + stage_times(s.nominal.weight_us);
  return line + " per stage";
}

nlohmann::json run_context(const std::vector<std::string>& argv, const MpiWorld& world,
                           const std::vector<std::string>& hosts, const RankSession& session, double clock_bound_us,
                           const CostInputs& costs, const std::vector<std::string>& faults) {
  nlohmann::json context = measurement_context(argv, world, hosts, session, clock_bound_us, costs.activation_bytes);
  context["faults"] = faults;
  context["calibration"] = costs.calibration_file.empty() ? nlohmann::json() : nlohmann::json(costs.calibration_file);
  return context;
}

void check_max_error(const std::optional<double>& max_error_pct) {
  PPB_REQUIRE_INPUT(!max_error_pct || (std::isfinite(*max_error_pct) && *max_error_pct >= 0),
                    "--max-error: must be a percentage >= 0");
}

int max_error_exit_code(const std::optional<double>& max_error_pct, double makespan_rel_error,
                        const std::string& where) {
  const double error_pct = 100.0 * std::abs(makespan_rel_error);
  if (!max_error_pct || error_pct <= *max_error_pct) return kExitOk;
  std::cerr << "ppbench: error: --max-error: makespan error " << error_pct << "%" << where << " exceeds "
            << *max_error_pct << "%\n";
  return kExitErrorExceeded;
}

RunResults analyze_measurement(const RunSetup& setup, MeasuredIterations measured, int warmup,
                               std::uint64_t activation_bytes, nlohmann::json context) {
  RunResults results;
  results.warmup = warmup;
  results.measured = std::move(measured.timelines);
  results.context = std::move(context);
  results.predicted = simulate(setup.schedule, setup.predicted);
  results.replay = replay_timeline(setup.schedule, results.measured, setup.predicted);
  results.summary = summarize_run(results.measured, results.predicted, results.replay, setup.targets);
  results.summary.rank_peak_buffer_bytes = std::move(measured.peak_buffer_bytes);
  results.summary.activation_bytes = activation_bytes;
  return results;
}

}  // namespace ppb
