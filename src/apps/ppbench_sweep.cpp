#include "apps/ppbench_sweep.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>
#include <utility>

#include "measured_sweep/interrupt_guard.h"
#include "apps/ppbench_output.h"
#include "apps/ppbench_run_setup.h"
#include "cli/sim_options.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "measured_sweep/sweep_report.h"
#include "render/image.h"
#include "schedules/generators.h"

namespace ppb {

namespace {

// One (schedule, M) point as every rank plans it: skipped with the
// generator's reason, or its setup (schedule, cost models, the faults that
// apply to it).
struct PlannedPoint {
  MeasuredSweepPoint report;  // identity and, when skipped, the reason
  std::optional<RunSetup> setup;
};

// Everything derived from the flags before any rank does work; identical on
// every rank (argv and the world size only).
struct SweepPlan {
  std::vector<PlannedPoint> points;
  std::size_t measured = 0;  // points not skipped
};

template <typename T>
void require_distinct(const std::vector<T>& values, const char* flag) {
  std::set<T> seen;
  for (const T& v : values) {
    std::ostringstream text;
    text << v;
    PPB_REQUIRE_INPUT(seen.insert(v).second, flag, ": '", text.str(), "' given twice (each point is measured once)");
  }
}

// The run flags `ppbench sweep` refuses, and why each has no meaning here.
const std::vector<std::pair<std::string, std::string>> kRunOnlyFlags = {
    {"--num-stages", "P is the number of ranks, as -np gives it"},
    {"--schedule-file", "every point's schedule comes from its generator"},
    {"--dump-schedule", "each point's schedule is in its run directory's predicted.json"},
    {"--width", "a sweep prints a table, not a timeline"},
};

std::string run_only_flag_reason(const std::string& flag) {
  for (const auto& [name, reason] : kRunOnlyFlags) {
    if (name == flag) return reason;
  }
  return "";
}

void check_options(const MeasuredSweepOptions& o) {
  check_measure_options(o.measure);
  for (const std::string& flag : o.run_only_flags_given) {
    PPB_THROW(InputError, flag, ": not a sweep flag (", run_only_flag_reason(flag), ")");
  }
  check_sweep_lists(o.schedules, o.num_batches, o.chunks);
  require_distinct(o.schedules, "--schedule");
  PPB_REQUIRE_INPUT(!o.num_batches.empty(), "--num-batches: give at least one microbatch count");
  require_distinct(o.num_batches, "--num-batches");
  // As a run refuses it: a v that no point would use is a mistake, not a setting.
  PPB_REQUIRE_INPUT(!o.chunks || std::count(o.schedules.begin(), o.schedules.end(), "interleaved") > 0,
                    "--chunks: only the interleaved schedule has chunks, and --schedule does not list it");
  PPB_REQUIRE_INPUT(o.iters >= 1, "--iters: at least one measured iteration per point (got ", o.iters, ")");
  check_max_error(o.max_error_pct);
}

SweepPlan make_plan(const MeasuredSweepOptions& o, int ranks) {
  check_options(o);
  SweepPlan plan;
  for (const std::string& name : o.schedules) {
    for (int m : o.num_batches) {
      PlannedPoint p;
      p.report.schedule = name;
      p.report.num_ranks = ranks;
      p.report.num_microbatches = m;
      p.report.chunks = name == "interleaved" ? o.chunks.value_or(2) : 1;
      p.report.directory = "points/" + sweep_point_name(name, m);
      Schedule schedule;
      try {
        schedule = generate_schedule(name, ranks, m, p.report.chunks);
        validate(schedule);
      } catch (const InputError& e) {
        p.report.skipped = true;
        p.report.reason = e.what();
        plan.points.push_back(std::move(p));
        continue;
      }
      // Bad times (a per-rank list of the wrong length, ...) are bad input for
      // the whole sweep, thrown here before anything runs.
      p.setup = make_run_setup(std::move(schedule), o.costs, {});
      ++plan.measured;
      plan.points.push_back(std::move(p));
    }
  }
  if (plan.measured == 0) {
    PPB_THROW(InputError, "--num-batches: no point of the sweep can run at P=", ranks, " (",
              plan.points.front().report.reason, ")");
  }
  // A fault names an op (F3@s1) that exists at some points only: it applies
  // where it does; one that applies nowhere is bad input, with its reason.
  for (const std::string& text : o.faults) {
    std::exception_ptr first_error;
    bool applied = false;
    for (PlannedPoint& p : plan.points) {
      if (!p.setup) continue;
      try {
        p.setup->faults.push_back(parse_fault_spec(text, p.setup->schedule));
        p.report.faults.push_back(text);
        applied = true;
      } catch (const InputError&) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (!applied) std::rethrow_exception(first_error);
  }
  for (PlannedPoint& p : plan.points) {
    // The slowdowns change the targets and the prediction.
    if (p.setup && !p.setup->faults.empty()) {
      p.setup = make_run_setup(std::move(p.setup->schedule), o.costs, std::move(p.setup->faults));
    }
  }
  return plan;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : separator) + p;
  return out;
}

std::vector<std::string> texts(const std::vector<int>& values) {
  std::vector<std::string> out;
  for (int v : values) out.push_back(std::to_string(v));
  return out;
}

// The flags' stage times: F, B and W from a point with a split backward
// where there is one (zb-h1), else F and B of the first point. make_cost_model
// folds W into B where the backward is not split, which the line then says.
std::string stage_times_of(const SweepPlan& plan) {
  const RunSetup* first = nullptr;
  const RunSetup* split = nullptr;
  bool unsplit = false;
  for (const PlannedPoint& p : plan.points) {
    if (!p.setup) continue;
    if (first == nullptr) first = &*p.setup;
    if (split == nullptr && p.setup->schedule.split_backward) split = &*p.setup;
    unsplit = unsplit || !p.setup->schedule.split_backward;
  }
  const RunSetup& shown = split != nullptr ? *split : *first;
  std::string line = "F " + stage_times(shown.nominal.forward_us) + ", B " + stage_times(shown.nominal.backward_us);
  if (split != nullptr) {
    line += ", W " + stage_times(split->nominal.weight_us) + " per stage";
    if (unsplit) line += " (one backward of B + W where it is not split)";
    return line;
  }
  return line + " per stage";
}

std::string plan_line(const MeasuredSweepOptions& o, const SweepPlan& plan, int ranks) {
  std::string line = "ppbench sweep: P=" + std::to_string(ranks) + "; " + join(o.schedules, ", ") + " x M = " +
                     join(texts(o.num_batches), ", ") + ": " + std::to_string(plan.measured) +
                     (plan.measured == 1 ? " point" : " points") + " to measure, " +
                     std::to_string(plan.points.size() - plan.measured) + " skipped; " + stage_times_of(plan) + "; " +
                     std::to_string(o.costs.activation_bytes) + " B messages; " + std::to_string(o.measure.warmup) +
                     " warm-up + " + std::to_string(o.iters) + " measured iterations per point";
  for (const std::string& f : o.faults) line += "; fault " + f;
  if (!o.costs.calibration_file.empty()) line += "; predicted with " + o.costs.calibration_file;
  return line;
}

nlohmann::json plan_block(const MeasuredSweepOptions& o, int ranks) {
  const bool has_interleaved = std::count(o.schedules.begin(), o.schedules.end(), "interleaved") > 0;
  return {{"num_ranks", ranks},
          {"schedules", o.schedules},
          {"num_microbatches", o.num_batches},
          {"chunks", has_interleaved ? nlohmann::json(o.chunks.value_or(2)) : nlohmann::json()},
          {"warmup", o.measure.warmup},
          {"iters", o.iters},
          {"forward_ms", o.costs.forward_ms},
          {"backward_ms", o.costs.backward_ms},
          {"weight_ms", o.costs.weight_ms},
          {"p2p_time_ms", o.costs.p2p_time_ms ? nlohmann::json(*o.costs.p2p_time_ms) : nlohmann::json()},
          {"p2p_latency_ms", o.costs.p2p_latency_ms},
          {"bandwidth_gbps", o.costs.bandwidth_gbps},
          {"optimizer_ms", o.costs.optimizer_ms},
          {"activation_bytes", o.costs.activation_bytes},
          {"faults", o.faults},
          {"calibration",
           o.costs.calibration_file.empty() ? nlohmann::json() : nlohmann::json(o.costs.calibration_file)}};
}

// The chart's second line: what was run, and where.
std::string chart_subtitle(const std::string& stage_times, const nlohmann::json& context, int iters) {
  return "P = " + std::to_string(context.value("ranks", 0)) + "; " + stage_times + "; backend " +
         context.value("backend", std::string("?")) + "; median of " + std::to_string(iters) +
         " iterations per point";
}

// Rank 0: sweep.csv and sweep.json for the points so far (each file replaced
// whole), marked complete or not.
void write_sweep_files(const std::string& dir, const std::vector<MeasuredSweepPoint>& points,
                       const nlohmann::json& plan, nlohmann::json context, bool complete) {
  nlohmann::json json = sweep_to_json(points, plan, std::move(context));
  json["complete"] = complete;
  std::filesystem::create_directories(dir);
  write_file_atomically(dir + "/sweep.csv", sweep_csv(points));
  write_file_atomically(dir + "/sweep.json", json.dump(2) + "\n");
}

}  // namespace

MeasuredSweepCommand::MeasuredSweepCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "sweep",
      "measure schedules x microbatch counts at P = the number of ranks, each point as a run, against the "
      "simulator and the analytic bubble; one directory with sweep.csv, sweep.json, a chart and every point's run");
  MeasuredSweepOptions& o = options_;
  add_sweep_list_options(*command_, o.schedules, o.num_batches, o.chunks);
  // Messages must exist on the CPU backend: a small activation by default, as a run.
  o.costs.activation_bytes = 64 * 1024;
  o.costs.activation_bytes_known = true;
  add_cost_options(*command_, o.costs);
  command_->get_option("--activation-bytes")
      ->description("bytes of every activation and gradient message")
      ->default_str(std::to_string(o.costs.activation_bytes));
  command_->get_option("--calibration")
      ->description("predict every point with this ppbench.calibration/1 file (the time flags still set each "
                    "op's target)");
  add_measure_options(*command_, o.measure);
  command_->add_option("--iters", o.iters, "measured iterations per point")->capture_default_str();
  command_->add_option("--out", o.out, "sweep directory (default runs/<date>-sweep-P<P>); never overwritten");
  command_->add_option("--max-error", o.max_error_pct,
                       "exit 4 when any point's |measured - predicted| / measured makespan exceeds this many "
                       "percent");
  command_->add_option("--inject-fault", o.faults,
                       "RANK:OP:hang|crash|slow=X (docs/runtime.md), repeatable; applies to the points that have OP");
  // Hidden (no group): accepted by the parser only to be refused by name.
  for (const auto& entry : kRunOnlyFlags) {
    command_->add_option(entry.first == "--num-stages" ? "--num-stages,-s" : entry.first)->group("");
  }
}

