#include "measured_sweep/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "analysis/metrics.h"
#include "render/metrics_table.h"

namespace ppb {

namespace {

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * fraction);
  return buf;
}

std::string signed_value(double v, const char* unit) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%+.1f%s", v, unit);
  return buf;
}

int max_of(const std::vector<int>& values) {
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

std::string csv_field(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(const char* format, double v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

nlohmann::json json_list(const std::vector<int>& v) { return nlohmann::json(v); }

// "gpipe", or "interleaved (v=2)": the schedule as the table and chart name it.
std::string schedule_label(const MeasuredSweepPoint& p) {
  return p.chunks > 1 ? p.schedule + " (v=" + std::to_string(p.chunks) + ")" : p.schedule;
}

}  // namespace

std::string sweep_point_name(const std::string& schedule, int num_microbatches) {
  return schedule + "-M" + std::to_string(num_microbatches);
}

std::vector<int> peak_activations_per_rank(const Timeline& timeline) {
  std::vector<int> peaks;
  for (const RankMetrics& r : compute_metrics(timeline).ranks) peaks.push_back(r.peak_activations);
  return peaks;
}

std::string format_sweep_point_line(const MeasuredSweepPoint& p, std::size_t index, std::size_t count) {
  std::string line = "ppbench sweep: [" + std::to_string(index) + "/" + std::to_string(count) + "] " + p.schedule +
                     " M=" + std::to_string(p.num_microbatches) + ": ";
  if (p.skipped) return line + "skipped: " + p.reason;
  const RunSummary& s = p.summary;
  line += "makespan " + format_duration(s.measured_makespan_us) + " (predicted " +
          format_duration(s.predicted_makespan_us) + ", " + signed_value(100 * s.makespan_rel_error, "%") +
          "), bubble " + percent(s.measured_bubble) + " (predicted " + percent(s.predicted_bubble) + ", " +
          signed_value(s.bubble_pp_error, " pp") + ")";
  for (const std::string& f : p.faults) line += "; fault " + f;
  return line;
}

std::string format_sweep_table(const std::vector<MeasuredSweepPoint>& points) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof(line), "%-18s %5s  %12s %12s %8s  %7s %9s %7s %8s %10s  %8s\n", "schedule", "M",
                "makespan", "predicted", "error", "bubble", "predicted", "replay", "analytic", "bubble err",
                "peak act");
  out += line;
  int skipped = 0;
  for (const MeasuredSweepPoint& p : points) {
    std::snprintf(line, sizeof(line), "%-18s %5d  ", schedule_label(p).c_str(), p.num_microbatches);
    out += line;
    if (p.skipped) {
      ++skipped;
      out += "skipped: " + p.reason + "\n";
      continue;
    }
    const RunSummary& s = p.summary;
    const std::string peaks = std::to_string(max_of(p.measured_peak_activations)) + "/" +
                              std::to_string(max_of(s.rank_predicted_peak_activations));
    std::snprintf(line, sizeof(line), "%12s %12s %8s  %7s %9s %7s %8s %10s  %8s\n",
                  format_duration(s.measured_makespan_us).c_str(), format_duration(s.predicted_makespan_us).c_str(),
                  signed_value(100 * s.makespan_rel_error, "%").c_str(), percent(s.measured_bubble).c_str(),
                  percent(s.predicted_bubble).c_str(), percent(s.replay_bubble).c_str(),
                  s.analytic_bubble ? percent(*s.analytic_bubble).c_str() : "-",
                  signed_value(s.bubble_pp_error, " pp").c_str(), peaks.c_str());
    out += line;
  }
  const std::size_t measured = points.size() - static_cast<std::size_t>(skipped);
  out += std::to_string(measured) + (measured == 1 ? " point" : " points") + " measured, " +
         std::to_string(skipped) +
         " skipped. makespan and bubble: the median iteration; error = (measured - predicted) / measured; "
         "analytic = uniform-stage, zero-communication formula; peak act = most activations held on a rank, "
         "measured/predicted\n";
  return out;
}

