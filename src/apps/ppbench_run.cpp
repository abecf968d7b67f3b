#include "apps/ppbench_run.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "analysis/replay.h"
#include "analysis/run_summary.h"
#include "apps/ppbench_output.h"
#include "core/errors.h"
#include "io/context.h"
#include "render/ascii.h"
#include "render/metrics_table.h"
#include "runtime/backend_factory.h"
#include "runtime/executor.h"
#include "runtime/fault_spec.h"
#include "runtime/measured_timeline.h"
#include "runtime/watchdog.h"
#include "sim/simulator.h"

namespace ppb {

namespace {

constexpr int kClockRounds = 20;
constexpr const char* kClockMethod =
    "barrier, then ping-pong between rank 0 and each rank (20 rounds, the round with the smallest round trip): "
    "offset = remote - (t0 + t1) / 2, bound = rtt / 2";

// PPB_RUN_LABEL (launch/one-gpu.sh sets "functional": several ranks on one GPU
// show that the harness works, not what a schedule costs). Null when unset.
const char* run_label() {
  const char* label = std::getenv("PPB_RUN_LABEL");
  return label != nullptr && *label != '\0' ? label : nullptr;
}

int terminal_width() {
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 20) return n;
  }
  winsize size{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
  return 100;
}

// Everything derived from the flags before any rank does work. Identical on
// every rank (it depends only on argv and the world size).
struct RunSetup {
  Schedule schedule;
  CostModel nominal;    // from the flags
  CostModel predicted;  // nominal with '*' slowdowns: what the run is held against
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
  setup.nominal = make_cost_model(o.costs, setup.schedule);
  for (const std::string& text : o.faults) setup.faults.push_back(parse_fault_spec(text, setup.schedule));
  setup.predicted = apply_slowdown(setup.nominal, setup.faults, setup.schedule);
  return setup;
}

std::string configuration_line(const PpbenchOptions& o, const RunSetup& s) {
  std::ostringstream line;
  line << "ppbench: " << s.schedule.name << ", P=" << s.schedule.num_ranks << ", M=" << s.schedule.num_microbatches;
  if (s.schedule.chunks > 1) line << ", v=" << s.schedule.chunks;
  line << "; F " << format_duration(s.nominal.forward_us[0]) << ", B " << format_duration(s.nominal.backward_us[0]);
  if (s.schedule.split_backward) line << ", W " << format_duration(s.nominal.weight_us[0]);
  line << " per stage" << (s.nominal.forward_us.size() > 1 ? " (stage 0)" : "") << "; " << o.costs.activation_bytes
       << " B messages; " << o.warmup << " warm-up + " << o.iters << " measured iterations";
  for (const FaultSpec& f : s.faults) line << "; fault " << f.text;
  return line.str();
}

// Input errors are raised identically on every rank (they depend on argv and
// the world size only); each rank prints its own line, and `any` makes sure no
// rank goes on into a collective that the others left.
template <typename Fn>
bool agree_on_input(MpiWorld& world, Fn&& fn, int& exit_code) {
  bool failed = false;
  try {
    fn();
  } catch (const InputError& e) {
    exit_code = report_error("ppbench", e);
    failed = true;
  }
  if (world.any(failed)) {
    if (!failed) exit_code = kExitBadInput;
    return false;
  }
  return true;
}

}  // namespace

