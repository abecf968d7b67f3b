// Calibration: percentiles, the link fit and its clamps, the builder, the
// ppbench.calibration/1 file (round trip and errors naming file and key), and
// the cost model a calibration gives a schedule, down to a simulated makespan.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <functional>
#include <set>
#include <string>

#include "analysis/calibration.h"
#include "analysis/calibration_report.h"
#include "analysis/metrics.h"
#include "core/errors.h"
#include "schedules/generators.h"
#include "sim/simulator.h"
#include "support/run_command.h"

namespace ppb {
namespace {

// --- percentiles -------------------------------------------------------------

TEST(CalibrationPercentile, InterpolatesBetweenClosestRanks) {
  const std::vector<double> four{1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_of_sorted(four, 0.5), 2.5);    // h = 1.5
  EXPECT_DOUBLE_EQ(percentile_of_sorted(four, 0.05), 1.15);  // h = 0.15
  EXPECT_DOUBLE_EQ(percentile_of_sorted(four, 0.95), 3.85);  // h = 2.85
  EXPECT_DOUBLE_EQ(percentile_of_sorted(four, 0.0), 1);
  EXPECT_DOUBLE_EQ(percentile_of_sorted(four, 1.0), 4);
  const std::vector<double> five{1, 3, 7, 15, 31};
  EXPECT_DOUBLE_EQ(percentile_of_sorted(five, 0.25), 3);    // h = 1
  EXPECT_DOUBLE_EQ(percentile_of_sorted(five, 0.9), 24.6);  // h = 3.6: 15 + 0.6 * 16
  EXPECT_DOUBLE_EQ(percentile_of_sorted({42}, 0.95), 42);
}

TEST(CalibrationPercentile, SummarySortsItsInput) {
  const SampleStats s = summarise_samples({4, 1, 3, 2});
  EXPECT_EQ(s.samples, 4u);
  EXPECT_DOUBLE_EQ(s.median_us, 2.5);
  EXPECT_DOUBLE_EQ(s.p5_us, 1.15);
  EXPECT_DOUBLE_EQ(s.p95_us, 3.85);
  EXPECT_THROW(summarise_samples({}), InputError);
  EXPECT_THROW(summarise_samples({1, NAN}), InputError);
}

// --- the link fit ------------------------------------------------------------

TEST(CalibrationFit, RecoversAnExactLatencyBandwidthLine) {
  // 20 us + bytes / (2000 bytes/us), i.e. 2 GB/s.
  std::vector<LinkSample> points;
  for (std::uint64_t bytes : {4096ull, 65536ull, 1048576ull, 16777216ull}) {
    points.push_back({bytes, 20 + static_cast<double>(bytes) / 2000});
  }
  const LinkFit fit = fit_link(points);
  EXPECT_NEAR(fit.latency_us, 20, 1e-6);
  EXPECT_NEAR(fit.bytes_per_us, 2000, 1e-6);
  EXPECT_NEAR(fit.bandwidth_gbps(), 2, 1e-9);
  EXPECT_NEAR(fit.r_squared, 1, 1e-12);
  EXPECT_NEAR(fit.max_rel_residual, 0, 1e-9);
  EXPECT_EQ(fit.points, 4u);
  EXPECT_EQ(fit.note, "");
  EXPECT_NEAR(fit.cost().cost_us(1000000), 20 + 500, 1e-6);
}

TEST(CalibrationFit, OneSizeIsLatencyOnly) {
  // The weighted mean: (30/900 + 40/1600) / (1/900 + 1/1600) = 33.6.
  const LinkFit fit = fit_link({{65536, 30}, {65536, 40}});
  EXPECT_DOUBLE_EQ(fit.latency_us, 33.6);
  EXPECT_EQ(fit.bytes_per_us, 0);
  EXPECT_NE(fit.note.find("one message size (65536 bytes)"), std::string::npos) << fit.note;
  EXPECT_DOUBLE_EQ(fit.cost().cost_us(1 << 30), 33.6);  // no bandwidth term
}

TEST(CalibrationFit, NegativeSlopeIsClampedToTheWeightedMeanWithANote) {
  // Weights 1/100 and 1/64: the mean is (10/100 + 8/64) / (1/100 + 1/64) = 360/41.
  const LinkFit fit = fit_link({{1000, 10}, {2000, 8}});
  EXPECT_DOUBLE_EQ(fit.latency_us, 360.0 / 41);
  EXPECT_EQ(fit.bytes_per_us, 0);
  EXPECT_NE(fit.note.find("time fell as messages grew"), std::string::npos) << fit.note;
  EXPECT_NEAR(fit.max_rel_residual, (10 - 360.0 / 41) / 10, 1e-12);
  EXPECT_NEAR(fit.r_squared, 0, 1e-12);  // the constant line explains nothing
}

TEST(CalibrationFit, RelativeWeightsLetSmallMessagesSetTheLatency) {
  // 10 us + bytes / 1000, with the largest size 10% slow: plain least squares
  // follows the largest size and gives 6.4 us; the relative weights give 9.8 us.
  std::vector<LinkSample> points;
  for (double bytes : {1e3, 1e4, 1e5}) points.push_back({static_cast<std::uint64_t>(bytes), 10 + bytes / 1000});
  points.push_back({1000000, 1.1 * (10 + 1000)});
  const LinkFit fit = fit_link(points);
  EXPECT_NEAR(fit.latency_us, 9.82, 0.01);
  EXPECT_EQ(fit.note, "");
  EXPECT_GT(fit.max_rel_residual, 0.02);
  EXPECT_LT(fit.r_squared, 1);
}

TEST(CalibrationFit, NegativeInterceptIsClampedAndTheSlopeRefittedThroughTheOrigin) {
  // The line through both points: 0.002 us/byte and -1 us. Through the origin
  // with weights 1/1 and 1/9: sum(wxy) / sum(wx^2) = (1000 + 6000/9) / (1e6 + 4e6/9)
  // = 15000 / 13e6 us/byte.
  const LinkFit fit = fit_link({{1000, 1}, {2000, 3}});
  EXPECT_EQ(fit.latency_us, 0);
  EXPECT_NEAR(fit.bytes_per_us, 13e6 / 15000, 1e-9);
  EXPECT_NE(fit.note.find("negative latency (-1 us) clamped to 0"), std::string::npos) << fit.note;
  EXPECT_LT(fit.r_squared, 1);
}

TEST(CalibrationFit, ConstantTimesOnSeveralSizes) {
  const LinkFit fit = fit_link({{1000, 5}, {2000, 5}, {4000, 5}});
  EXPECT_DOUBLE_EQ(fit.latency_us, 5);
  EXPECT_EQ(fit.bytes_per_us, 0);
  EXPECT_EQ(fit.r_squared, 1);
  EXPECT_EQ(fit.note, "");
}

TEST(CalibrationFit, RefusesNoSamplesAndNonFiniteTimes) {
  EXPECT_THROW(fit_link({}), InputError);
  EXPECT_THROW(fit_link({{1, INFINITY}, {2, 1}}), InputError);
}

// --- the builder -------------------------------------------------------------

TEST(CalibrationBuilder, SummarisesEachRankAndFitsThePerSizeMedians) {
  CalibrationBuilder b(2);
  for (double us : {100.0, 110.0, 90.0}) {
    b.add_op_sample(0, OpKind::F, us);
    b.add_op_sample(1, OpKind::F, 2 * us);
    b.add_op_sample(0, OpKind::B, 3 * us);
    b.add_op_sample(1, OpKind::B, 4 * us);
  }
  // Link 0 -> 1: 10 us + bytes / 100 at two sizes, with one slow outlier per
  // size that the median ignores.
  for (std::uint64_t bytes : {1000ull, 3000ull}) {
    const double t = 10 + static_cast<double>(bytes) / 100;
    for (double us : {t, t, t + 1000}) b.add_link_sample(0, 1, bytes, us);
  }
  b.add_link_sample(1, 0, 1000, 7);
  const Calibration c = b.build();
  ASSERT_EQ(c.num_ranks, 2);
  ASSERT_EQ(c.stages.size(), 2u);
  EXPECT_DOUBLE_EQ(c.stages[0].forward.median_us, 100);
  EXPECT_DOUBLE_EQ(c.stages[1].forward.median_us, 200);
  EXPECT_DOUBLE_EQ(c.stages[1].backward.median_us, 400);
  EXPECT_EQ(c.stages[0].forward.samples, 3u);
  EXPECT_FALSE(c.has_weight());
  ASSERT_EQ(c.links.size(), 2u);
  const LinkCalibration* l01 = c.link(0, 1);
  ASSERT_NE(l01, nullptr);
  ASSERT_EQ(l01->sizes.size(), 2u);
  EXPECT_EQ(l01->sizes[0].bytes, 1000u);
  EXPECT_DOUBLE_EQ(l01->sizes[0].time.median_us, 20);
  EXPECT_EQ(l01->sizes[0].time.samples, 3u);
  EXPECT_EQ(l01->fit.points, 2u);
  EXPECT_NEAR(l01->fit.latency_us, 10, 1e-9);
  EXPECT_NEAR(l01->fit.bytes_per_us, 100, 1e-9);
  EXPECT_DOUBLE_EQ(c.link(1, 0)->fit.latency_us, 7);
  EXPECT_EQ(c.link(0, 0), nullptr);
}

TEST(CalibrationBuilder, RefusesMissingKindsPartialWeightsAndBadSamples) {
  {
    CalibrationBuilder b(2);
    b.add_op_sample(0, OpKind::F, 1);
    b.add_op_sample(0, OpKind::B, 1);
    b.add_op_sample(1, OpKind::F, 1);
    try {
      b.build();
      FAIL() << "rank 1 has no backward";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("rank 1 has no backward samples"), std::string::npos) << e.what();
    }
    b.add_op_sample(1, OpKind::B, 1);
    b.add_op_sample(1, OpKind::W, 1);
    try {
      b.build();
      FAIL() << "W on one rank of two";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("weight-gradient samples on 1 of 2 ranks"), std::string::npos) << e.what();
    }
  }
  CalibrationBuilder b(2);
  EXPECT_THROW(b.add_op_sample(2, OpKind::F, 1), InputError);
  EXPECT_THROW(b.add_op_sample(0, OpKind::Optimizer, 1), InputError);
  EXPECT_THROW(b.add_op_sample(0, OpKind::F, -1), InputError);
  EXPECT_THROW(b.add_op_sample(0, OpKind::F, NAN), InputError);
  EXPECT_THROW(b.add_link_sample(0, 0, 10, 1), InputError);
  EXPECT_THROW(b.add_link_sample(0, 2, 10, 1), InputError);
  EXPECT_THROW(b.add_link_sample(0, 1, 10, -1), InputError);
  EXPECT_THROW(CalibrationBuilder(0), InputError);
}

