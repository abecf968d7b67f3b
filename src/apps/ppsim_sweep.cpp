#include "apps/ppsim_sweep.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/sim_options.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "render/image.h"
#include "render/metrics_table.h"
#include "schedules/generators.h"
#include "sim/sweep.h"

namespace ppb {
namespace {

int peak_of(const Metrics& m) {
  int peak = 0;
  for (const RankMetrics& r : m.ranks) peak = std::max(peak, r.peak_activations);
  return peak;
}

void check_inputs(const SweepOptions& o) {
  check_sweep_lists(o.schedules, o.num_batches, o.chunks);
  for (int p : o.num_stages) PPB_REQUIRE_INPUT(p > 0, "--num-stages: must be positive integers (got ", p, ")");
  PPB_REQUIRE_INPUT(o.jobs >= 0, "--jobs: must be 0 (every core) or positive (got ", o.jobs, ")");
  if (!o.csv.empty()) check_output_file(o.csv, "--csv");
  if (!o.output.empty()) {
    PPB_REQUIRE_INPUT(image_format_for(o.output).has_value(), "--output: cannot write '", o.output,
                      "': the sweep chart needs the extension .svg, .png or .pdf");
    PPB_REQUIRE_INPUT(image_output_available(), "--output: cannot write '", o.output,
                      "': this ppsim was built without cairo (install libcairo2-dev and reconfigure)");
    check_output_file(o.output, "--output");
  }
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f %%", 100.0 * fraction);
  return buf;
}

std::string table(const std::vector<SweepResult>& results) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-12s %4s %5s %3s  %-12s  %9s  %9s  %s\n", "schedule", "P", "M", "v", "makespan",
                "bubble", "analytic", "peak activations");
  out += line;
  int skipped = 0;
  for (const SweepResult& r : results) {
    std::snprintf(line, sizeof(line), "%-12s %4d %5d %3d  ", r.point.schedule.c_str(), r.point.num_stages,
                  r.point.num_batches, r.point.chunks);
    out += line;
    if (r.skipped) {
      ++skipped;
      out += "skipped: " + r.reason + "\n";
      continue;
    }
    const Metrics& m = r.metrics;
    std::snprintf(line, sizeof(line), "%-12s  %9s  %9s  %d\n", format_duration(m.makespan_us).c_str(),
                  percent(m.bubble_fraction).c_str(), m.analytic_bubble ? percent(*m.analytic_bubble).c_str() : "-",
                  peak_of(m));
    out += line;
  }
  out += std::to_string(results.size()) + " points, " + std::to_string(skipped) + " skipped\n";
  return out;
}

std::string csv_field(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv(const std::vector<SweepResult>& results) {
  std::string out =
      "schedule,num_stages,num_batches,chunks,makespan_us,bubble_fraction,analytic_bubble,peak_activations,status,"
      "reason\n";
  char line[256];
  for (const SweepResult& r : results) {
    std::snprintf(line, sizeof(line), "%s,%d,%d,%d,", r.point.schedule.c_str(), r.point.num_stages,
                  r.point.num_batches, r.point.chunks);
    out += line;
    if (r.skipped) {
      out += ",,,,skipped," + csv_field(r.reason) + "\n";
      continue;
    }
    const Metrics& m = r.metrics;
    std::snprintf(line, sizeof(line), "%.6f,%.9f,", m.makespan_us, m.bubble_fraction);
    out += line;
    if (m.analytic_bubble) {
      std::snprintf(line, sizeof(line), "%.9f", *m.analytic_bubble);
      out += line;
    }
    out += "," + std::to_string(peak_of(m)) + ",ok,\n";
  }
  return out;
}

std::string ms_list(const std::vector<double>& values) {
  std::string out;
  for (double v : values) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", v);
    out += (out.empty() ? "" : "/") + std::string(buf);
  }
  return out + " ms";
}

// The inputs behind the curves, for the chart's second line.
std::string cost_summary(const CostInputs& c) {
  if (!c.calibration_file.empty()) {
    return "costs from " + c.calibration_file + ", " + std::to_string(c.activation_bytes) + " B messages";
  }
  std::string out = "forward " + ms_list(c.forward_ms) + ", backward " + ms_list(c.backward_ms);
  if (!c.weight_ms.empty()) out += ", weight gradient " + ms_list(c.weight_ms);
  if (c.p2p_time_ms) {
    out += ", p2p " + ms_list({*c.p2p_time_ms});
  } else if (c.p2p_latency_ms > 0 || c.bandwidth_gbps > 0) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), ", p2p latency %g ms, %g GB/s, %llu B", c.p2p_latency_ms, c.bandwidth_gbps,
                  static_cast<unsigned long long>(c.activation_bytes));
    out += buf;
  } else {
    out += ", free communication";
  }
  if (c.optimizer_ms > 0) out += ", optimizer " + ms_list({c.optimizer_ms});
  return out + " (per stage; v chunks share a rank's time)";
}

