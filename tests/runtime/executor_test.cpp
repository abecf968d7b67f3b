// The executor against fake backends: the call protocol of backend.h, the plan
// of sends and receives, slow faults, progress messages, and every generator's
// schedule completing on an in-memory transport with one thread per rank.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "core/errors.h"
#include "runtime/executor.h"
#include "schedules/generators.h"
#include "sim/simulator.h"

namespace ppb {
namespace {

// Records every call as a string and keeps a fake clock that compute advances.
class RecordingBackend : public Backend {
 public:
  std::vector<std::string> calls;
  std::vector<double> targets;
  double clock = 0;
  std::function<void()> on_wait;

  std::string name() const override { return "fake"; }
  nlohmann::json context() const override { return {}; }
  void prepare(const RankPlan& plan) override { calls.push_back("prepare " + std::to_string(plan.sends.size())); }
  void begin_iteration(int i) override {
    calls.push_back("begin " + std::to_string(i));
    clear_record(record);
  }
  void wait_input(const Transfer& t) override {
    if (on_wait) on_wait();
    calls.push_back("wait " + describe(t.producer) + " from " + std::to_string(t.src_rank));
  }
  void compute(const Op& op, double us) override {
    calls.push_back("compute " + describe(op));
    targets.push_back(us);
    record.ops.push_back({op, clock, clock + us});
    clock += us;
  }
  void send_output(const Transfer& t) override {
    calls.push_back("send " + describe(t.producer) + " to " + std::to_string(t.dst_rank));
  }
  const RankIterationRecord& end_iteration() override {
    calls.push_back("end");
    return record;
  }
  double now_us() const override { return clock; }
  RankIterationRecord record;
};

CostModel costs_for(const Schedule& s, double f_ms = 1, double b_ms = 2) {
  CostInputs in;
  in.forward_ms = {f_ms};
  in.backward_ms = {b_ms};
  return make_cost_model(in, s);
}

TEST(Executor, MiddleRankOf1F1BWaitsComputesAndSendsInListOrder) {
  const Schedule s = make_1f1b(3, 2);  // rank 1: F0 F1 B0 B1
  RecordingBackend backend;
  Executor ex(s, 1, costs_for(s), 64, backend);
  ex.prepare();
  ex.run_iteration(0);
  const std::vector<std::string> expected{
      "prepare 4",        "begin 0",         "wait F0@s0 from 0", "compute F0@s1", "send F0@s1 to 2",
      "wait F1@s0 from 0", "compute F1@s1",  "send F1@s1 to 2",   "wait B0@s2 from 2", "compute B0@s1",
      "send B0@s1 to 0",  "wait B1@s2 from 2", "compute B1@s1",   "send B1@s1 to 0",  "end"};
  EXPECT_EQ(backend.calls, expected);
  EXPECT_EQ(backend.targets, (std::vector<double>{1000, 1000, 2000, 2000}));
}

TEST(Executor, PlanListsEveryCrossRankTransferOnce) {
  const Schedule s = make_interleaved(2, 4, 2);  // 4 stages on 2 ranks: every edge crosses
  std::size_t sends = 0, receives = 0;
  for (int r = 0; r < 2; ++r) {
    const RankPlan plan = make_rank_plan(s, r, 100);
    sends += plan.sends.size();
    receives += plan.receives.size();
    for (const Transfer& t : plan.sends) {
      EXPECT_EQ(t.src_rank, r);
      EXPECT_NE(t.dst_rank, r);
      EXPECT_EQ(t.bytes, 100u);
    }
  }
  // 3 stage boundaries, M activations and M gradients each.
  EXPECT_EQ(sends, 3u * 2 * 4);
  EXPECT_EQ(receives, sends);
}

TEST(Executor, SlowFaultMultipliesOnlyItsOpsAndOptimizerRunsLast) {
  const Schedule s = make_gpipe(2, 2);
  CostModel costs = costs_for(s);
  costs.optimizer_us = 300;
  RecordingBackend backend;
  const std::vector<FaultSpec> faults{parse_fault_spec("0:F1:slow=3", s), parse_fault_spec("1:*:slow=5", s)};
  Executor ex(s, 0, costs, 0, backend, faults);
  ex.prepare();
  ex.run_iteration(0);
  // Rank 0 (gpipe): F0 F1 B0 B1 then the optimizer step; rank 1's fault ignored.
  EXPECT_EQ(backend.targets, (std::vector<double>{1000, 3000, 2000, 2000, 300}));
  EXPECT_EQ(backend.calls[backend.calls.size() - 2], "compute O-1@s-1");
}

TEST(Executor, DescribesWhereItIsWaiting) {
  const Schedule s = make_1f1b(2, 2);  // rank 1: F0 B0 F1 B1
  RecordingBackend backend;
  Executor ex(s, 1, costs_for(s), 0, backend);
  std::vector<std::string> seen;
  backend.on_wait = [&] { seen.push_back(ex.describe_progress()); };
  ex.prepare();
  EXPECT_EQ(ex.describe_progress(), "before its first op; waiting for the other ranks (iteration barrier or gather)");
  ex.run_iteration(3);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "before its first op; waiting for F0@s0 from rank 0");
  EXPECT_EQ(seen[1], "after B0@s1; waiting for F1@s0 from rank 0");
  EXPECT_EQ(ex.current_iteration(), 3);
}

TEST(ExecutorDeathTest, SetupCrashExitsWith3NamingRankBeforeTheBackendIsPrepared) {
  const Schedule s = make_1f1b(2, 2);
  RecordingBackend backend;
  Executor ex(s, 1, costs_for(s), 0, backend, {parse_fault_spec("1:setup:crash", s)});
  EXPECT_EXIT(ex.prepare(), testing::ExitedWithCode(3), "rank 1 crashed in set-up \\(injected fault 1:setup:crash\\)");
  // Another rank's set-up fault does not touch this rank.
  Executor other(s, 0, costs_for(s), 0, backend, {parse_fault_spec("1:setup:crash", s)});
  other.prepare();
  EXPECT_EQ(backend.calls, (std::vector<std::string>{"prepare 2"}));
}

// An in-memory transport shared by the ranks' threads: a send marks the data
// present; a wait blocks until it is. Time is logical: an op's start is the
// later of the rank's clock and its inputs' arrival, as in the simulator.
struct Mailbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::tuple<int, int, int, int>, double> delivered;  // (kind, stage, mb, dst) -> send time
};