// Simulated runs stand in for measured ones: with a one-microbatch GPipe every
// op of the timeline is a stage sample and every transfer a link sample, so the
// builder recovers the model's stage times and link line exactly.
TEST(CalibrationBuilder, RecoversTheModelOfSimulatedOneMicrobatchRuns) {
  const Schedule s = generate_schedule("gpipe", 3, 1, 1);
  CalibrationBuilder b(3);
  for (std::uint64_t bytes : {1000ull, 5000ull, 9000ull}) {
    CostModel model;
    model.forward_us = {100, 200, 300};
    model.backward_us = {150, 250, 350};
    model.weight_us = {0, 0, 0};
    model.activation_bytes = bytes;
    model.link.latency_us = 12;
    model.link.bytes_per_us = 500;
    Timeline t = simulate(s, model);
    for (TransferRecord& x : t.transfers) x.bytes = bytes;  // as the runtime records them
    b.add_iteration(t);
    b.add_iteration(t);
  }
  const Calibration c = b.build();
  for (int r = 0; r < 3; ++r) {
    EXPECT_DOUBLE_EQ(c.stages[static_cast<std::size_t>(r)].forward.median_us, 100.0 * (r + 1));
    EXPECT_DOUBLE_EQ(c.stages[static_cast<std::size_t>(r)].backward.median_us, 150 + 100.0 * r);
    EXPECT_EQ(c.stages[static_cast<std::size_t>(r)].forward.samples, 6u);
  }
  ASSERT_EQ(c.links.size(), 4u);  // 0->1, 1->2 and back
  for (const LinkCalibration& l : c.links) {
    EXPECT_EQ(std::abs(l.src_rank - l.dst_rank), 1);
    EXPECT_EQ(l.sizes.size(), 3u);
    EXPECT_NEAR(l.fit.latency_us, 12, 1e-9);
    EXPECT_NEAR(l.fit.bytes_per_us, 500, 1e-6);
  }
}

