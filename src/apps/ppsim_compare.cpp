#include "apps/ppsim_compare.h"

#include <cstdio>
#include <iostream>

#include "analysis/compare.h"
#include "analysis/timeline_source.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/context.h"
#include "render/metrics_table.h"

namespace ppb {
namespace {

std::string describe_source(const TimelineSource& s) {
  if (s.iteration < 0) return s.path + " (" + (s.timeline.source.empty() ? "timeline" : s.timeline.source) + ")";
  return s.path + ", iteration " + std::to_string(s.iteration) + " of 0.." + std::to_string(s.iterations - 1) +
         (s.median ? " (median makespan)" : " (--iteration)");
}

nlohmann::json source_json(const TimelineSource& s) {
  return {{"file", s.path},
          {"schema", s.schema},
          {"source", s.timeline.source},
          {"iteration", s.iteration >= 0 ? nlohmann::json(s.iteration) : nlohmann::json()},
          {"iterations", s.iteration >= 0 ? nlohmann::json(s.iterations) : nlohmann::json()},
          {"median", s.median}};
}

std::string us(double v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%+.1f us", v);
  return buf;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f %%", 100.0 * fraction);
  return buf;
}

std::string worst_table(const Comparison& c, ResidualKind kind, int top) {
  const bool start = kind == ResidualKind::Start;
  std::string out = "worst " + std::to_string(top) + " ops by |" + (start ? "start" : "duration") +
                    " residual| (measured - predicted)\n";
  char line[256];
  std::snprintf(line, sizeof(line), "  %-4s  %-10s  %-12s  %-12s  %s\n", "rank", "op", "measured", "predicted",
                "residual");
  out += line;
  for (const OpResidual& r : worst_ops(c.ops, kind, top)) {
    const double m = start ? r.measured_start_us : r.measured_duration_us;
    const double p = start ? r.predicted_start_us : r.predicted_duration_us;
    std::snprintf(line, sizeof(line), "  %-4d  %-10s  %-12s  %-12s  %s\n", r.rank, describe(r.op).c_str(),
                  format_duration(m).c_str(), format_duration(p).c_str(),
                  us(start ? r.start_residual_us() : r.duration_residual_us()).c_str());
    out += line;
  }
  return out;
}

std::string breakdown_table(const std::vector<IdleBreakdown>& ranks, const char* which) {
  std::string out = std::string("idle time per rank, ") + which + "\n";
  char line[256];
  std::snprintf(line, sizeof(line), "  %-4s  %-12s  %-17s  %-13s  %s\n", "rank", "idle", "warm-up/cool-down",
                "transfer wait", "imbalance");
  out += line;
  for (const IdleBreakdown& b : ranks) {
    std::snprintf(line, sizeof(line), "  %-4d  %-12s  %-17s  %-13s  %s\n", b.rank, format_duration(b.idle_us).c_str(),
                  format_duration(b.warmup_cooldown_us()).c_str(), format_duration(b.transfer_wait_us).c_str(),
                  format_duration(b.imbalance_us).c_str());
    out += line;
  }
  return out;
}

std::string console(const Comparison& c, const TimelineSource& m, const TimelineSource& p, int top) {
  const Timeline& t = m.timeline;
  std::string out = "ppsim compare: " + t.schedule + ", P=" + std::to_string(t.num_ranks) +
                    ", M=" + std::to_string(t.num_microbatches);
  if (t.chunks > 1) out += ", v=" + std::to_string(t.chunks);
  out += "\nmeasured:  " + describe_source(m) + "\npredicted: " + describe_source(p) + "\n\n";
  char line[256];
  std::snprintf(line, sizeof(line), "            %-12s  %-12s  %s\n", "measured", "predicted", "error");
  out += line;
  std::snprintf(line, sizeof(line), "makespan    %-12s  %-12s  %+.2f %%  ((measured - predicted) / measured)\n",
                format_duration(c.measured.makespan_us).c_str(), format_duration(c.predicted.makespan_us).c_str(),
                100.0 * c.makespan_error);
  out += line;
  std::snprintf(line, sizeof(line), "bubble      %-12s  %-12s  %+.2f points  (measured - predicted)\n",
                percent(c.measured.bubble_fraction).c_str(), percent(c.predicted.bubble_fraction).c_str(),
                c.bubble_error_points);
  out += line;
  std::snprintf(line, sizeof(line), "start residual     mean %s, rms %.1f us, max |.| %.1f us\n",
                us(c.start.mean_us).c_str(), c.start.rms_us, c.start.max_abs_us);
  out += "\n";
  out += line;
  std::snprintf(line, sizeof(line), "duration residual  mean %s, rms %.1f us, max |.| %.1f us\n",
                us(c.duration.mean_us).c_str(), c.duration.rms_us, c.duration.max_abs_us);
  out += line;
  if (top > 0) {
    out += "\n" + worst_table(c, ResidualKind::Start, top);
    out += "\n" + worst_table(c, ResidualKind::Duration, top);
  }
  out += "\n" + breakdown_table(c.measured_idle, "measured");
  out += "\n" + breakdown_table(c.predicted_idle, "predicted");
  return out;
}

}  // namespace

CompareCommand::CompareCommand(CLI::App& app) {
  command_ = app.add_subcommand("compare", "compare a measured timeline with the predicted one (docs/compare.md)");
  CompareOptions& o = options_;
  command_->add_option("measured", o.measured, "measured.json (ppbench.measured/1) or a ppbench.timeline/1 file")
      ->required();
  command_->add_option("predicted", o.predicted, "predicted.json (ppbench.timeline/1) or a ppbench.measured/1 file")
      ->required();
  command_->add_option("--iteration", o.iteration,
                       "iteration of a ppbench.measured/1 file, from 0 (default: the median makespan)");
  command_->add_option("--top", o.top, "rows of the worst-ops tables")->capture_default_str();
  command_->add_option("--json", o.json, "write a ppbench.compare/1 document (- for stdout)");
}

int CompareCommand::run(const std::vector<std::string>& argv) const {
  const CompareOptions& o = options_;
  // Every input is checked before anything is written.
  PPB_REQUIRE_INPUT(o.top >= 0, "--top: must not be negative (got ", o.top, ")");
  if (!o.json.empty()) check_output_file(o.json, "--json");
  const TimelineSource measured = load_timeline_source(o.measured, o.iteration);
  const TimelineSource predicted = load_timeline_source(o.predicted, o.iteration);
  PPB_REQUIRE_INPUT(!o.iteration || measured.iteration >= 0 || predicted.iteration >= 0,
                    "--iteration: neither file is a ppbench.measured/1 document");
  const Comparison c = compare_timelines(measured.timeline, predicted.timeline, o.measured, o.predicted);

  if (!o.json.empty()) {
    nlohmann::json doc{{"schema", "ppbench.compare/1"},
                       {"schedule", measured.timeline.schedule},
                       {"num_ranks", measured.timeline.num_ranks},
                       {"num_microbatches", measured.timeline.num_microbatches},
                       {"chunks", measured.timeline.chunks},
                       {"measured", source_json(measured)},
                       {"predicted", source_json(predicted)}};
    doc.update(comparison_to_json(c, o.top));
    doc["context"] = make_context(argv, "analysis");
    write_file_atomically(o.json, doc.dump(2) + "\n");
  }
  if (o.json != "-") std::cout << console(c, measured, predicted, o.top);
  return kExitOk;
}

}  // namespace ppb
