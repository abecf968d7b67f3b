// What `ppbench sweep` makes of its points on rank 0 (src/measured_sweep):
// the CSV and JSON agree with the points' summaries and with each other, the
// table and progress lines show every point, skipped ones with their reason,
// and the chart has one panel per schedule with measured markers, a predicted
// line and the analytic formula where the run gives one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "analysis/run_summary.h"
#include "measured_sweep/sweep_report.h"
#include "render/render_fixtures.h"
#include "schedules/generators.h"

namespace ppb {
namespace {

// A point judged as a run judges one: two stretched copies of the simulated
// timeline as the measured iterations, the simulation as prediction and replay.
MeasuredSweepPoint measured_point(const std::string& schedule, int p, int m, std::uint64_t bytes = 65536) {
  const Timeline predicted = test::simulated(schedule, p, m);
  Timeline slower = test::fake_measured(predicted);
  const std::vector<Timeline> iterations{test::fake_measured(predicted), slower};
  const Schedule s = generate_schedule(schedule, p, m, schedule == "interleaved" ? 2 : 1);
  MeasuredSweepPoint point;
  point.schedule = schedule;
  point.num_ranks = p;
  point.num_microbatches = m;
  point.chunks = s.chunks;
  point.summary = summarize_run(iterations, predicted, predicted, make_cost_model({}, s));
  point.summary.activation_bytes = bytes;
  point.summary.rank_peak_buffer_bytes.assign(static_cast<std::size_t>(p), 3 * bytes);
  point.measured_peak_activations = peak_activations_per_rank(iterations[point.summary.median_iteration]);
  point.directory = "points/" + sweep_point_name(schedule, m);
  return point;
}

MeasuredSweepPoint skipped_point(const std::string& schedule, int p, int m, const std::string& reason) {
  MeasuredSweepPoint point;
  point.schedule = schedule;
  point.num_ranks = p;
  point.num_microbatches = m;
  point.chunks = 2;
  point.skipped = true;
  point.reason = reason;
  return point;
}

// Splits CSV text into rows of fields (quoted fields may hold commas and "").
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else {
      field += c;
    }
  }
  return rows;
}

std::vector<MeasuredSweepPoint> three_points() {
  return {measured_point("gpipe", 4, 4), skipped_point("interleaved", 4, 3, "--num-batches: needs \"M\", a multiple"),
          measured_point("zb-h1", 4, 8)};
}

TEST(MeasuredSweepReport, PointNameAndPeaks) {
  EXPECT_EQ(sweep_point_name("zb-h1", 16), "zb-h1-M16");
  // 1F1B holds P - r microbatches on rank r (once M >= P); GPipe all M.
  EXPECT_EQ(peak_activations_per_rank(test::simulated("1f1b", 4, 8)), (std::vector<int>{4, 3, 2, 1}));
  EXPECT_EQ(peak_activations_per_rank(test::simulated("gpipe", 2, 3)), (std::vector<int>{3, 3}));
}

