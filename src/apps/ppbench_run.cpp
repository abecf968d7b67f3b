#include "apps/ppbench_run.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "analysis/calibration.h"
#include "analysis/replay.h"
#include "analysis/run_summary.h"
#include "apps/ppbench_measure.h"
#include "apps/ppbench_output.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/schedule_io.h"
#include "render/ascii.h"
#include "render/metrics_table.h"
#include "runtime/fault_spec.h"
#include "sim/simulator.h"

namespace ppb {

namespace {

// Everything derived from the flags before any rank does work. Identical on
// every rank (it depends only on argv and the world size).
struct RunSetup {
  Schedule schedule;
  CostModel nominal;    // the ops' target times, from the flags
  CostModel targets;    // nominal with '*' slowdowns: what the ops run with
  CostModel predicted;  // what the run is held against: targets, or the calibration with the same slowdowns
  std::vector<FaultSpec> faults;
};

RunSetup make_setup(const PpbenchOptions& o, int world_size) {
  check_ppbench_options(o);
  ScheduleOptions schedule_options = o.schedule;
  if (o.schedule.schedule_file.empty()) {
    PPB_REQUIRE_INPUT(!o.num_stages_given || o.schedule.num_stages == world_size, "--num-stages: ",
                      o.schedule.num_stages, " pipeline ranks, but mpirun started ", world_size,
                      " (run with -np ", o.schedule.num_stages, ", or leave --num-stages out to use every rank)");
    schedule_options.num_stages = world_size;
  }
  RunSetup setup;
  setup.schedule = build_schedule(schedule_options);
  PPB_REQUIRE_INPUT(setup.schedule.num_ranks == world_size, "--schedule-file: '", o.schedule.schedule_file, "' has ",
                    setup.schedule.num_ranks, " ranks, but mpirun started ", world_size);
  // The time flags always set the ops' targets; --calibration only changes the prediction.
  CostInputs target_inputs = o.costs;
  target_inputs.calibration_file.clear();
  setup.nominal = make_cost_model(target_inputs, setup.schedule);
  for (const std::string& text : o.faults) setup.faults.push_back(parse_fault_spec(text, setup.schedule));
  setup.targets = apply_slowdown(setup.nominal, setup.faults, setup.schedule);
  setup.predicted = setup.targets;
  if (!o.costs.calibration_file.empty()) {
    for (const char* flag : {"--p2p-time", "--p2p-latency", "--bandwidth"}) {
      PPB_REQUIRE_INPUT(o.costs.time_flags_given.count(flag) == 0, flag,
                        ": cannot be used with --calibration (the calibration file gives the link costs)");
    }
    setup.predicted = apply_slowdown(calibrated_cost_model(o.costs, setup.schedule), setup.faults, setup.schedule);
  }
  return setup;
}

// One op kind's target over the stages: "2.000 ms", or "1.000 ms to 3.000 ms"
// where the stages differ.
std::string stage_times(const std::vector<double>& us) {
  const auto [low, high] = std::minmax_element(us.begin(), us.end());
  return *low == *high ? format_duration(*low) : format_duration(*low) + " to " + format_duration(*high);
}

std::string configuration_line(const PpbenchOptions& o, const RunSetup& s) {
  std::ostringstream line;
  line << "ppbench: " << s.schedule.name << ", P=" << s.schedule.num_ranks << ", M=" << s.schedule.num_microbatches;
  if (s.schedule.chunks > 1) line << ", v=" << s.schedule.chunks;
  line << "; F " << stage_times(s.nominal.forward_us) << ", B " << stage_times(s.nominal.backward_us);
  if (s.schedule.split_backward) line << ", W " << stage_times(s.nominal.weight_us);
  line << " per stage; " << o.costs.activation_bytes << " B messages; " << o.measure.warmup << " warm-up + " << o.iters << " measured iterations";
  for (const FaultSpec& f : s.faults) line << "; fault " << f.text;
  if (!o.costs.calibration_file.empty()) line << "; predicted with " << o.costs.calibration_file;
  return line.str();
}

}  // namespace

int run_ppbench(PpbenchOptions o, const std::vector<std::string>& argv, MpiWorld& world) {
  const bool root = world.rank() == 0;
  int exit_code = kExitOk;
  std::optional<RunSetup> setup;
  const std::unique_ptr<RankWatch> watch = make_rank_watch(world);
  RankSession session;
  // Apart: every rank must have its setup before any enters the backend's collectives.
  if (!agree_on_input(world, [&] { setup = make_setup(o, world.size()); }, exit_code)) return exit_code;
  if (!agree_on_input(world, [&] {
        session = open_session(o.measure, setup->schedule, setup->nominal, o.costs.activation_bytes, setup->faults,
                               world, *watch);
      }, exit_code)) {
    return exit_code;
  }
  std::string run_dir;
  if (!agree_on_input(world, [&] {
        if (!root) return;
        run_dir = choose_run_directory(o.out, setup->schedule);
        if (!o.schedule.dump_schedule.empty()) check_output_file(o.schedule.dump_schedule, "--dump-schedule");
      }, exit_code)) {
    return exit_code;
  }
  const Schedule& schedule = setup->schedule;
  if (root) std::cout << backend_line(session, world.size()) << "\n" << std::flush;

  const std::vector<std::string> hosts = world.host_names();
  const ClockAlignment clocks = align_clocks(world, session);
  MeasuredIterations measured =
      run_iterations(world, session, schedule, clocks, o.measure.warmup, o.iters, o.measure.timeout_s);

  RunResults results;
  results.warmup = o.measure.warmup;
  results.measured = std::move(measured.timelines);
  if (root) {
    try {
      results.context =
          measurement_context(argv, world, hosts, session, clocks.bound_us + measured.timestamp_bound_us,
                              o.costs.activation_bytes);
      results.context["faults"] = o.faults;
      results.context["calibration"] =
          o.costs.calibration_file.empty() ? nlohmann::json() : nlohmann::json(o.costs.calibration_file);
      results.predicted = simulate(schedule, setup->predicted);
      results.replay = replay_timeline(schedule, results.measured, setup->predicted);
      results.summary = summarize_run(results.measured, results.predicted, results.replay, setup->targets);
      results.summary.rank_peak_buffer_bytes = measured.peak_buffer_bytes;
      results.summary.activation_bytes = o.costs.activation_bytes;
      write_run_directory(run_dir, results);
      if (!o.schedule.dump_schedule.empty()) save_schedule_file(schedule, o.schedule.dump_schedule);
      const int width = o.width > 0 ? o.width : ascii_terminal_width();
      // No colours: mpirun gives rank 0 a pseudo-terminal even when mpirun's own
      // output goes to a pipe or a file.
      std::cout << format_run_report(results, configuration_line(o, *setup), width, false)
                << "ppbench: wrote " << run_dir << "\n";
      const double error_pct = 100.0 * std::abs(results.summary.makespan_rel_error);
      if (o.max_error_pct && error_pct > *o.max_error_pct) {
        std::cerr << "ppbench: error: --max-error: makespan error " << error_pct << "% exceeds " << *o.max_error_pct
                  << "%\n";
        exit_code = kExitErrorExceeded;
      }
    } catch (const std::exception& e) {
      exit_code = report_error("ppbench", e);
    }
    std::cout << std::flush;
  }
  return broadcast_exit_code(world, exit_code);
}

}  // namespace ppb