// --- what calibrate runs -------------------------------------------------------

std::set<std::pair<int, int>> links_used(const Schedule& s) {
  std::set<std::pair<int, int>> links;
  for (int stage = 0; stage + 1 < s.num_stages(); ++stage) {
    links.insert({s.rank_of(stage), s.rank_of(stage + 1)});
    links.insert({s.rank_of(stage + 1), s.rank_of(stage)});
  }
  return links;
}

TEST(CalibrationSchedules, OneMicrobatchWithEveryRingLinkCovered) {
  const std::vector<Schedule> two = calibration_schedules(2, false);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].name, "gpipe");
  EXPECT_EQ(two[0].num_microbatches, 1);
  EXPECT_EQ(links_used(two[0]), (std::set<std::pair<int, int>>{{0, 1}, {1, 0}}));

  const std::vector<Schedule> four = calibration_schedules(4, false);
  ASSERT_EQ(four.size(), 2u);
  EXPECT_EQ(four[0].stage_rank, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(four[1].stage_rank, (std::vector<int>{1, 2, 3, 0}));
  std::set<std::pair<int, int>> all = links_used(four[0]);
  for (const auto& l : links_used(four[1])) all.insert(l);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(all.count({r, (r + 1) % 4}), 1u) << r;
    EXPECT_EQ(all.count({(r + 1) % 4, r}), 1u) << r;
  }
  // One stage per rank in both, so every op's sample belongs to one rank.
  for (const Schedule& s : four) {
    for (const auto& ops : s.ops) EXPECT_EQ(ops.size(), 2u);
  }

  const std::vector<Schedule> split = calibration_schedules(3, true);
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(split[0].name, "zb-h1");
  EXPECT_TRUE(split[1].split_backward);
  EXPECT_EQ(split[1].ops[0].size(), 3u);
}