TEST(MeasuredSweepReport, CsvHasARowPerPointWithTheSummaryValues) {
  const std::vector<MeasuredSweepPoint> points = three_points();
  const auto rows = parse_csv(sweep_csv(points));
  ASSERT_EQ(rows.size(), 4u);
  const std::vector<std::string>& header = rows[0];
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size()) << row[0];
  auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<std::size_t>(it - header.begin());
  };
  auto value = [&](std::size_t row, const std::string& name) { return std::stod(rows[row][column(name)]); };
  for (std::size_t i : {0u, 2u}) {
    const RunSummary& s = points[i].summary;
    const std::size_t row = i + 1;
    EXPECT_EQ(rows[row][column("status")], "ok");
    EXPECT_EQ(rows[row][column("schedule")], points[i].schedule);
    EXPECT_EQ(rows[row][column("directory")], points[i].directory);
    EXPECT_NEAR(value(row, "measured_makespan_us"), s.measured_makespan_us, 1e-3);
    EXPECT_NEAR(value(row, "predicted_bubble"), s.predicted_bubble, 1e-9);
    EXPECT_NEAR(value(row, "measured_bubble"), s.measured_bubble, 1e-9);
    EXPECT_NEAR(value(row, "replay_bubble"), s.replay_bubble, 1e-9);
    EXPECT_NEAR(value(row, "makespan_error_pct"), 100 * s.makespan_rel_error, 1e-6);
    EXPECT_NEAR(value(row, "bubble_error_pp"), s.bubble_pp_error, 1e-6);
    EXPECT_GT(value(row, "makespan_error_pct"), 0);  // the fake measurement is 10 % slower
    EXPECT_EQ(value(row, "peak_buffer_bytes"), 3 * 65536);
    EXPECT_EQ(value(row, "predicted_peak_activation_bytes"),
              65536.0 * *std::max_element(s.rank_predicted_peak_activations.begin(),
                                          s.rank_predicted_peak_activations.end()));
  }
  EXPECT_NEAR(value(1, "analytic_bubble"), 3.0 / 7.0, 1e-9);  // gpipe, P=4, M=4
  EXPECT_EQ(rows[3][column("analytic_bubble")], "");         // zb-h1 has no formula
  EXPECT_EQ(value(1, "measured_peak_activations"), 4);
  EXPECT_EQ(rows[2][column("status")], "skipped");
  EXPECT_EQ(rows[2][column("reason")], "--num-batches: needs \"M\", a multiple");
  EXPECT_EQ(rows[2][column("measured_makespan_us")], "");
}

TEST(MeasuredSweepReport, JsonAgreesWithTheCsv) {
  const std::vector<MeasuredSweepPoint> points = three_points();
  const nlohmann::json j = sweep_to_json(points, {{"num_ranks", 4}}, {{"backend", "cpu"}});
  EXPECT_EQ(j["schema"], "ppbench.sweep/1");
  EXPECT_EQ(j["plan"]["num_ranks"], 4);
  EXPECT_EQ(j["context"]["backend"], "cpu");
  ASSERT_EQ(j["points"].size(), 3u);
  const auto& gpipe = j["points"][0];
  const RunSummary& s = points[0].summary;
  EXPECT_EQ(gpipe["status"], "ok");
  EXPECT_EQ(gpipe["measured"]["makespan"].get<double>(), s.measured_makespan_us);
  EXPECT_EQ(gpipe["predicted"]["bubble_fraction"].get<double>(), s.predicted_bubble);
  EXPECT_EQ(gpipe["error"]["makespan_rel"].get<double>(), s.makespan_rel_error);
  EXPECT_EQ(gpipe["analytic_bubble"].get<double>(), *s.analytic_bubble);
  EXPECT_EQ(gpipe["measured"]["peak_activations"], nlohmann::json(points[0].measured_peak_activations));
  EXPECT_EQ(gpipe["predicted"]["peak_activation_bytes"][0].get<std::uint64_t>(),
            static_cast<std::uint64_t>(s.rank_predicted_peak_activations[0]) * 65536u);
  EXPECT_EQ(j["points"][1]["status"], "skipped");
  EXPECT_EQ(j["points"][1]["reason"], points[1].reason);
  EXPECT_FALSE(j["points"][1].contains("measured"));
  EXPECT_TRUE(j["points"][2]["analytic_bubble"].is_null());

  // Without a message size the bytes are unknown: null, and empty in the CSV.
  const nlohmann::json unknown = sweep_to_json({measured_point("1f1b", 2, 2, 0)}, {}, {});
  EXPECT_TRUE(unknown["points"][0]["predicted"]["peak_activation_bytes"].is_null());
  const auto rows = parse_csv(sweep_csv({measured_point("1f1b", 2, 2, 0)}));
  const auto& header = rows[0];
  const auto at = std::find(header.begin(), header.end(), "predicted_peak_activation_bytes") - header.begin();
  EXPECT_EQ(rows[1][static_cast<std::size_t>(at)], "");
}