std::string sweep_csv(const std::vector<MeasuredSweepPoint>& points) {
  std::string out =
      "schedule,num_ranks,num_microbatches,chunks,status,measured_makespan_us,measured_bubble,predicted_makespan_us,"
      "predicted_bubble,replay_makespan_us,replay_bubble,analytic_bubble,makespan_error_pct,bubble_error_pp,"
      "replay_makespan_error_pct,replay_bubble_error_pp,measured_peak_activations,predicted_peak_activations,"
      "peak_buffer_bytes,predicted_peak_activation_bytes,iterations,median_iteration,directory,reason\n";
  for (const MeasuredSweepPoint& p : points) {
    out += p.schedule + "," + std::to_string(p.num_ranks) + "," + std::to_string(p.num_microbatches) + "," +
           std::to_string(p.chunks) + ",";
    if (p.skipped) {
      out += "skipped" + std::string(19, ',') + csv_field(p.reason) + "\n";
      continue;
    }
    const RunSummary& s = p.summary;
    const char* us = "%.3f";
    const char* fraction = "%.9f";
    out += "ok," + number(us, s.measured_makespan_us) + "," + number(fraction, s.measured_bubble) + "," +
           number(us, s.predicted_makespan_us) + "," + number(fraction, s.predicted_bubble) + "," +
           number(us, s.replay_makespan_us) + "," + number(fraction, s.replay_bubble) + "," +
           (s.analytic_bubble ? number(fraction, *s.analytic_bubble) : "") + "," +
           number("%.6f", 100 * s.makespan_rel_error) + "," + number("%.6f", s.bubble_pp_error) + "," +
           number("%.6f", 100 * s.replay_makespan_rel_error) + "," + number("%.6f", s.replay_bubble_pp_error) + "," +
           std::to_string(max_of(p.measured_peak_activations)) + "," +
           std::to_string(max_of(s.rank_predicted_peak_activations)) + ",";
    if (!s.rank_peak_buffer_bytes.empty()) {
      out += std::to_string(*std::max_element(s.rank_peak_buffer_bytes.begin(), s.rank_peak_buffer_bytes.end()));
    }
    out += ",";
    if (s.activation_bytes > 0) {
      out += std::to_string(static_cast<std::uint64_t>(max_of(s.rank_predicted_peak_activations)) * s.activation_bytes);
    }
    out += "," + std::to_string(s.iterations) + "," + std::to_string(s.median_iteration) + "," + p.directory + ",\n";
  }
  return out;
}