TEST(CalibrationSchedules, NoTwoOpsOrTransfersOverlapWithoutW) {
  for (const Schedule& s : calibration_schedules(4, false)) {
    CostModel model = make_cost_model(CostInputs{}, s);
    model.link.latency_us = 10;
    const Timeline t = simulate(s, model);
    std::vector<std::pair<double, double>> spans;
    for (const auto& ops : t.ranks) {
      for (const OpRecord& r : ops) spans.push_back({r.start_us, r.end_us});
    }
    for (const TransferRecord& x : t.transfers) spans.push_back({x.send_us, x.arrive_us});
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) EXPECT_LE(spans[i - 1].second, spans[i].first) << i;
  }
}

// --- the file ------------------------------------------------------------------

Calibration two_rank_calibration(bool weight) {
  CalibrationBuilder b(2);
  for (int r = 0; r < 2; ++r) {
    for (double us : {1000.0, 1100.0, 1200.0}) {
      b.add_op_sample(r, OpKind::F, us * (r + 1));
      b.add_op_sample(r, OpKind::B, 2 * us * (r + 1));
      if (weight) b.add_op_sample(r, OpKind::W, 0.5 * us * (r + 1));
    }
  }
  for (std::uint64_t bytes : {4096ull, 65536ull}) {
    b.add_link_sample(0, 1, bytes, 50 + static_cast<double>(bytes) / 1000);
    b.add_link_sample(1, 0, bytes, 30 + static_cast<double>(bytes) / 4000);
  }
  b.set_measurement({{"schedule", "gpipe"}, {"microbatches", 1}});
  b.set_context({{"backend", "cpu"}});
  return b.build();
}

