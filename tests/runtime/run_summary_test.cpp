// Run summary, replay and harness overhead on hand-made timelines (no MPI).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/metrics.h"
#include "analysis/replay.h"
#include "analysis/run_summary.h"
#include "schedules/generators.h"
#include "sim/simulator.h"

namespace ppb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

CostModel nominal(const Schedule& s, double f_ms, double b_ms, double p2p_ms = 0) {
  CostInputs in;
  in.forward_ms = {f_ms};
  in.backward_ms = {b_ms};
  in.p2p_time_ms = p2p_ms;
  return make_cost_model(in, s);
}

// A "measurement": the simulator with other costs, relabelled.
Timeline fake_measured(const Schedule& s, const CostModel& actual) {
  Timeline t = simulate(s, actual);
  t.source = "measured";
  return t;
}

TEST(Statistics, MedianAndNearestRankPercentile) {
  EXPECT_DOUBLE_EQ(median_of({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median_of({4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(median_of({})));
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_DOUBLE_EQ(percentile(hundred, 0.99), 99);
  EXPECT_DOUBLE_EQ(percentile(hundred, 0.95), 95);
  const Distribution d = distribution_of({5, 1, 9, 3});
  EXPECT_DOUBLE_EQ(d.min, 1);
  EXPECT_DOUBLE_EQ(d.max, 9);
  EXPECT_DOUBLE_EQ(d.median, 3);  // nearest rank: the lower middle of an even count, a value that occurred
  EXPECT_DOUBLE_EQ(d.p95, 9);
}

TEST(Replay, RecoversMeasuredDurationsAndLinkCosts) {
  const Schedule s = make_1f1b(3, 4);
  const CostModel plan = nominal(s, 1, 2);
  // The run had slower stage 1 and 0.25 ms transfers.
  CostInputs in;
  in.forward_ms = {1, 1.5, 1};
  in.backward_ms = {2, 3, 2};
  in.p2p_time_ms = 0.25;
  const CostModel actual = make_cost_model(in, s);
  const std::vector<Timeline> runs{fake_measured(s, actual), fake_measured(s, actual)};
  const CostModel got = measured_cost_model(runs, plan);
  EXPECT_DOUBLE_EQ(got.forward_us[1], 1500);
  EXPECT_DOUBLE_EQ(got.backward_us[1], 3000);
  EXPECT_DOUBLE_EQ(got.forward_us[0], 1000);
  ASSERT_EQ(got.link_by_pair.size(), 4u);  // 0->1, 1->2, 2->1, 1->0
  EXPECT_DOUBLE_EQ(*got.link_by_pair.at({1, 2}).fixed_us, 250);
  // Replaying a run that followed a cost model reproduces it.
  const Timeline replay = replay_timeline(s, runs, plan);
  EXPECT_EQ(replay.source, "replay");
  EXPECT_DOUBLE_EQ(compute_metrics(replay).makespan_us, compute_metrics(runs[0]).makespan_us);
}

// With an even count the errors come from the lower middle iteration, one
// that ran (the one the trace and pictures show), never from the mean of the
// two middle ones; its bubble is the measured bubble.
TEST(RunSummary, EvenIterationCountMeasuresTheLowerMiddleIteration) {
  const Schedule s = make_1f1b(2, 4);
  const CostModel plan = nominal(s, 1, 2);
  const Timeline predicted = simulate(s, plan);
  // Stage 1's backward 4, 2.5, 2 and 3 ms: makespans in that order, and
  // bubbles that differ (uniform scaling would keep the bubble).
  std::vector<Timeline> runs;
  for (double b1 : {4.0, 2.5, 2.0, 3.0}) {
    CostModel actual = plan;
    actual.backward_us[1] = 1000 * b1;
    runs.push_back(fake_measured(s, actual));
  }
  ASSERT_LT(compute_metrics(runs[2]).makespan_us, compute_metrics(runs[1]).makespan_us);
  ASSERT_LT(compute_metrics(runs[1]).makespan_us, compute_metrics(runs[3]).makespan_us);
  ASSERT_NE(compute_metrics(runs[1]).bubble_fraction, compute_metrics(runs[3]).bubble_fraction);
  const RunSummary sum = summarize_run(runs, predicted, replay_timeline(s, runs, plan), plan);
  const Metrics lower_middle = compute_metrics(runs[1]);
  EXPECT_EQ(sum.median_iteration, 1u);
  EXPECT_DOUBLE_EQ(sum.measured_makespan_us, lower_middle.makespan_us);
  EXPECT_DOUBLE_EQ(sum.makespan_us.median, lower_middle.makespan_us);
  EXPECT_DOUBLE_EQ(sum.measured_bubble, lower_middle.bubble_fraction);
  const double predicted_makespan = compute_metrics(predicted).makespan_us;
  EXPECT_DOUBLE_EQ(sum.makespan_rel_error, (lower_middle.makespan_us - predicted_makespan) / lower_middle.makespan_us);
  const nlohmann::json j = summary_to_json(sum, {});
  EXPECT_EQ(j["measured"]["median_iteration"]["index"], 1);
  EXPECT_DOUBLE_EQ(j["measured"]["median_iteration"]["makespan"].get<double>(), lower_middle.makespan_us);
}

TransferRecord transfer(double send, double arrive, double wait_start = kNaN) {
  TransferRecord x;
  x.send_us = send;
  x.arrive_us = arrive;
  x.wait_start_us = wait_start;
  return x;
}

TEST(LinkCost, OnlyTransfersWhoseConsumerWaitedTimeTheLink) {
  // Three arrivals seen by a waiting consumer (10, 12, 14 us after the send),
  // five seen late by a busy one, one without a send time.
  const std::vector<TransferRecord> xs{
      transfer(0, 10, 5),     transfer(100, 112, 90), transfer(200, 214, 214), transfer(300, 500),
      transfer(400, 650),     transfer(500, 740),     transfer(600, 880),      transfer(700, 990),
      transfer(kNaN, 1000, 995)};
  const LinkCostEstimate e = estimate_link_cost(xs);
  EXPECT_DOUBLE_EQ(e.cost_us, 12);
  EXPECT_EQ(e.samples, 8);
  EXPECT_EQ(e.waiting_samples, 3);
}

TEST(LinkCost, WithoutAWaitingConsumerTheMedianOfAllIsTheBound) {
  // A consumer that began waiting only after the data was there did not wait
  // for it; a negative difference (clock alignment) counts as 0.
  const std::vector<TransferRecord> xs{transfer(0, 200, 250), transfer(100, 400), transfer(300, 290)};
  const LinkCostEstimate e = estimate_link_cost(xs);
  EXPECT_DOUBLE_EQ(e.cost_us, 200);
  EXPECT_EQ(e.samples, 3);
  EXPECT_EQ(e.waiting_samples, 0);
  EXPECT_TRUE(std::isnan(estimate_link_cost({transfer(kNaN, 5)}).cost_us));
}

// The op on `rank` that consumes the transfer's data.
const OpRecord* consumer_of(const Timeline& t, const TransferRecord& x, std::size_t* index) {
  const auto& ops = t.ranks[static_cast<std::size_t>(x.dst_rank)];
  const int stage = x.producer.kind == OpKind::F ? x.producer.stage + 1 : x.producer.stage - 1;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].op.kind == x.producer.kind && ops[i].op.stage == stage && ops[i].op.microbatch == x.producer.microbatch) {
      *index = i;
      return &ops[i];
    }
  }
  return nullptr;
}

TEST(Replay, LinkCostsIgnoreThePollingLagOfBusyConsumers) {
  // A run whose transfers all took 50 us, recorded as the CPU backend does: a
  // consumer that was waiting saw the data at once (and has a wait_start); a
  // busy one saw it up to 300 us late, when it next polled, but no later than
  // the start of the op that needed it. Stage 0 is fast, so rank 1 is mostly
  // busy when stage 0's activations come.
  const Schedule s = make_gpipe(3, 6);
  const CostModel plan = nominal(s, 1, 2);
  CostInputs in;
  in.forward_ms = {0.5, 1, 1};
  in.backward_ms = {2, 2, 1};
  in.p2p_time_ms = 0.05;
  Timeline run = fake_measured(s, make_cost_model(in, s));
  int waited = 0, busy = 0;
  for (TransferRecord& x : run.transfers) {
    std::size_t i = 0;
    const OpRecord* consumer = consumer_of(run, x, &i);
    ASSERT_NE(consumer, nullptr);
    const double previous_end = i > 0 ? run.ranks[static_cast<std::size_t>(x.dst_rank)][i - 1].end_us : 0;
    if (previous_end < x.arrive_us) {
      x.wait_start_us = previous_end;
      ++waited;
    } else {
      x.arrive_us = std::min(x.arrive_us + 300, consumer->start_us);
      ++busy;
    }
  }
  ASSERT_GT(waited, 0);
  ASSERT_GT(busy, 0);
  // Where most of a link's arrivals were seen late, the median of all of them
  // carries the lag.
  std::vector<double> activations;
  for (const TransferRecord& x : run.transfers) {
    if (x.src_rank == 0 && x.dst_rank == 1) activations.push_back(x.arrive_us - x.send_us);
  }
  ASSERT_GT(median_of(activations), 100);
  const std::vector<Timeline> runs{run};
  const CostModel got = measured_cost_model(runs, plan);
  for (const auto& [link, cost] : got.link_by_pair) EXPECT_NEAR(*cost.fixed_us, 50, 1e-9) << link.first << "->" << link.second;
  EXPECT_NEAR(compute_metrics(replay_timeline(s, runs, plan)).makespan_us, compute_metrics(run).makespan_us, 1e-6);
}

TEST(HarnessOverhead, GapBetweenReadinessAndStart) {
  const Schedule s = make_gpipe(2, 1);
  Timeline t = fake_measured(s, nominal(s, 1, 1, 0.5));
  // Zero gap everywhere in a simulated timeline except the first op of rank 0,
  // which has no input and no predecessor (skipped).
  std::vector<double> gaps = harness_overhead_us(t);
  ASSERT_EQ(gaps.size(), 3u);
  for (double g : gaps) EXPECT_NEAR(g, 0, 1e-9);
  // Rank 1's F0 starts 30 us after its input arrived; rank 0's B0 starts 7 us
  // after the gradient arrived.
  t.ranks[1][0].start_us += 30;
  t.ranks[0][1].start_us += 7;
  gaps = harness_overhead_us(t);
  std::sort(gaps.begin(), gaps.end());
  EXPECT_NEAR(gaps[1], 7, 1e-9);
  EXPECT_NEAR(gaps[2], 30, 1e-9);
}

TEST(RunSummary, ErrorsFollowTheArchitectureDefinitions) {
  const Schedule s = make_1f1b(2, 4);
  const CostModel plan = nominal(s, 1, 2);
  const Timeline predicted = simulate(s, plan);
  // Three iterations, 10%, 20% and 30% slower ops: the median is the 20% one.
  std::vector<Timeline> runs;
  for (double k : {1.3, 1.1, 1.2}) runs.push_back(fake_measured(s, nominal(s, k, 2 * k)));
  const Timeline replay = replay_timeline(s, runs, plan);
  const RunSummary sum = summarize_run(runs, predicted, replay, plan);
  const double measured = compute_metrics(runs[2]).makespan_us;
  EXPECT_EQ(sum.median_iteration, 2u);
  EXPECT_DOUBLE_EQ(sum.measured_makespan_us, measured);
  EXPECT_DOUBLE_EQ(sum.makespan_us.median, measured);
  EXPECT_NEAR(sum.makespan_rel_error, (measured - compute_metrics(predicted).makespan_us) / measured, 1e-12);
  EXPECT_NEAR(sum.makespan_rel_error, 1 - 1 / 1.2, 1e-9);  // uniform scaling
  EXPECT_NEAR(sum.bubble_pp_error, 0, 1e-9);               // same shape
  EXPECT_NEAR(sum.replay_makespan_rel_error, 0, 1e-9);
  EXPECT_NEAR(sum.stages[0].measured_us[0], 1200, 1e-9);
  EXPECT_DOUBLE_EQ(sum.stages[0].target_us[0], 1000);
  EXPECT_TRUE(std::isnan(sum.stages[0].target_us[2]));  // no W in 1F1B
  EXPECT_EQ(sum.rank_bubble.size(), 2u);
  // 1F1B at P=2, M=4: rank 0 holds two microbatches (warm-up F0, then F1
  // before B0), the last rank one.
  EXPECT_EQ(sum.rank_predicted_peak_activations, (std::vector<int>{2, 1}));

  RunSummary with_buffers = sum;
  with_buffers.rank_peak_buffer_bytes = {4096, 8192};
  with_buffers.activation_bytes = 1000;
  const nlohmann::json buffers = summary_to_json(with_buffers, {});
  EXPECT_EQ(buffers["ranks"][1]["peak_buffer_bytes"], 8192);
  EXPECT_EQ(buffers["ranks"][0]["predicted_peak_activations"], 2);
  EXPECT_EQ(buffers["ranks"][0]["predicted_peak_activation_bytes"], 2000);

  const nlohmann::json j = summary_to_json(sum, {{"backend", "test"}});
  EXPECT_FALSE(j["ranks"][0].contains("peak_buffer_bytes"));  // not tracked: left out, not 0
  EXPECT_FALSE(j["ranks"][0].contains("predicted_peak_activation_bytes"));
  EXPECT_EQ(j["schema"], "ppbench.summary/1");
  EXPECT_DOUBLE_EQ(j["measured"]["makespan"]["median"].get<double>(), measured);
  EXPECT_TRUE(j["measured"]["bubble_fraction"].contains("p95"));
  EXPECT_TRUE(j["error"].contains("bubble_pp"));
  EXPECT_FALSE(j["stages"][0].contains("W"));
  EXPECT_TRUE(j["harness_overhead"].contains("p99_us"));
  EXPECT_EQ(j["context"]["backend"], "test");
  // The replay's link costs: 1F1B at P=2 uses 0->1 and 1->0, every microbatch
  // once per iteration, three iterations; simulated consumers never wait.
  ASSERT_EQ(j["replay"]["links"].size(), 2u);
  EXPECT_EQ(j["replay"]["links"][0]["src_rank"], 0);
  EXPECT_EQ(j["replay"]["links"][0]["dst_rank"], 1);
  EXPECT_EQ(j["replay"]["links"][0]["samples"], 12);
  EXPECT_EQ(j["replay"]["links"][0]["waiting_samples"], 0);
  EXPECT_DOUBLE_EQ(j["replay"]["links"][1]["cost_us"].get<double>(), 0);
}

}  // namespace
}  // namespace ppb
