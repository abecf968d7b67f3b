#include "apps/ppbench_run.h"

#include <iostream>
#include <optional>
#include <sstream>
#include <utility>

#include "apps/ppbench_measure.h"
#include "apps/ppbench_output.h"
#include "apps/ppbench_run_setup.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/schedule_io.h"
#include "render/ascii.h"
#include "runtime/fault_spec.h"

namespace ppb {

namespace {

RunSetup make_setup(const PpbenchOptions& o, int world_size) {
  check_ppbench_options(o);
  ScheduleOptions schedule_options = o.schedule;
  if (o.schedule.schedule_file.empty()) {
    PPB_REQUIRE_INPUT(!o.num_stages_given || o.schedule.num_stages == world_size, "--num-stages: ",
                      o.schedule.num_stages, " pipeline ranks, but mpirun started ", world_size,
                      " (run with -np ", o.schedule.num_stages, ", or leave --num-stages out to use every rank)");
    schedule_options.num_stages = world_size;
  }
  Schedule schedule = build_schedule(schedule_options);
  PPB_REQUIRE_INPUT(schedule.num_ranks == world_size, "--schedule-file: '", o.schedule.schedule_file, "' has ",
                    schedule.num_ranks, " ranks, but mpirun started ", world_size);
  std::vector<FaultSpec> faults;
  for (const std::string& text : o.faults) faults.push_back(parse_fault_spec(text, schedule));
  return make_run_setup(std::move(schedule), o.costs, std::move(faults));
}

std::string configuration_line(const PpbenchOptions& o, const RunSetup& s) {
  std::ostringstream line;
  line << "ppbench: " << s.schedule.name << ", P=" << s.schedule.num_ranks << ", M=" << s.schedule.num_microbatches;
  if (s.schedule.chunks > 1) line << ", v=" << s.schedule.chunks;
  line << "; " << stage_times_line(s) << "; " << o.costs.activation_bytes << " B messages; " << o.measure.warmup
       << " warm-up + " << o.iters << " measured iterations";
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
  BackendSelection backend;
  RankSession session;
  // Apart: every rank must have its setup before any enters the backend's collectives.
  if (!agree_on_input(world, [&] { setup = make_setup(o, world.size()); }, exit_code)) return exit_code;
  if (!agree_on_input(world, [&] {
        backend = open_backend(o.measure, world, *watch);
        session = open_session(backend, o.measure, setup->schedule, setup->nominal, o.costs.activation_bytes,
                               setup->faults, world, *watch);
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
  if (root) std::cout << backend_line(backend, world.size()) << "\n" << std::flush;

  const std::vector<std::string> hosts = world.host_names();
  const ClockAlignment clocks = align_clocks(world, session);
  MeasuredIterations measured =
      run_iterations(world, session, schedule, clocks, o.measure.warmup, o.iters, o.measure.timeout_s);

  if (root) {
    try {
      nlohmann::json context =
          run_context(argv, world, hosts, session, clocks.bound_us + measured.timestamp_bound_us, o.costs, o.faults);
      const RunResults results = analyze_measurement(*setup, std::move(measured), o.measure.warmup,
                                                     o.costs.activation_bytes, std::move(context));
      write_run_directory(run_dir, results);
      if (!o.schedule.dump_schedule.empty()) save_schedule_file(schedule, o.schedule.dump_schedule);
      const int width = o.width > 0 ? o.width : ascii_terminal_width();
      // No colours: mpirun gives rank 0 a pseudo-terminal even when mpirun's own
      // output goes to a pipe or a file.
      std::cout << format_run_report(results, configuration_line(o, *setup), width, false)
                << "ppbench: wrote " << run_dir << "\n";
      exit_code = max_error_exit_code(o.max_error_pct, results.summary.makespan_rel_error, "");
    } catch (const std::exception& e) {
      exit_code = report_error("ppbench", e);
    }
    std::cout << std::flush;
  }
  return broadcast_exit_code(world, exit_code);
}

}  // namespace ppb
