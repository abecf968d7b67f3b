#include "apps/ppbench_calibrate.h"

#include <filesystem>
#include <iostream>
#include <system_error>

#include "analysis/calibration.h"
#include "analysis/calibration_report.h"
#include "cli/byte_sizes.h"
#include "cli/sim_options.h"
#include "core/errors.h"
#include "io/atomic_file.h"

namespace ppb {

namespace {

constexpr const char* kMethod =
    "one microbatch per iteration, so every op and every transfer runs alone; a stage sample is an op's end - start, "
    "a link sample is a transfer's arrive - send on the aligned clocks";

// Everything derived from the flags before any rank does work; identical on
// every rank.
struct CalibrationPlan {
  std::vector<std::uint64_t> sizes;  // increasing
  std::vector<Schedule> schedules;   // calibration_schedules(P, W given)
  std::vector<CostModel> targets;    // per schedule: each op's target
};

CalibrationPlan make_plan(const CalibrateOptions& o, int ranks) {
  check_measure_options(o.measure);
  PPB_REQUIRE_INPUT(o.reps >= 1, "--reps: at least one measured iteration per size (got ", o.reps, ")");
  CalibrationPlan plan;
  plan.sizes = parse_byte_size_list(o.sizes, "--sizes");
  plan.schedules = calibration_schedules(ranks, !o.targets.weight_ms.empty());
  for (const Schedule& s : plan.schedules) plan.targets.push_back(make_cost_model(o.targets, s));
  return plan;
}

// Rank 0 only: the file is written there.
void check_out(const CalibrateOptions& o) {
  PPB_REQUIRE_INPUT(!o.out.empty() && o.out != "-", "--out: give a file name");
  check_output_file(o.out, "--out");
  std::error_code ec;
  PPB_REQUIRE_INPUT(o.force || !std::filesystem::exists(o.out, ec), "--out: '", o.out,
                    "' already exists (--force replaces it)");
}

nlohmann::json per_rank_ms(const std::vector<double>& us) {
  nlohmann::json list = nlohmann::json::array();
  for (double v : us) list.push_back(v);
  return list;
}

nlohmann::json measurement_block(const CalibrateOptions& o, const CalibrationPlan& plan) {
  nlohmann::json placements = nlohmann::json::array();
  for (const Schedule& s : plan.schedules) placements.push_back(s.stage_rank);
  // The first schedule has stage r on rank r, so its per-stage targets are per rank.
  const CostModel& t = plan.targets.front();
  const bool split = plan.schedules.front().split_backward;
  return {{"method", kMethod},
          {"schedule", plan.schedules.front().name},
          {"microbatches", 1},
          {"placements", placements},
          {"warmup", o.measure.warmup},
          {"reps", o.reps},
          {"sizes", plan.sizes},
          {"targets_us",
           {{"forward", per_rank_ms(t.forward_us)},
            {"backward", per_rank_ms(t.backward_us)},
            {"weight", split ? per_rank_ms(t.weight_us) : nlohmann::json()}}}};
}

std::string plan_line(const CalibrateOptions& o, const CalibrationPlan& plan, int ranks) {
  std::string line = "ppbench calibrate: " + plan.schedules.front().name + ", one microbatch, " +
                     std::to_string(ranks) + " ranks";
  if (plan.schedules.size() > 1) line += " (twice: stages on ranks 0.." + std::to_string(ranks - 1) + ", then moved one rank on)";
  line += "; " + std::to_string(plan.sizes.size()) + " message sizes, " + std::to_string(o.measure.warmup) +
          " warm-up + " + std::to_string(o.reps) + " measured iterations each";
  return line;
}

}  // namespace

CalibrateCommand::CalibrateCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "calibrate",
      "measure each rank's F, B (and W) alone and each link's cost at several message sizes; write a calibration "
      "file for --calibration");
  CalibrateOptions& o = options_;
  add_op_time_options(*command_, o.targets);
  command_->get_option("--forward-times")->description("target forward time in ms (one value, or one per rank)");
  command_->get_option("--backward-times")->description("target backward time in ms (one value, or one per rank)");
  command_->get_option("--weight-times")
      ->description("target weight-gradient time in ms; given: W is measured apart (zb-h1), else B is the full backward");
  o.measure.warmup = 2;  // every pass has new buffers (and a placement new links): its first iterations are not typical
  add_measure_options(*command_, o.measure);
  command_->get_option("--warmup")->description("iterations run and discarded first, per message size");
  command_->add_option("--reps", o.reps, "measured iterations per message size")->capture_default_str();
  command_->add_option("--sizes", o.sizes, "message sizes, comma-separated; K, M, G = KiB, MiB, GiB")
      ->capture_default_str();
  command_->add_option("--out", o.out, "the calibration file (never replaced without --force)")->capture_default_str();
  command_->add_flag("--force", o.force, "replace an existing --out");
}