TEST(MeasuredSweepReport, TableAndLinesShowEveryPoint) {
  const std::vector<MeasuredSweepPoint> points = three_points();
  const std::string table = format_sweep_table(points);
  std::istringstream lines(table);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 5u) << table;  // header, three points, the closing line
  EXPECT_EQ(rows[1].rfind("gpipe ", 0), 0u) << rows[1];
  EXPECT_NE(rows[1].find("42.9%"), std::string::npos) << rows[1];  // analytic 3/7
  EXPECT_EQ(rows[2].rfind("interleaved (v=2)", 0), 0u) << rows[2];
  EXPECT_NE(rows[2].find("skipped: --num-batches: needs \"M\", a multiple"), std::string::npos) << rows[2];
  EXPECT_EQ(rows[4].rfind("2 points measured, 1 skipped.", 0), 0u) << rows[4];

  EXPECT_EQ(format_sweep_point_line(points[1], 2, 3),
            "ppbench sweep: [2/3] interleaved M=3: skipped: --num-batches: needs \"M\", a multiple");
  MeasuredSweepPoint slowed = points[0];
  slowed.faults = {"1:*:slow=2"};
  const std::string line = format_sweep_point_line(slowed, 1, 3);
  EXPECT_EQ(line.rfind("ppbench sweep: [1/3] gpipe M=4: makespan ", 0), 0u) << line;
  char bubble[64];
  std::snprintf(bubble, sizeof(bubble), "), bubble %.1f%% (predicted %.1f%%, ", 100 * slowed.summary.measured_bubble,
                100 * slowed.summary.predicted_bubble);
  EXPECT_NE(line.find(bubble), std::string::npos) << line;
  EXPECT_NE(line.find("; fault 1:*:slow=2"), std::string::npos) << line;
}

TEST(MeasuredSweepReport, ChartHasAPanelPerMeasuredSchedule) {
  std::vector<MeasuredSweepPoint> points = {measured_point("gpipe", 4, 4), measured_point("gpipe", 4, 8),
                                            skipped_point("interleaved", 4, 3, "no"), measured_point("zb-h1", 4, 4)};
  const LineChart chart = sweep_chart(points, "inputs");
  EXPECT_EQ(chart.subtitle, "inputs");
  ASSERT_EQ(chart.panels.size(), 2u);  // interleaved had no measured point
  EXPECT_EQ(chart.panels[0].title, "gpipe, P = 4");
  const auto& gpipe = chart.panels[0].series;
  ASSERT_EQ(gpipe.size(), 3u);
  const LineSeries& predicted = gpipe[0];
  const LineSeries& formula = gpipe[1];
  const LineSeries& measured = gpipe[2];
  EXPECT_TRUE(predicted.line && !predicted.markers && !predicted.dashed);
  EXPECT_TRUE(formula.dashed);
  EXPECT_EQ(formula.label, "analytic (P-1)/(M+P-1)");
  EXPECT_TRUE(measured.markers && !measured.line);
  EXPECT_EQ(measured.x, (std::vector<double>{4, 8}));
  EXPECT_EQ(measured.y, (std::vector<double>{points[0].summary.measured_bubble, points[1].summary.measured_bubble}));
  EXPECT_EQ(predicted.y, (std::vector<double>{points[0].summary.predicted_bubble, points[1].summary.predicted_bubble}));
  EXPECT_EQ(formula.y, (std::vector<double>{3.0 / 7.0, 3.0 / 11.0}));
  EXPECT_EQ(chart.panels[1].series.size(), 2u);  // zb-h1: no formula
}

TEST(MeasuredSweepReport, WorstMakespanErrorSkipsSkippedPoints) {
  std::vector<MeasuredSweepPoint> points = three_points();
  points[0].summary.makespan_rel_error = 0.01;
  points[2].summary.makespan_rel_error = -0.03;
  EXPECT_EQ(worst_makespan_error(points), 2u);
  EXPECT_FALSE(worst_makespan_error({points[1]}).has_value());
}

}  // namespace
}  // namespace ppb