void expect_same_stats(const SampleStats& a, const SampleStats& b) {
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_DOUBLE_EQ(a.median_us, b.median_us);
  EXPECT_DOUBLE_EQ(a.p5_us, b.p5_us);
  EXPECT_DOUBLE_EQ(a.p95_us, b.p95_us);
}

TEST(CalibrationFile, RoundTripsThroughAFile) {
  for (bool weight : {false, true}) {
    const Calibration c = two_rank_calibration(weight);
    test::TempDir dir;
    const std::string path = dir.file("calibration.json");
    save_calibration_file(c, path);
    const nlohmann::json doc = nlohmann::json::parse(test::read_text(path));
    EXPECT_EQ(doc["schema"], "ppbench.calibration/1");
    EXPECT_EQ(doc["time_unit"], "us");
    EXPECT_EQ(doc["stages"][1]["rank"], 1);
    EXPECT_EQ(doc["stages"][0].contains("weight"), weight);
    const Calibration back = load_calibration_file(path);
    ASSERT_EQ(back.num_ranks, 2);
    ASSERT_EQ(back.stages.size(), 2u);
    for (std::size_t r = 0; r < 2; ++r) {
      expect_same_stats(back.stages[r].forward, c.stages[r].forward);
      expect_same_stats(back.stages[r].backward, c.stages[r].backward);
      ASSERT_EQ(back.stages[r].weight.has_value(), weight);
      if (weight) expect_same_stats(*back.stages[r].weight, *c.stages[r].weight);
    }
    ASSERT_EQ(back.links.size(), c.links.size());
    for (std::size_t i = 0; i < c.links.size(); ++i) {
      const LinkCalibration &a = back.links[i], &b = c.links[i];
      EXPECT_EQ(a.src_rank, b.src_rank);
      EXPECT_EQ(a.dst_rank, b.dst_rank);
      ASSERT_EQ(a.sizes.size(), b.sizes.size());
      for (std::size_t k = 0; k < a.sizes.size(); ++k) {
        EXPECT_EQ(a.sizes[k].bytes, b.sizes[k].bytes);
        expect_same_stats(a.sizes[k].time, b.sizes[k].time);
      }
      EXPECT_DOUBLE_EQ(a.fit.latency_us, b.fit.latency_us);
      EXPECT_DOUBLE_EQ(a.fit.bytes_per_us, b.fit.bytes_per_us);
      EXPECT_DOUBLE_EQ(a.fit.r_squared, b.fit.r_squared);
      EXPECT_EQ(a.fit.points, b.fit.points);
      EXPECT_EQ(a.fit.note, b.fit.note);
    }
    EXPECT_EQ(back.measurement, c.measurement);
    EXPECT_EQ(back.context, c.context);
    EXPECT_EQ(calibration_to_json(back), calibration_to_json(c));
  }
}

// Each case edits a valid document; the error names the file and the key.
struct BadFile {
  std::string name;
  std::function<void(nlohmann::json&)> edit;
  std::string expected;  // after "cal.json: "
};

void PrintTo(const BadFile& b, std::ostream* os) { *os << b.name; }

class CalibrationBadFile : public ::testing::TestWithParam<BadFile> {};