int MeasuredSweepCommand::run(const std::vector<std::string>& argv, MpiWorld& world) const {
  MeasuredSweepOptions o = options_;
  for (const auto& entry : kRunOnlyFlags) {
    if (command_->get_option(entry.first)->count() > 0) o.run_only_flags_given.push_back(entry.first);
  }
  const bool root = world.rank() == 0;
  int exit_code = kExitOk;
  SweepPlan plan;
  if (!agree_on_input(world, [&] { plan = make_plan(o, world.size()); }, exit_code)) return exit_code;
  std::string dir;
  if (!agree_on_input(world, [&] {
        if (root) dir = choose_output_directory(o.out, "sweep-P" + std::to_string(world.size()));
      }, exit_code)) {
    return exit_code;
  }

  const std::vector<std::string> hosts = world.host_names();
  const std::unique_ptr<RankWatch> watch = make_rank_watch(world);
  // One backend for every point: the CUDA backend's communicators, kernel
  // calibration and device probes are made once.
  BackendSelection backend;
  if (!agree_on_input(world, [&] { backend = open_backend(o.measure, world, *watch); }, exit_code)) return exit_code;
  if (root) {
    std::cout << backend_line(backend, world.size()) << "\n" << plan_line(o, plan, world.size()) << "\n"
              << std::flush;
  }
  const nlohmann::json plan_json = plan_block(o, world.size());
  std::vector<MeasuredSweepPoint> points;  // rank 0: every point so far, in order
  nlohmann::json context;
  double clock_bound_us = 0;
  const std::size_t count = plan.points.size();
  for (std::size_t i = 0; i < count; ++i) {
    const PlannedPoint& planned = plan.points[i];
    MeasuredSweepPoint point = planned.report;
    RunResults results;
    bool failed = false;
    if (planned.setup) {
      const RunSetup& setup = *planned.setup;
      RankSession session;
      if (!agree_on_input(world, [&] {
            session = open_session(backend, o.measure, setup.schedule, setup.nominal, o.costs.activation_bytes,
                                   setup.faults, world, *watch);
          }, exit_code)) {
        return exit_code;  // the points before this one stay written
      }
      const ClockAlignment clocks = align_clocks(world, session);
      MeasuredIterations measured =
          run_iterations(world, session, setup.schedule, clocks, o.measure.warmup, o.iters, o.measure.timeout_s);
      // Rank 0's analysis can fail only by a bug; the others must then not go
      // on into the next point's collectives alone.
      if (root) {
        try {
          const double bound = clocks.bound_us + measured.timestamp_bound_us;
          clock_bound_us = std::max(clock_bound_us, bound);
          nlohmann::json point_context = run_context(argv, world, hosts, session, bound, o.costs, point.faults);
          context = point_context;  // the sweep's: the last session's, with the largest bound (below)
          context["clock_alignment_bound_us"] = clock_bound_us;
          context["faults"] = o.faults;
          results = analyze_measurement(setup, std::move(measured), o.measure.warmup, o.costs.activation_bytes,
                                        std::move(point_context));
          point.summary = results.summary;
          point.measured_peak_activations =
              peak_activations_per_rank(results.measured[results.summary.median_iteration]);
        } catch (const std::exception& e) {
          exit_code = report_error("ppbench", e);
          failed = true;
        }
      }
    }
    // Each finished point is written at once, so that a sweep cut short (a
    // failed rank, a kill) keeps what it measured: the point's run directory,
    // then sweep.csv and sweep.json with every point so far ("complete":
    // false). A SIGINT, SIGTERM or SIGHUP meanwhile is held on every rank
    // until rank 0 has written (mpirun passes it on to all ranks and kills
    // the rest as soon as one dies), then ends the job as it would have.
    const InterruptGuard interrupts;
    if (root && !failed) {
      try {
        std::cout << format_sweep_point_line(point, i + 1, count) + "\n" << std::flush;
        if (!point.skipped) write_run_directory(dir + "/" + point.directory, results);
        points.push_back(std::move(point));
        write_sweep_files(dir, points, plan_json, context, false);
      } catch (const std::exception& e) {
        exit_code = report_error("ppbench", e);
        failed = true;
      }
    }
    if (world.any(failed)) return broadcast_exit_code(world, exit_code);
  }

  const InterruptGuard interrupts;
  if (root) {
    try {
      std::optional<std::string> chart;
      if (image_output_available()) {
        chart = draw_view("sweep.png", [&] {
          return draw_line_chart(ImageFormat::Png,
                                 sweep_chart(points, chart_subtitle(stage_times_of(plan), context, o.iters)));
        });
      }
      interrupts.throw_if_interrupted();
      write_sweep_files(dir, points, plan_json, context, true);
      if (chart) write_view(dir, "sweep.png", [&] { return *chart; });
      std::cout << format_sweep_table(points);
      if (!image_output_available()) std::cout << "ppbench sweep: no chart (this ppbench was built without cairo)\n";
      std::cout << "ppbench: wrote " << dir << "\n";
      if (const std::optional<std::size_t> worst = worst_makespan_error(points)) {
        const MeasuredSweepPoint& p = points[*worst];
        exit_code = max_error_exit_code(o.max_error_pct, p.summary.makespan_rel_error,
                                        " at " + p.schedule + " M=" + std::to_string(p.num_microbatches));
      }
    } catch (const std::exception& e) {
      exit_code = report_error("ppbench", e);
    }
    std::cout << std::flush;
  }
  return broadcast_exit_code(world, exit_code);
}

}  // namespace ppb