class ThreadedBackend : public Backend {
 public:
  ThreadedBackend(Mailbox& box, int rank) : box_(box), rank_(rank) {}
  std::string name() const override { return "threaded"; }
  nlohmann::json context() const override { return {}; }
  void prepare(const RankPlan&) override {}
  void begin_iteration(int) override { record_ = {}; }
  void wait_input(const Transfer& t) override {
    std::unique_lock<std::mutex> lock(box_.mutex);
    const auto key = std::make_tuple(int(t.producer.kind), t.producer.stage, t.producer.microbatch, rank_);
    box_.changed.wait(lock, [&] { return box_.delivered.count(key) > 0; });
    ready_ = std::max(ready_, box_.delivered[key]);
  }
  void compute(const Op& op, double us) override {
    const double start = std::max(clock_, ready_);
    record_.ops.push_back({op, start, start + us});
    clock_ = start + us;
  }
  void send_output(const Transfer& t) override {
    {
      std::lock_guard<std::mutex> lock(box_.mutex);
      box_.delivered[{int(t.producer.kind), t.producer.stage, t.producer.microbatch, t.dst_rank}] = clock_;
    }
    box_.changed.notify_all();
  }
  const RankIterationRecord& end_iteration() override { return record_; }
  double now_us() const override { return clock_; }

 private:
  Mailbox& box_;
  int rank_;
  double clock_ = 0, ready_ = 0;
  RankIterationRecord record_;
};

class ExecutorConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(ExecutorConformance, EveryRankCompletesAndMatchesTheSimulator) {
  const std::string name = GetParam();
  const Schedule s = name == "gpipe"         ? make_gpipe(4, 6)
                     : name == "1f1b"        ? make_1f1b(4, 6)
                     : name == "interleaved" ? make_interleaved(4, 8, 2)
                                             : make_zb_h1(4, 6);
  CostInputs in;
  in.forward_ms = {1, 1.5, 1, 2};
  in.backward_ms = {2, 2.5, 3, 2};
  const CostModel costs = make_cost_model(in, s);
  Mailbox box;
  std::vector<std::unique_ptr<ThreadedBackend>> backends;
  std::vector<RankIterationRecord> records(4);
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r) backends.push_back(std::make_unique<ThreadedBackend>(box, r));
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&, r] {
      Executor ex(s, r, costs, 8, *backends[static_cast<std::size_t>(r)]);
      ex.prepare();
      records[static_cast<std::size_t>(r)] = ex.run_iteration(0);
    });
  }
  for (auto& t : threads) t.join();
  // With zero-cost transfers and logical time the executor reproduces the
  // simulator exactly: same ops, same order, same times.
  const Timeline predicted = simulate(s, costs);
  for (int r = 0; r < 4; ++r) {
    const auto& got = records[static_cast<std::size_t>(r)].ops;
    const auto& want = predicted.ranks[static_cast<std::size_t>(r)];
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].op, want[i].op);
      EXPECT_DOUBLE_EQ(got[i].start_us, want[i].start_us) << name << " rank " << r << " " << describe(got[i].op);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Generators, ExecutorConformance,
                         ::testing::Values("gpipe", "1f1b", "interleaved", "zb-h1"),
                         [](const auto& info) { return info.param == "zb-h1" ? std::string("zb_h1") : info.param; });

}  // namespace
}  // namespace ppb