TEST_P(CalibrationBadFile, NamesTheFileAndTheKey) {
  nlohmann::json doc = calibration_to_json(two_rank_calibration(false));
  GetParam().edit(doc);
  try {
    calibration_from_json(doc, "cal.json");
    FAIL() << "accepted " << doc.dump();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cal.json: " + GetParam().expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CalibrationBadFile,
    ::testing::Values(
        BadFile{"schema", [](nlohmann::json& d) { d["schema"] = "ppbench.summary/1"; },
                "\"schema\" is \"ppbench.summary/1\", expected \"ppbench.calibration/1\""},
        BadFile{"no_schema", [](nlohmann::json& d) { d.erase("schema"); }, "\"schema\" is missing"},
        BadFile{"time_unit", [](nlohmann::json& d) { d["time_unit"] = "ms"; },
                "\"time_unit\" is \"ms\", expected \"us\""},
        BadFile{"ranks_type", [](nlohmann::json& d) { d["num_ranks"] = "two"; }, "\"num_ranks\" must be an integer"},
        BadFile{"ranks_zero", [](nlohmann::json& d) { d["num_ranks"] = 0; },
                "\"num_ranks\" must be at least 1 (got 0)"},
        BadFile{"no_stages", [](nlohmann::json& d) { d.erase("stages"); }, "\"stages\" is missing"},
        BadFile{"stage_count", [](nlohmann::json& d) { d["num_ranks"] = 3; },
                "\"stages\" has 2 entries, expected one per rank (num_ranks = 3)"},
        BadFile{"stage_order", [](nlohmann::json& d) { d["stages"][1]["rank"] = 0; },
                "\"stages[1].rank\" must be 1 (stages in rank order)"},
        BadFile{"missing_median", [](nlohmann::json& d) { d["stages"][1]["forward"].erase("median_us"); },
                "\"stages[1].forward.median_us\" is missing"},
        BadFile{"median_type", [](nlohmann::json& d) { d["stages"][0]["backward"]["median_us"] = "1 ms"; },
                "\"stages[0].backward.median_us\" must be a number"},
        BadFile{"negative_p5", [](nlohmann::json& d) { d["stages"][0]["forward"]["p5_us"] = -3; },
                "\"stages[0].forward.p5_us\" must not be negative (got -3)"},
        BadFile{"zero_forward", [](nlohmann::json& d) { d["stages"][0]["forward"]["median_us"] = 0; },
                "\"stages[0].forward.median_us\" must be positive"},
        BadFile{"samples", [](nlohmann::json& d) { d["stages"][0]["forward"]["samples"] = 0; },
                "\"stages[0].forward.samples\" must be at least 1 (got 0)"},
        BadFile{"partial_weight",
                [](nlohmann::json& d) {
                  d["stages"][0]["weight"] = d["stages"][0]["forward"];
                },
                "\"weight\" on 1 of 2 stages (all or none)"},
        BadFile{"stage_not_object", [](nlohmann::json& d) { d["stages"][1] = 5; }, "\"stages[1]\" must be an object"},
        BadFile{"links_type", [](nlohmann::json& d) { d["links"] = "none"; }, "\"links\" must be a list"},
        BadFile{"no_fit", [](nlohmann::json& d) { d["links"][0].erase("fit"); }, "\"links[0].fit\" is missing"},
        BadFile{"latency_negative", [](nlohmann::json& d) { d["links"][1]["fit"]["latency_us"] = -1.5; },
                "\"links[1].fit.latency_us\" must not be negative (got -1.5)"},
        BadFile{"bandwidth_type", [](nlohmann::json& d) { d["links"][0]["fit"]["bytes_per_us"] = nullptr; },
                "\"links[0].fit.bytes_per_us\" must be a number"},
        BadFile{"size_bytes", [](nlohmann::json& d) { d["links"][0]["sizes"][1]["bytes"] = -4096; },
                "\"links[0].sizes[1].bytes\" must be at least 0 (got -4096)"},
        BadFile{"link_range", [](nlohmann::json& d) { d["links"][0]["dst_rank"] = 2; },
                "\"links[0]\": 0 -> 2 is not a link between two of 2 ranks"},
        BadFile{"link_twice", [](nlohmann::json& d) { d["links"][1] = d["links"][0]; },
                "\"links[1]\": link 0 -> 1 appears twice"}),
    [](const auto& info) { return info.param.name; });

TEST(CalibrationFile, NonFiniteNumberIsRefused) {
  // JSON text has no infinity, but a document built in memory can hold one.
  nlohmann::json doc = calibration_to_json(two_rank_calibration(false));
  doc["stages"][0]["forward"]["p95_us"] = INFINITY;
  try {
    calibration_from_json(doc, "cal.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cal.json: \"stages[0].forward.p95_us\" must be finite");
  }
}

TEST(CalibrationFile, UnreadableAndInvalidFilesAreNamed) {
  test::TempDir dir;
  try {
    load_calibration_file(dir.file("missing.json"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("missing.json")), std::string::npos) << e.what();
  }
  test::write_text(dir.file("bad.json"), "{\"schema\": ");
  try {
    load_calibration_file(dir.file("bad.json"));
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir.file("bad.json") + ": not valid JSON", 0), 0u) << e.what();
  }
}