// One panel per stage count; per schedule its simulated bubble (solid, with
// markers) and, where a formula exists, the analytic curve (dashed).
LineChart chart(const SweepOptions& o, const std::vector<SweepResult>& results) {
  LineChart c;
  c.title = "Bubble fraction against microbatches (simulated)";
  c.subtitle = cost_summary(o.costs);
  c.x_label = "microbatches M (log scale)";
  c.y_label = "bubble fraction";
  c.log_x = true;
  const auto& names = generator_names();
  for (std::size_t pi = 0; pi < o.num_stages.size(); ++pi) {
    const int p = o.num_stages[pi];
    const auto seen = o.num_stages.begin() + static_cast<std::ptrdiff_t>(pi);
    if (std::find(o.num_stages.begin(), seen, p) != seen) continue;  // a stage count given twice: one panel
    ChartPanel panel;
    panel.title = "P = " + std::to_string(p);
    // References in black, dashed and drawn last: with uniform stage
    // times they lie exactly on the simulated curves.
    LineSeries uniform_formula{"analytic (P-1)/(M+P-1)", 6, true, false, {}, {}, 1.3, 1.0};
    for (const std::string& name : o.schedules) {
      const int colour = static_cast<int>(std::find(names.begin(), names.end(), name) - names.begin());
      // GPipe and 1F1B have the same bubble: GPipe's wider line and larger
      // markers show around 1F1B's.
      const bool under = name == "gpipe";
      LineSeries measured{name, colour, false, true, {}, {}, under ? 5.0 : 2.5, under ? 1.8 : 1.0};
      LineSeries formula{"analytic interleaved (P-1)/(vM+P-1)", 6, true, false, {}, {}, 1.3, 1.0};
      for (const SweepResult& r : results) {
        if (r.skipped || r.point.schedule != name || r.point.num_stages != p) continue;
        measured.x.push_back(r.point.num_batches);
        measured.y.push_back(r.metrics.bubble_fraction);
        if (!r.metrics.analytic_bubble) continue;
        LineSeries& target = name == "interleaved" ? formula : uniform_formula;
        if (std::find(target.x.begin(), target.x.end(), r.point.num_batches) == target.x.end()) {
          target.x.push_back(r.point.num_batches);
          target.y.push_back(*r.metrics.analytic_bubble);
        }
      }
      if (!measured.x.empty()) panel.series.push_back(std::move(measured));
      if (!formula.x.empty()) panel.series.push_back(std::move(formula));
    }
    if (!uniform_formula.x.empty()) {
      // Points arrive schedule by schedule: sort by M so the curve is a line.
      std::vector<std::pair<double, double>> xy;
      for (std::size_t i = 0; i < uniform_formula.x.size(); ++i) xy.emplace_back(uniform_formula.x[i], uniform_formula.y[i]);
      std::sort(xy.begin(), xy.end());
      uniform_formula.x.clear();
      uniform_formula.y.clear();
      for (const auto& [x, y] : xy) {
        uniform_formula.x.push_back(x);
        uniform_formula.y.push_back(y);
      }
      panel.series.push_back(std::move(uniform_formula));
    }
    c.panels.push_back(std::move(panel));
  }
  return c;
}

}  // namespace

SweepCommand::SweepCommand(CLI::App& app) {
  command_ = app.add_subcommand("sweep", "simulate schedules x stage counts x microbatch counts; table, CSV, chart");
  SweepOptions& o = options_;
  add_sweep_list_options(*command_, o.schedules, o.num_batches, o.chunks);
  command_->add_option("--num-stages,-s", o.num_stages, "comma-separated stage counts P")
      ->delimiter(',')
      ->capture_default_str();
  add_cost_options(*command_, o.costs);
  command_->add_option("--csv", o.csv, "write the results as CSV (- for stdout)");
  command_->add_option("--output,-o", o.output, "draw bubble against M per schedule (.svg, .png or .pdf)");
  command_->add_option("--jobs,-j", o.jobs, "threads (default 0: every core)");
}

int SweepCommand::run() const {
  const SweepOptions& o = options_;
  check_inputs(o);
  std::vector<SweepPoint> points;
  for (const std::string& s : o.schedules) {
    for (int p : o.num_stages) {
      for (int m : o.num_batches) points.push_back({s, p, m, s == "interleaved" ? o.chunks.value_or(2) : 1});
    }
  }
  const std::vector<SweepResult> results = run_sweep(points, o.costs, o.jobs);
  // Everything is computed (and every input error thrown) before anything is written.
  std::string chart_bytes;
  if (!o.output.empty()) chart_bytes = draw_line_chart(*image_format_for(o.output), chart(o, results));
  if (!o.csv.empty()) write_file_atomically(o.csv, csv(results));
  if (!chart_bytes.empty()) write_file_atomically(o.output, chart_bytes);
  if (o.csv != "-") std::cout << table(results);
  return kExitOk;
}

}  // namespace ppb