nlohmann::json sweep_to_json(const std::vector<MeasuredSweepPoint>& points, const nlohmann::json& plan,
                             const nlohmann::json& context) {
  nlohmann::json list = nlohmann::json::array();
  for (const MeasuredSweepPoint& p : points) {
    nlohmann::json j{{"schedule", p.schedule},
                     {"num_ranks", p.num_ranks},
                     {"num_microbatches", p.num_microbatches},
                     {"chunks", p.chunks},
                     {"status", p.skipped ? "skipped" : "ok"}};
    if (p.skipped) {
      j["reason"] = p.reason;
      list.push_back(std::move(j));
      continue;
    }
    const RunSummary& s = p.summary;
    nlohmann::json predicted_bytes = nullptr;
    if (s.activation_bytes > 0) {
      predicted_bytes = nlohmann::json::array();
      for (int n : s.rank_predicted_peak_activations) {
        predicted_bytes.push_back(static_cast<std::uint64_t>(n) * s.activation_bytes);
      }
    }
    j["directory"] = p.directory;
    j["faults"] = p.faults;
    j["iterations"] = s.iterations;
    j["measured"] = {{"median_iteration", s.median_iteration},
                     {"makespan", s.measured_makespan_us},
                     {"bubble_fraction", s.measured_bubble},
                     {"makespan_min", s.makespan_us.min},
                     {"makespan_max", s.makespan_us.max},
                     {"peak_activations", json_list(p.measured_peak_activations)},
                     {"peak_buffer_bytes", s.rank_peak_buffer_bytes.empty()
                                               ? nlohmann::json(nullptr)
                                               : nlohmann::json(s.rank_peak_buffer_bytes)}};
    j["predicted"] = {{"makespan", s.predicted_makespan_us},
                      {"bubble_fraction", s.predicted_bubble},
                      {"peak_activations", json_list(s.rank_predicted_peak_activations)},
                      {"peak_activation_bytes", predicted_bytes}};
    j["replay"] = {{"makespan", s.replay_makespan_us}, {"bubble_fraction", s.replay_bubble}};
    j["analytic_bubble"] = s.analytic_bubble ? nlohmann::json(*s.analytic_bubble) : nlohmann::json(nullptr);
    j["error"] = {{"makespan_rel", s.makespan_rel_error},
                  {"bubble_pp", s.bubble_pp_error},
                  {"replay_makespan_rel", s.replay_makespan_rel_error},
                  {"replay_bubble_pp", s.replay_bubble_pp_error}};
    list.push_back(std::move(j));
  }
  return {{"schema", "ppbench.sweep/1"}, {"time_unit", "us"}, {"plan", plan}, {"points", std::move(list)},
          {"context", context}};
}

LineChart sweep_chart(const std::vector<MeasuredSweepPoint>& points, const std::string& subtitle) {
  LineChart chart;
  chart.title = "Bubble fraction against microbatches: measured vs predicted";
  chart.subtitle = subtitle;
  chart.x_label = "microbatches M (log scale)";
  chart.y_label = "bubble fraction";
  chart.log_x = true;
  std::vector<std::string> order;
  for (const MeasuredSweepPoint& p : points) {
    if (!p.skipped && std::find(order.begin(), order.end(), p.schedule) == order.end()) order.push_back(p.schedule);
  }
  for (const std::string& name : order) {
    // The chart draws solid series in list order and dashed ones last: the
    // formula stays visible where it lies on the predicted curve (uniform
    // stages, free links), and the measured markers sit on the predicted line.
    LineSeries predicted{"predicted (simulator)", 1, false, false, {}, {}, 2.0, 1.0, true};
    LineSeries formula{"", 6, true, false, {}, {}, 1.3, 1.0, true};
    LineSeries measured{"measured (median iteration)", 0, false, true, {}, {}, 2.0, 1.4, false};
    ChartPanel panel;
    for (const MeasuredSweepPoint& p : points) {
      if (p.skipped || p.schedule != name) continue;
      panel.title = schedule_label(p) + ", P = " + std::to_string(p.num_ranks);
      const double m = p.num_microbatches;
      predicted.x.push_back(m);
      predicted.y.push_back(p.summary.predicted_bubble);
      measured.x.push_back(m);
      measured.y.push_back(p.summary.measured_bubble);
      if (p.summary.analytic_bubble) {
        formula.x.push_back(m);
        formula.y.push_back(*p.summary.analytic_bubble);
      }
    }
    formula.label = name == "interleaved" ? "analytic (P-1)/(vM+P-1)" : "analytic (P-1)/(M+P-1)";
    panel.series.push_back(std::move(predicted));
    if (!formula.x.empty()) panel.series.push_back(std::move(formula));
    panel.series.push_back(std::move(measured));
    chart.panels.push_back(std::move(panel));
  }
  return chart;
}

std::optional<std::size_t> worst_makespan_error(const std::vector<MeasuredSweepPoint>& points) {
  std::optional<std::size_t> worst;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].skipped) continue;
    const double error = std::abs(points[i].summary.makespan_rel_error);
    if (!worst || error > std::abs(points[*worst].summary.makespan_rel_error)) worst = i;
  }
  return worst;
}

}  // namespace ppb