// --- the cost model ----------------------------------------------------------------

TEST(CalibrationCostModel, PerRankTimesAndPerLinkFits) {
  const Calibration c = two_rank_calibration(false);
  const Schedule s = generate_schedule("1f1b", 2, 4, 1);
  const CostModel m = apply_calibration(c, s, 65536, 250, "cal.json");
  EXPECT_EQ(m.forward_us, (std::vector<double>{1100, 2200}));
  EXPECT_EQ(m.backward_us, (std::vector<double>{2200, 4400}));
  EXPECT_EQ(m.optimizer_us, 250);
  EXPECT_EQ(m.activation_bytes, 65536u);
  ASSERT_EQ(m.link_by_pair.size(), 2u);
  // 0 -> 1: 50 us + bytes / 1000; 1 -> 0: 30 us + bytes / 4000.
  EXPECT_NEAR(m.transfer_us(0, 1), 50 + 65.536, 1e-6);
  EXPECT_NEAR(m.transfer_us(1, 0), 30 + 16.384, 1e-6);
}

TEST(CalibrationCostModel, ChunksShareTheirRanksTimes) {
  const Calibration c = two_rank_calibration(false);
  const Schedule s = generate_schedule("interleaved", 2, 4, 2);  // stages 0..3 on ranks 0, 1, 0, 1
  const CostModel m = apply_calibration(c, s, 1000, 0, "cal.json");
  EXPECT_EQ(m.forward_us, (std::vector<double>{550, 1100, 550, 1100}));
  EXPECT_EQ(m.backward_us, (std::vector<double>{1100, 2200, 1100, 2200}));
}

TEST(CalibrationCostModel, WeightGradientsAsTheTimeFlagsTreatThem) {
  const Calibration with_w = two_rank_calibration(true);
  const Calibration without_w = two_rank_calibration(false);
  const Schedule zb = generate_schedule("zb-h1", 2, 4, 1);
  const Schedule plain = generate_schedule("gpipe", 2, 4, 1);
  // W measured, split schedule: B and W as measured.
  CostModel m = apply_calibration(with_w, zb, 1000, 0, "cal.json");
  EXPECT_EQ(m.backward_us, (std::vector<double>{2200, 4400}));
  EXPECT_EQ(m.weight_us, (std::vector<double>{550, 1100}));
  // W measured, schedule without W: the backward is B + W.
  m = apply_calibration(with_w, plain, 1000, 0, "cal.json");
  EXPECT_EQ(m.backward_us, (std::vector<double>{2750, 5500}));
  // No W measured, split schedule: B and W share the backward evenly.
  m = apply_calibration(without_w, zb, 1000, 0, "cal.json");
  EXPECT_EQ(m.backward_us, (std::vector<double>{1100, 2200}));
  EXPECT_EQ(m.weight_us, (std::vector<double>{1100, 2200}));
}

