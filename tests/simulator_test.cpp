// The simulator against cases worked by hand: unequal stages, transfer cost,
// per-link costs, the optimizer step and weight-gradient folding.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/metrics.h"
#include "core/errors.h"
#include "schedules/generators.h"
#include "sim/simulator.h"

namespace ppb {
namespace {

// [start, end] in ms for each op of a rank, in list order.
std::vector<std::pair<double, double>> spans_ms(const Timeline& t, int rank) {
  std::vector<std::pair<double, double>> out;
  for (const OpRecord& r : t.ranks[static_cast<std::size_t>(rank)]) out.emplace_back(r.start_us / 1000, r.end_us / 1000);
  return out;
}

using Spans = std::vector<std::pair<double, double>>;

TEST(Simulator, GPipeWithUnequalStagesAndTransferCost) {
  // Worked by hand: F = 1, 2 ms; B = 2, 4 ms; every transfer 0.5 ms.
  const Schedule s = make_gpipe(2, 2);
  CostInputs in;
  in.forward_ms = {1, 2};
  in.backward_ms = {2, 4};
  in.p2p_time_ms = 0.5;
  const Timeline t = simulate(s, make_cost_model(in, s));
  EXPECT_EQ(spans_ms(t, 0), (Spans{{0, 1}, {1, 2}, {10, 12}, {14, 16}}));
  EXPECT_EQ(spans_ms(t, 1), (Spans{{1.5, 3.5}, {3.5, 5.5}, {5.5, 9.5}, {9.5, 13.5}}));
  const Metrics m = compute_metrics(t);
  EXPECT_DOUBLE_EQ(m.makespan_us, 16000);
  EXPECT_DOUBLE_EQ(m.bubble_fraction, 1.0 - 18.0 / 32.0);
  EXPECT_DOUBLE_EQ(m.ranks[0].busy_us, 6000);
  EXPECT_DOUBLE_EQ(m.ranks[1].idle_us, 4000);
  ASSERT_EQ(t.transfers.size(), 4u);
  EXPECT_DOUBLE_EQ(t.transfers[0].send_us, 1000);
  EXPECT_DOUBLE_EQ(t.transfers[0].arrive_us, 1500);
}

TEST(Simulator, OneFOneBWithTransferCost) {
  // Worked by hand: F = 1 ms, B = 2 ms, transfers 1 ms, P = 2, M = 3.
  const Schedule s = make_1f1b(2, 3);
  CostInputs in;
  in.p2p_time_ms = 1;
  const Timeline t = simulate(s, make_cost_model(in, s));
  EXPECT_EQ(spans_ms(t, 0), (Spans{{0, 1}, {1, 2}, {6, 8}, {8, 9}, {9, 11}, {14, 16}}));
  EXPECT_EQ(spans_ms(t, 1), (Spans{{2, 3}, {3, 5}, {5, 6}, {6, 8}, {10, 11}, {11, 13}}));
  EXPECT_EQ(t.transfers.size(), 6u);
  EXPECT_DOUBLE_EQ(compute_metrics(t).bubble_fraction, 1.0 - 18.0 / 32.0);
}

TEST(Simulator, LatencyPlusBandwidthAndPerLinkOverride) {
  const Schedule s = make_gpipe(3, 1);
  CostInputs in;
  in.forward_ms = {1};
  in.backward_ms = {1};
  in.p2p_latency_ms = 0.1;
  in.bandwidth_gbps = 1;          // 1e3 bytes per us
  in.activation_bytes = 400000;  // 400 us on the wire
  CostModel costs = make_cost_model(in, s);
  EXPECT_DOUBLE_EQ(costs.transfer_us(0, 1), 500);
  costs.link_by_pair[{1, 2}] = LinkCost{std::nullopt, 0, 0};  // a free link, both ways
  costs.link_by_pair[{2, 1}] = LinkCost{std::nullopt, 0, 0};
  const Timeline t = simulate(s, costs);
  // F: [0,1] on r0; arrives 1.5; [1.5,2.5] on r1; free link to r2: [2.5,3.5].
  EXPECT_DOUBLE_EQ(t.ranks[2][0].start_us, 2500);
  // B on r2 [3.5,4.5], free link back to r1 [4.5,5.5], 0.5 to r0: [6,7].
  EXPECT_DOUBLE_EQ(t.ranks[0][1].start_us, 6000);
  EXPECT_EQ(t.transfers[0].bytes, 400000u);
}

TEST(Simulator, SameRankHandOffsAreFree) {
  // Interleaved with P = 1: both chunks on one rank, no transfer at all.
  const Schedule s = make_interleaved(1, 2, 2);
  CostInputs in;
  in.p2p_time_ms = 100;
  const Timeline t = simulate(s, make_cost_model(in, s));
  EXPECT_TRUE(t.transfers.empty());
  EXPECT_DOUBLE_EQ(compute_metrics(t).makespan_us, 2 * 3000);
}

TEST(Simulator, OptimizerStepRunsAfterEachRanksLastOpAndCountsBusy) {
  const Schedule s = make_1f1b(2, 2);
  CostInputs in;
  in.optimizer_ms = 0.5;
  const Timeline t = simulate(s, make_cost_model(in, s));
  for (int r = 0; r < 2; ++r) {
    const auto& ops = t.ranks[static_cast<std::size_t>(r)];
    ASSERT_EQ(ops.back().op.kind, OpKind::Optimizer);
    EXPECT_DOUBLE_EQ(ops.back().start_us, ops[ops.size() - 2].end_us);
    EXPECT_DOUBLE_EQ(ops.back().end_us - ops.back().start_us, 500);
  }
  const Metrics m = compute_metrics(t);
  EXPECT_DOUBLE_EQ(m.ranks[0].busy_us, 2 * 3000 + 500);
  EXPECT_DOUBLE_EQ(m.makespan_us, (2 + 2 - 1) * 3000 + 500);
}

TEST(Simulator, WeightTimesFoldIntoBackwardWhenNotSplit) {
  const Schedule s = make_1f1b(2, 4);
  CostInputs in;
  in.weight_ms = {1};
  const Metrics m = compute_metrics(simulate(s, make_cost_model(in, s)));
  EXPECT_DOUBLE_EQ(m.makespan_us, (4 + 2 - 1) * (1 + 2 + 1) * 1000.0);
}

TEST(Simulator, SplitScheduleWithoutWeightTimesSharesTheBackward) {
  const Schedule s = make_zb_h1(2, 4);
  CostInputs in;  // F = 1, B = 2: B and W take 1 ms each
  const CostModel costs = make_cost_model(in, s);
  EXPECT_DOUBLE_EQ(costs.op_us({OpKind::B, 0, 0}), 1000);
  EXPECT_DOUBLE_EQ(costs.op_us({OpKind::W, 0, 0}), 1000);
}

TEST(Simulator, ChunkTimesSplitEachRanksTimeEvenly) {
  const Schedule s = make_interleaved(2, 2, 2);
  CostInputs in;
  in.forward_ms = {2, 4};
  const CostModel costs = make_cost_model(in, s);
  EXPECT_DOUBLE_EQ(costs.forward_us[0], 1000);  // rank 0, chunk 0
  EXPECT_DOUBLE_EQ(costs.forward_us[1], 2000);  // rank 1, chunk 0
  EXPECT_DOUBLE_EQ(costs.forward_us[2], 1000);  // rank 0, chunk 1
}

TEST(CostModel, RejectsBadTimesNamingTheFlag) {
  const Schedule s = make_1f1b(4, 4);
  auto error = [&](CostInputs in) {
    try {
      make_cost_model(in, s);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CostInputs negative;
  negative.forward_ms = {-1};
  EXPECT_EQ(error(negative).rfind("--forward-times", 0), 0u) << error(negative);
  CostInputs zero;
  zero.backward_ms = {0};
  EXPECT_EQ(error(zero).rfind("--backward-times", 0), 0u);
  CostInputs inf;
  inf.weight_ms = {INFINITY};
  EXPECT_EQ(error(inf).rfind("--weight-times", 0), 0u);
  CostInputs wrong_length;
  wrong_length.forward_ms = {1, 2, 3};
  EXPECT_NE(error(wrong_length).find("expected 1 or 4 values"), std::string::npos);
  CostInputs negative_p2p;
  negative_p2p.p2p_time_ms = -0.5;
  EXPECT_EQ(error(negative_p2p).rfind("--p2p-time", 0), 0u);
}

TEST(CostModel, RejectsTimesThatOverflowInMicroseconds) {
  // 1e306 ms is a finite double, 1e309 us is not.
  const Schedule s = make_1f1b(2, 2);
  auto error = [&](CostInputs in) {
    try {
      make_cost_model(in, s);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CostInputs forward;
  forward.forward_ms = {1e306};
  EXPECT_EQ(error(forward).rfind("--forward-times: 1e+306 is too large", 0), 0u) << error(forward);
  CostInputs latency;
  latency.p2p_latency_ms = 1e306;
  EXPECT_EQ(error(latency).rfind("--p2p-latency: 1e+306 is too large", 0), 0u) << error(latency);
  CostInputs fixed;
  fixed.p2p_time_ms = 1e306;
  EXPECT_EQ(error(fixed).rfind("--p2p-time: 1e+306 is too large", 0), 0u) << error(fixed);
  CostInputs bandwidth;
  bandwidth.bandwidth_gbps = 1e306;
  EXPECT_EQ(error(bandwidth).rfind("--bandwidth: 1e+306 is too large", 0), 0u) << error(bandwidth);
  CostInputs optimizer;
  optimizer.optimizer_ms = 1e306;
  EXPECT_EQ(error(optimizer).rfind("--optimizer-time: 1e+306 is too large", 0), 0u) << error(optimizer);
}

TEST(CostModel, RejectsTimesWhoseIterationOverflows) {
  // Each backward is a finite 2e307 us; their sum over the schedule is not.
  const Schedule s = make_gpipe(2, 100);
  CostInputs in;
  in.backward_ms = {2e304};
  try {
    make_cost_model(in, s);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--backward-times: times too large", 0), 0u) << e.what();
  }
}

TEST(Simulator, RefusesACostModelWhoseTimesAreNotFinite) {
  // A model built in code (not by make_cost_model): no infinite or NaN time may
  // come out of the simulator, for the renderers and metrics assume finite times.
  const Schedule s = make_1f1b(2, 4);
  for (double bad : {1e308, static_cast<double>(NAN)}) {
    CostModel m;
    m.forward_us = {bad, 1};
    m.backward_us = {1, 1};
    m.weight_us = {0, 0};
    EXPECT_THROW(simulate(s, m), InputError) << bad;
  }
  CostModel link;
  link.forward_us = link.backward_us = {1, 1};
  link.weight_us = {0, 0};
  link.link.fixed_us = INFINITY;
  EXPECT_THROW(simulate(s, link), InputError);
}

}  // namespace
}  // namespace ppb