int run_ppbench(PpbenchOptions o, const std::vector<std::string>& argv, MpiWorld& world) {
  const bool root = world.rank() == 0;
  int exit_code = kExitOk;
  std::optional<RunSetup> setup;
  BackendSelection selected;
  std::unique_ptr<Executor> executor;
  if (!agree_on_input(world, [&] {
        setup = make_setup(o, world.size());
        BackendOptions backend_options;
        backend_options.choice = o.backend;
        backend_options.activation_bytes = o.costs.activation_bytes;
        backend_options.cpu.spin_us = o.spin_us;
        backend_options.cuda = o.cuda;
        selected = make_backend(backend_options, world);
        executor = std::make_unique<Executor>(setup->schedule, world.rank(), setup->nominal, o.costs.activation_bytes,
                                              *selected.backend, setup->faults);
        executor->prepare();
      }, exit_code)) {
    return exit_code;
  }
  std::string run_dir;
  if (!agree_on_input(world, [&] {
        if (root) run_dir = choose_run_directory(o.out, setup->schedule);
      }, exit_code)) {
    return exit_code;
  }
  Backend& backend = *selected.backend;
  const Schedule& schedule = setup->schedule;
  if (root) {
    std::cout << "ppbench: backend " << backend.name() << " (" << selected.reason << "), " << world.size()
              << " ranks";
    if (const char* label = run_label()) std::cout << "; results labelled " << label;
    std::cout << "\n" << std::flush;
  }

  const std::vector<std::string> hosts = world.host_names();
  const std::vector<ClockOffset> offsets = world.clock_offsets([&] { return backend.now_us(); }, kClockRounds);
  std::vector<double> offset_us;
  double bound_us = 0;
  for (const ClockOffset& c : offsets) {
    offset_us.push_back(c.offset_us);
    bound_us = std::max(bound_us, c.bound_us);
  }

  // On expiry every rank reports where it is, then the job is stopped with
  // exit code 3. The pause lets the other ranks' watchdogs print too before
  // anything is torn down: the backend's abort (NCCL communicators) would
  // make the peers fail at once, before they have said where they were.
  Watchdog watchdog([&] {
    std::fprintf(stderr, "ppbench: rank %d timed out in iteration %d %s\n", world.rank(),
                 executor->current_iteration(), executor->describe_progress().c_str());
    std::fflush(stderr);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    backend.abort();
    MpiWorld::abort(kExitRunFailed);
  });

  RunResults results;
  results.warmup = o.warmup;
  std::vector<std::uint64_t> peak_buffer_bytes(static_cast<std::size_t>(world.size()), 0);
  try {
    for (int i = 0; i < o.warmup + o.iters; ++i) {
      watchdog.arm(o.timeout_s);
      world.barrier();
      const RankIterationRecord record = executor->run_iteration(i);
      const std::vector<RankIterationRecord> records = world.gather_records(record);
      watchdog.disarm();
      if (root && i >= o.warmup) {
        results.measured.push_back(assemble_measured(schedule, records, offset_us));
        for (std::size_t r = 0; r < records.size(); ++r) {
          peak_buffer_bytes[r] = std::max(peak_buffer_bytes[r], records[r].peak_buffer_bytes);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ppbench: rank %d failed in iteration %d: %s\n", world.rank(), executor->current_iteration(),
                 e.what());
    std::fflush(stderr);
    MpiWorld::abort(kExitRunFailed);
  }

  if (root) {
    try {
      results.context = make_context(argv, backend.name());
      results.context["hosts"] = hosts;
      results.context["ranks"] = world.size();
      results.context["mpi_version"] = world.mpi_version();
      results.context["backend_details"] = backend.context();
      results.context["backend_reason"] = selected.reason;
      results.context["clock_alignment_bound_us"] = bound_us;
      results.context["clock_alignment_method"] = kClockMethod;
      results.context["activation_bytes"] = o.costs.activation_bytes;
      results.context["faults"] = o.faults;
      if (const char* label = run_label()) results.context["run_label"] = label;
      results.predicted = simulate(schedule, setup->predicted);
      results.replay = replay_timeline(schedule, results.measured, setup->predicted);
      results.summary = summarize_run(results.measured, results.predicted, results.replay, setup->predicted);
      results.summary.rank_peak_buffer_bytes = peak_buffer_bytes;
      results.summary.activation_bytes = o.costs.activation_bytes;
      results.median_index = median_iteration(results.measured);
      write_run_directory(run_dir, results);
      const int width = o.width > 0 ? o.width : terminal_width();
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
  long long code = exit_code;
  world.broadcast(&code, sizeof code, 0);
  return static_cast<int>(code);
}

}  // namespace ppb
