// Measured-against-predicted comparison and the idle-time breakdown: hand-worked
// timelines with known residuals and parts, and the breakdown's invariant (the
// parts sum to each rank's idle time) on simulated timelines of every schedule.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/compare.h"
#include "analysis/idle_breakdown.h"
#include "analysis/metrics.h"
#include "analysis/timeline_source.h"
#include "core/errors.h"
#include "io/timeline_io.h"
#include "schedules/generators.h"
#include "sim/simulator.h"

namespace ppb {
namespace {

Op F(int s, int m) { return Op{OpKind::F, s, m}; }
Op B(int s, int m) { return Op{OpKind::B, s, m}; }

// GPipe, P = 2, M = 1: F0 on rank 0, F0 and B0 on rank 1, B0 on rank 0. The
// arguments are the times that differ between the two hand-worked timelines.
Timeline two_rank(double f1_end, double b1_end, double arrive_b, double b0_start) {
  Timeline t;
  t.schedule = "gpipe";
  t.num_ranks = 2;
  t.num_microbatches = 1;
  t.stage_rank = {0, 1};
  t.ranks = {{{F(0, 0), 0, 10}, {B(0, 0), b0_start, b0_start + 20}}, {{F(1, 0), 15, f1_end}, {B(1, 0), f1_end, b1_end}}};
  t.transfers = {{F(0, 0), 0, 1, 10, 15, 0}, {B(1, 0), 1, 0, b1_end, arrive_b, 0}};
  return t;
}

// Predicted: F 10 us, B 20 us, transfers 5 us. Measured: rank 1's forward takes
// 18 us (8 late) and rank 0's backward starts 2 us after its input arrived.
Timeline predicted_two_rank() { return two_rank(25, 45, 50, 50); }
Timeline measured_two_rank() { return two_rank(33, 53, 58, 60); }

const OpResidual& find(const Comparison& c, int rank, const Op& op) {
  for (const OpResidual& r : c.ops) {
    if (r.rank == rank && r.op == op) return r;
  }
  throw std::runtime_error("op not found");
}

TEST(Compare, HandWorkedResidualsAndErrors) {
  const Comparison c = compare_timelines(measured_two_rank(), predicted_two_rank(), "m.json", "p.json");
  ASSERT_EQ(c.ops.size(), 4u);
  EXPECT_DOUBLE_EQ(find(c, 0, F(0, 0)).start_residual_us(), 0);
  EXPECT_DOUBLE_EQ(find(c, 0, F(0, 0)).duration_residual_us(), 0);
  EXPECT_DOUBLE_EQ(find(c, 1, F(1, 0)).start_residual_us(), 0);
  EXPECT_DOUBLE_EQ(find(c, 1, F(1, 0)).duration_residual_us(), 8);
  EXPECT_DOUBLE_EQ(find(c, 1, B(1, 0)).start_residual_us(), 8);
  EXPECT_DOUBLE_EQ(find(c, 1, B(1, 0)).duration_residual_us(), 0);
  EXPECT_DOUBLE_EQ(find(c, 0, B(0, 0)).start_residual_us(), 10);
  EXPECT_DOUBLE_EQ(find(c, 0, B(0, 0)).duration_residual_us(), 0);

  EXPECT_DOUBLE_EQ(c.measured.makespan_us, 80);
  EXPECT_DOUBLE_EQ(c.predicted.makespan_us, 70);
  EXPECT_DOUBLE_EQ(c.makespan_error, 10.0 / 80.0);
  // busy: measured 30 + 38 over 2 x 80; predicted 30 + 30 over 2 x 70.
  EXPECT_NEAR(c.bubble_error_points, 100.0 * ((1 - 68.0 / 160) - (1 - 60.0 / 140)), 1e-12);
  EXPECT_DOUBLE_EQ(c.start.max_abs_us, 10);
  EXPECT_DOUBLE_EQ(c.start.mean_us, 18.0 / 4);
  EXPECT_DOUBLE_EQ(c.duration.max_abs_us, 8);

  const auto worst_start = worst_ops(c.ops, ResidualKind::Start, 2);
  ASSERT_EQ(worst_start.size(), 2u);
  EXPECT_EQ(worst_start[0].op, B(0, 0));
  EXPECT_EQ(worst_start[1].op, B(1, 0));
  const auto worst_duration = worst_ops(c.ops, ResidualKind::Duration, 1);
  ASSERT_EQ(worst_duration.size(), 1u);
  EXPECT_EQ(worst_duration[0].op, F(1, 0));
  EXPECT_EQ(worst_ops(c.ops, ResidualKind::Start, 10).size(), 4u);
}

TEST(IdleBreakdownTest, HandWorkedMeasuredParts) {
  const auto parts = idle_breakdown(measured_two_rank());
  ASSERT_EQ(parts.size(), 2u);
  // Rank 0 is free at 10; B1@s1 is sent at 53 (imbalance: rank 1 is still
  // computing), arrives at 58 (5 us in flight), B0 starts at 60 (2 us more).
  EXPECT_DOUBLE_EQ(parts[0].idle_us, 50);
  EXPECT_DOUBLE_EQ(parts[0].warmup_us, 0);
  EXPECT_DOUBLE_EQ(parts[0].cooldown_us, 0);
  EXPECT_DOUBLE_EQ(parts[0].transfer_wait_us, 5);
  EXPECT_DOUBLE_EQ(parts[0].imbalance_us, 45);
  // Rank 1 starts at 15 and ends at 53 of 80.
  EXPECT_DOUBLE_EQ(parts[1].idle_us, 42);
  EXPECT_DOUBLE_EQ(parts[1].warmup_us, 15);
  EXPECT_DOUBLE_EQ(parts[1].cooldown_us, 27);
  EXPECT_DOUBLE_EQ(parts[1].transfer_wait_us, 0);
  EXPECT_DOUBLE_EQ(parts[1].imbalance_us, 0);
}

TEST(IdleBreakdownTest, InputInFlightBeforeThePreviousOpEndedCountsOnlyTheRest) {
  // The input was sent at 5 and arrives at 30; rank 0 is busy until 20, so only
  // 20..30 is transfer wait, and 30..34 (start) is not.
  Timeline t = two_rank(25, 45, 50, 50);
  t.ranks[0] = {{F(0, 0), 0, 20}, {B(0, 0), 34, 54}};
  t.transfers[1].send_us = 5;
  t.transfers[1].arrive_us = 30;
  const auto parts = idle_breakdown(t);
  EXPECT_DOUBLE_EQ(parts[0].transfer_wait_us, 10);
  EXPECT_DOUBLE_EQ(parts[0].imbalance_us, 4);
}

TEST(IdleBreakdownTest, MissingTransferRecordsMakeTheGapImbalance) {
  Timeline t = measured_two_rank();
  t.transfers.clear();
  const auto parts = idle_breakdown(t);
  EXPECT_DOUBLE_EQ(parts[0].transfer_wait_us, 0);
  EXPECT_DOUBLE_EQ(parts[0].imbalance_us, 50);
}

struct SimCase {
  std::string schedule;
  int ranks, microbatches, chunks;
};

std::vector<Timeline> simulated_timelines() {
  std::vector<Timeline> out;
  for (const SimCase& c : {SimCase{"gpipe", 4, 8, 1}, SimCase{"1f1b", 4, 8, 1}, SimCase{"interleaved", 4, 8, 2},
                           SimCase{"zb-h1", 4, 8, 1}, SimCase{"1f1b", 3, 2, 1}, SimCase{"interleaved", 2, 4, 3}}) {
    const Schedule s = generate_schedule(c.schedule, c.ranks, c.microbatches, c.chunks);
    for (int variant = 0; variant < 3; ++variant) {
      CostInputs in;
      in.forward_ms = {1.0, 1.7, 0.6, 1.3};
      in.backward_ms = {2.1, 2.9, 1.5, 2.2};
      in.forward_ms.resize(static_cast<std::size_t>(c.ranks));
      in.backward_ms.resize(static_cast<std::size_t>(c.ranks));
      if (variant == 0) in.p2p_time_ms = 0.35;
      if (variant == 1) {
        in.p2p_latency_ms = 0.02;
        in.bandwidth_gbps = 10;
        in.activation_bytes = 8u << 20;
        in.optimizer_ms = 0.5;
      }
      if (variant == 2) in.weight_ms = {0.7}, in.p2p_time_ms = 0.05;
      CostModel costs = make_cost_model(in, s);
      if (variant == 0) costs.link_by_pair[{0, 1}] = LinkCost{std::nullopt, 300.0, 0};  // one slow link
      out.push_back(simulate(s, costs));
    }
  }
  return out;
}

TEST(IdleBreakdownTest, PartsSumToIdleForEverySimulatedSchedule) {
  for (const Timeline& t : simulated_timelines()) {
    const Metrics m = compute_metrics(t);
    const auto parts = idle_breakdown(t);
    ASSERT_EQ(parts.size(), m.ranks.size());
    double transfer_wait = 0;
    for (std::size_t r = 0; r < parts.size(); ++r) {
      const IdleBreakdown& b = parts[r];
      SCOPED_TRACE(t.schedule + " rank " + std::to_string(r));
      EXPECT_DOUBLE_EQ(b.idle_us, m.ranks[r].idle_us);
      EXPECT_NEAR(b.warmup_us + b.cooldown_us + b.transfer_wait_us + b.imbalance_us, b.idle_us,
                  1e-9 * m.makespan_us);
      // In a prediction no gap is negative and no part either.
      EXPECT_GE(b.warmup_us, 0);
      EXPECT_GE(b.cooldown_us, 0);
      EXPECT_GE(b.transfer_wait_us, 0);
      EXPECT_GE(b.imbalance_us, -1e-9 * m.makespan_us);
      transfer_wait += b.transfer_wait_us;
    }
    // Every case pays for transfers, and some rank waits on one inside its span.
    EXPECT_GT(transfer_wait, 0) << t.schedule;
  }
}

TEST(IdleBreakdownTest, FreeCommunicationHasNoTransferWait) {
  for (const char* name : {"gpipe", "1f1b", "interleaved", "zb-h1"}) {
    const Schedule s = generate_schedule(name, 4, 8, std::string(name) == "interleaved" ? 2 : 1);
    CostInputs in;
    in.forward_ms = {1, 2, 1, 1};
    const auto parts = idle_breakdown(simulate(s, make_cost_model(in, s)));
    for (const IdleBreakdown& b : parts) EXPECT_EQ(b.transfer_wait_us, 0) << name;
  }
}

TEST(Compare, ATimelineAgainstItselfHasNoError) {
  for (const Timeline& t : simulated_timelines()) {
    const Comparison c = compare_timelines(t, t, "a", "b");
    EXPECT_EQ(c.makespan_error, 0) << t.schedule;
    EXPECT_EQ(c.bubble_error_points, 0) << t.schedule;
    EXPECT_EQ(c.start.max_abs_us, 0);
    EXPECT_EQ(c.duration.max_abs_us, 0);
    EXPECT_EQ(c.ops.size(), [&] {
      std::size_t n = 0;
      for (const auto& r : t.ranks) n += r.size();
      return n;
    }());
  }
}

TEST(Compare, AConstantClockOffsetIsNotAnError) {
  Timeline shifted = predicted_two_rank();
  for (auto& ops : shifted.ranks) {
    for (OpRecord& rec : ops) rec.start_us += 1000, rec.end_us += 1000;
  }
  const Comparison c = compare_timelines(shifted, predicted_two_rank(), "a", "b");
  EXPECT_EQ(c.start.max_abs_us, 0);
  EXPECT_EQ(c.makespan_error, 0);
}

std::string error_of(const Timeline& m, const Timeline& p) {
  try {
    compare_timelines(m, p, "m.json", "p.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Compare, OneScheduleReadFromTwoFilesIsTheSameSchedule) {
  Timeline p = predicted_two_rank();
  p.schedule = "file a.csv";
  Timeline m = measured_two_rank();
  m.schedule = "file copy.json (gpipe)";
  EXPECT_EQ(error_of(m, p), "");
}

TEST(Compare, DifferentSchedulesAreInputErrorsNamingBothFiles) {
  const Timeline p = predicted_two_rank();
  Timeline m = p;
  m.num_microbatches = 2;
  EXPECT_EQ(error_of(m, p),
            "m.json and p.json are not the same schedule: different microbatch count M (2 measured, 1 predicted)");
  m = p;
  m.schedule = "1f1b";
  EXPECT_NE(error_of(m, p).find("different schedule (1f1b measured, gpipe predicted)"), std::string::npos);
  m = p;
  m.generator = "gpipe";  // generated beside read from a file
  EXPECT_NE(error_of(m, p).find("different schedule"), std::string::npos);
  m = p;
  m.ranks[1].pop_back();
  EXPECT_EQ(error_of(m, p), "m.json and p.json are not the same schedule: rank 1 has B0@s1 only in the predicted timeline");
  m = p;
  m.ranks[0][1].op = B(0, 1);
  EXPECT_NE(error_of(m, p).find("rank 0 has B1@s0 only in the measured timeline"), std::string::npos);
  m = p;
  m.stage_rank = {1, 0};
  EXPECT_NE(error_of(m, p).find("different placement"), std::string::npos);
}

// --- reading measured.json ------------------------------------------------------

TEST(TimelineSource, MedianIndexIsTheLowerMedianAndEarliestOnTies) {
  EXPECT_EQ(median_index({5, 1, 3}), 2);
  EXPECT_EQ(median_index({4, 1, 3, 2}), 3);  // sorted 1,2,3,4: lower median 2 at index 3
  EXPECT_EQ(median_index({7, 7, 7}), 1);
  EXPECT_EQ(median_index({2, 1, 1, 2}), 2);  // sorted (1@1, 1@2, 2@0, 2@3): index 2
  EXPECT_EQ(median_index({9}), 0);
}

nlohmann::json measured_doc(const std::vector<double>& scale) {
  nlohmann::json iterations = nlohmann::json::array();
  for (double k : scale) {
    Timeline t = measured_two_rank();
    for (auto& ops : t.ranks) {
      for (OpRecord& rec : ops) rec.start_us *= k, rec.end_us *= k;
    }
    t.source = "measured";
    iterations.push_back(timeline_body_to_json(t));
  }
  return {{"schema", "ppbench.measured/1"}, {"warmup", 2}, {"iterations", iterations}, {"context", {{"x", 1}}}};
}

TEST(TimelineSource, MeasuredDocumentPicksTheMedianIterationOrTheOneAskedFor) {
  const auto doc = measured_doc({1.3, 1.0, 1.1, 2.0, 0.9});  // makespans 104, 80, 88, 160, 72
  const TimelineSource median = timeline_source_from_json(doc, "run/measured.json", std::nullopt);
  EXPECT_EQ(median.iteration, 2);
  EXPECT_TRUE(median.median);
  EXPECT_EQ(median.iterations, 5);
  EXPECT_DOUBLE_EQ(compute_metrics(median.timeline).makespan_us, 88);
  const TimelineSource third = timeline_source_from_json(doc, "run/measured.json", 3);
  EXPECT_EQ(third.iteration, 3);
  EXPECT_FALSE(third.median);
  EXPECT_DOUBLE_EQ(compute_metrics(third.timeline).makespan_us, 160);
}

std::string source_error(const nlohmann::json& doc, std::optional<int> iteration = std::nullopt) {
  try {
    timeline_source_from_json(doc, "f.json", iteration);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TimelineSource, BadDocumentsNameTheFileAndTheReason) {
  EXPECT_EQ(source_error(measured_doc({1, 2}), 2), "--iteration: 2 is out of range: f.json holds 2 iterations (0..1)");
  EXPECT_EQ(source_error({{"schema", "ppbench.metrics/1"}}),
            "f.json: \"schema\" is \"ppbench.metrics/1\", expected \"ppbench.timeline/1\" or \"ppbench.measured/1\"");
  EXPECT_EQ(source_error({{"ranks", 1}}).rfind("f.json: missing \"schema\"", 0), 0u);
  EXPECT_EQ(source_error({{"schema", "ppbench.measured/1"}, {"iterations", nlohmann::json::array()}}),
            "f.json: \"iterations\" is empty");
  auto doc = measured_doc({1, 2});
  doc["iterations"][1]["ranks"][0]["ops"][0]["end"] = -5;
  EXPECT_EQ(source_error(doc), "f.json: iterations[1]: rank 0 op F0@s0: ends (-5) before it starts (0)");
  doc = measured_doc({1});
  doc["iterations"][0]["ranks"][1]["ops"][0]["stage"] = 7;
  EXPECT_EQ(source_error(doc), "f.json: iterations[0]: rank 1 op F0@s7: stage out of range");
  doc = measured_doc({1});
  doc["iterations"][0].erase("ranks");
  EXPECT_EQ(source_error(doc), "f.json: iterations[0]: missing \"ranks\"");
}

}  // namespace
}  // namespace ppb