TEST(CalibrationCostModel, RankCountAndMissingLinksAreErrorsNamingTheFile) {
  const Calibration c = two_rank_calibration(false);
  try {
    apply_calibration(c, generate_schedule("gpipe", 3, 4, 1), 1000, 0, "cal.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cal.json: calibrated on 2 ranks, the schedule has 3 (P must match the calibrated run)");
  }
  // Three ranks with only the neighbours measured: interleaved also hands from
  // rank 2 back to rank 0.
  CalibrationBuilder b(3);
  for (int r = 0; r < 3; ++r) {
    b.add_op_sample(r, OpKind::F, 10);
    b.add_op_sample(r, OpKind::B, 20);
  }
  for (int r = 0; r < 2; ++r) {
    b.add_link_sample(r, r + 1, 100, 5);
    b.add_link_sample(r + 1, r, 100, 5);
  }
  const Calibration three = b.build();
  EXPECT_NO_THROW(apply_calibration(three, generate_schedule("1f1b", 3, 4, 1), 100, 0, "cal.json"));
  try {
    apply_calibration(three, generate_schedule("interleaved", 3, 3, 2), 100, 0, "cal.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "cal.json: no calibration of the link rank 2 -> rank 0, which the schedule uses");
  }
}

// GPipe, P = 2, M = 1 by hand: F on rank 0 (1000), the activation to rank 1
// (50 + 65536 / 1000 = 115.536), F and B on rank 1 (2000 + 4000), the gradient
// back (30 + 65536 / 4000 = 46.384), B on rank 0 (2000).
TEST(CalibrationCostModel, SimulatedMakespanUsesTheCalibratedLinks) {
  CalibrationBuilder b(2);
  b.add_op_sample(0, OpKind::F, 1000);
  b.add_op_sample(0, OpKind::B, 2000);
  b.add_op_sample(1, OpKind::F, 2000);
  b.add_op_sample(1, OpKind::B, 4000);
  for (std::uint64_t bytes : {4096ull, 65536ull}) {
    b.add_link_sample(0, 1, bytes, 50 + static_cast<double>(bytes) / 1000);
    b.add_link_sample(1, 0, bytes, 30 + static_cast<double>(bytes) / 4000);
  }
  const Schedule s = generate_schedule("gpipe", 2, 1, 1);
  const Timeline t = simulate(s, apply_calibration(b.build(), s, 65536, 0, "cal.json"));
  EXPECT_NEAR(compute_metrics(t).makespan_us, 1000 + 115.536 + 2000 + 4000 + 46.384 + 2000, 1e-6);
}

TEST(CalibrationCostModel, CostInputsWithACalibrationFile) {
  test::TempDir dir;
  const std::string path = dir.file("cal.json");
  save_calibration_file(two_rank_calibration(false), path);
  const Schedule s = generate_schedule("gpipe", 2, 2, 1);
  CostInputs in;
  in.calibration_file = path;
  in.activation_bytes = 4096;
  in.optimizer_ms = 0.5;
  const CostModel m = make_cost_model(in, s);
  EXPECT_EQ(m.forward_us, (std::vector<double>{1100, 2200}));
  EXPECT_EQ(m.optimizer_us, 500);
  EXPECT_NEAR(m.transfer_us(0, 1), 50 + 4.096, 1e-9);
  // A time flag beside the file is refused, naming both.
  in.time_flags_given.insert("--p2p-latency");
  try {
    make_cost_model(in, s);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--p2p-latency: cannot be used with --calibration (the calibration file gives the times)");
  }
  in.time_flags_given.clear();
  in.activation_bytes = 0;
  try {
    make_cost_model(in, s);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--activation-bytes: give the message size with --calibration", 0), 0u);
  }
  // 0 given on purpose is a size: the links cost their latency alone.
  in.activation_bytes_known = true;
  EXPECT_NEAR(make_cost_model(in, s).transfer_us(0, 1), 50, 1e-9);
}

TEST(CalibrationReport, TablesOfStagesAndLinks) {
  const Calibration c = two_rank_calibration(true);
  CostModel targets;
  targets.forward_us = {1000, 2000};
  targets.backward_us = {2000, 4000};
  targets.weight_us = {500, 1000};
  const std::string text = format_calibration_report(c, targets);
  // Rank 1's forward: target 2 ms, samples 2.0, 2.2, 2.4 ms.
  EXPECT_NE(text.find("1        F           2.000 ms    2.200 ms    2.020 ms    2.380 ms        3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("         W           500.0 us    550.0 us"), std::string::npos) << text;
  EXPECT_NE(text.find("0 -> 1   4 KiB"), std::string::npos) << text;
  EXPECT_NE(text.find("         64 KiB"), std::string::npos) << text;
  // 0 -> 1: 50 us + bytes / 1000 (1 GB/s), exact.
  EXPECT_NE(text.find("fit: latency 50.0 us, bandwidth 1 GB/s, r^2 1.0000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace ppb