int CalibrateCommand::run(const std::vector<std::string>& argv, MpiWorld& world) const {
  const CalibrateOptions& o = options_;
  const bool root = world.rank() == 0;
  int exit_code = kExitOk;
  CalibrationPlan plan;
  if (!agree_on_input(world, [&] { plan = make_plan(o, world.size()); }, exit_code)) return exit_code;
  if (!agree_on_input(world, [&] {
        if (root) check_out(o);
      }, exit_code)) {
    return exit_code;
  }

  const std::vector<std::string> hosts = world.host_names();
  const std::unique_ptr<RankWatch> watch = make_rank_watch(world);
  CalibrationBuilder builder(world.size());
  nlohmann::json context;
  double clock_bound_us = 0;
  bool first = true;
  // One backend for every pass; a session per size (its buffers are sized
  // for one message size) and per placement (its links differ). The CUDA
  // backend keeps its communicators and kernel calibration from pass to pass.
  BackendSelection backend;
  if (!agree_on_input(world, [&] { backend = open_backend(o.measure, world, *watch); }, exit_code)) return exit_code;
  for (std::size_t s = 0; s < plan.sizes.size(); ++s) {
    const std::uint64_t bytes = plan.sizes[s];
    for (std::size_t i = 0; i < plan.schedules.size(); ++i) {
      const bool last_pass = s + 1 == plan.sizes.size() && i + 1 == plan.schedules.size();
      RankSession session;
      if (!agree_on_input(world, [&] {
            session = open_session(backend, o.measure, plan.schedules[i], plan.targets[i], bytes, {}, world, *watch);
          }, exit_code)) {
        return exit_code;
      }
      if (root && first) {
        std::cout << backend_line(backend, world.size()) << "\n" << plan_line(o, plan, world.size()) << "\n"
                  << std::flush;
      }
      first = false;
      const ClockAlignment clocks = align_clocks(world, session);
      const MeasuredIterations measured =
          run_iterations(world, session, plan.schedules[i], clocks, o.measure.warmup, o.reps, o.measure.timeout_s);
      clock_bound_us = std::max(clock_bound_us, clocks.bound_us + measured.timestamp_bound_us);
      if (root) {
        for (const Timeline& t : measured.timelines) builder.add_iteration(t);
        // Once, after the last pass, when the bound covers every pass.
        if (last_pass) context = measurement_context(argv, world, hosts, session, clock_bound_us, bytes);
      }
    }
  }

  if (root) {
    try {
      context.erase("activation_bytes");  // every size of measurement.sizes was used
      builder.set_context(context);
      builder.set_measurement(measurement_block(o, plan));
      const Calibration calibration = builder.build();
      save_calibration_file(calibration, o.out);
      std::cout << format_calibration_report(calibration, plan.targets.front())
                << "clock alignment bound " << clock_bound_us
                << " us per rank (a link time, read on two ranks' clocks, within twice that); ppbench: wrote " << o.out
                << "\n";
    } catch (const std::exception& e) {
      exit_code = report_error("ppbench", e);
    }
    std::cout << std::flush;
  }
  return broadcast_exit_code(world, exit_code);
}

}  // namespace ppb
