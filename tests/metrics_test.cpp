#include <gtest/gtest.h>

#include "analysis/metrics.h"
#include "io/timeline_io.h"
#include "schedules/generators.h"
#include "sim/simulator.h"

namespace ppb {
namespace {

Timeline uniform(const Schedule& s) { return simulate(s, make_cost_model(CostInputs{}, s)); }

TEST(Metrics, OneFOneBHoldsAtMostPMinusRankActivations) {
  const Metrics m = compute_metrics(uniform(make_1f1b(4, 8)));
  for (int r = 0; r < 4; ++r) EXPECT_EQ(m.ranks[static_cast<std::size_t>(r)].peak_activations, 4 - r);
  const Metrics few = compute_metrics(uniform(make_1f1b(4, 2)));
  EXPECT_EQ(few.ranks[0].peak_activations, 2);  // bounded by M
}

TEST(Metrics, GPipeHoldsEveryMicrobatch) {
  const Metrics m = compute_metrics(uniform(make_gpipe(3, 5)));
  for (const RankMetrics& r : m.ranks) EXPECT_EQ(r.peak_activations, 5);
}

TEST(Metrics, SplitBackwardReleasesAtWeightGradient) {
  // Rank 0 of ZB-H1 P=3: F0 F1 F2 B0 W0 ...: three live before W0 releases one.
  const Schedule s = make_zb_h1(3, 4);
  std::vector<OpRecord> ops;
  for (const Op& op : s.ops[0]) ops.push_back({op, 0, 0});
  EXPECT_EQ(peak_activations(ops, true), 3);
  EXPECT_EQ(peak_activations(ops, false), 3);
}

TEST(Metrics, AnalyticReferenceOnlyWhereAFormulaApplies) {
  EXPECT_DOUBLE_EQ(*analytic_bubble("1f1b", 4, 8, 1), 3.0 / 11.0);
  EXPECT_DOUBLE_EQ(*analytic_bubble("gpipe", 8, 8, 1), 7.0 / 15.0);
  EXPECT_DOUBLE_EQ(*analytic_bubble("interleaved", 4, 8, 2), 3.0 / 19.0);
  EXPECT_FALSE(analytic_bubble("zb-h1", 4, 8, 1).has_value());
  EXPECT_FALSE(analytic_bubble("file", 4, 8, 1).has_value());
  EXPECT_FALSE(analytic_bubble("", 4, 8, 1).has_value());
}

TEST(Metrics, AnalyticReferenceFollowsTheGeneratorNotTheLabel) {
  Timeline t = uniform(make_gpipe(4, 8));
  ASSERT_TRUE(compute_metrics(t).analytic_bubble.has_value());
  t.generator.clear();  // as for a schedule read from a file that calls itself "gpipe"
  EXPECT_EQ(t.schedule, "gpipe");
  EXPECT_FALSE(compute_metrics(t).analytic_bubble.has_value());
}

TEST(TimelineJson, GeneratorIsKeptAndAbsentMeansNone) {
  const Timeline t = uniform(make_1f1b(2, 2));
  nlohmann::json doc = timeline_to_json(t, nlohmann::json::object());
  EXPECT_EQ(doc["generator"], "1f1b");
  EXPECT_EQ(timeline_from_json(doc, "t.json").generator, "1f1b");
  doc.erase("generator");  // a file from before the field: not known to be generated
  EXPECT_FALSE(compute_metrics(timeline_from_json(doc, "t.json")).analytic_bubble.has_value());
}

TEST(Metrics, MakespanIgnoresACommonOffset) {
  Timeline t = uniform(make_1f1b(2, 2));
  const double before = compute_metrics(t).makespan_us;
  for (auto& ops : t.ranks) {
    for (auto& rec : ops) {
      rec.start_us += 123;
      rec.end_us += 123;
    }
  }
  EXPECT_DOUBLE_EQ(compute_metrics(t).makespan_us, before);
}

TEST(TimelineJson, RoundTripsEveryField) {
  CostInputs in;
  in.p2p_time_ms = 0.3;
  in.activation_bytes = 4096;
  const Schedule s = make_interleaved(2, 4, 2);
  const Timeline t = simulate(s, make_cost_model(in, s));
  const nlohmann::json doc = timeline_to_json(t, {{"argv", {"x"}}});
  EXPECT_EQ(doc["schema"], "ppbench.timeline/1");
  const Timeline back = timeline_from_json(nlohmann::json::parse(doc.dump()), "t.json");
  EXPECT_EQ(timeline_to_json(back, {{"argv", {"x"}}}), doc);
}

}  // namespace
}  // namespace ppb
