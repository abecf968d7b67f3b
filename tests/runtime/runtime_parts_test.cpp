// Fault-spec parsing, message tags, record encoding, clock offsets, measured
// timeline assembly and the watchdog: the runtime's plain-C++ parts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include "core/errors.h"
#include "runtime/fault_spec.h"
#include "runtime/measured_timeline.h"
#include "runtime/message_tag.h"
#include "runtime/watchdog.h"
#include "schedules/generators.h"

namespace ppb {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string input_error(const std::string& text, const Schedule& s) {
  try {
    parse_fault_spec(text, s);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(FaultSpec, ParsesEveryForm) {
  const Schedule s = make_1f1b(4, 8);
  const FaultSpec hang = parse_fault_spec("2:F5@s2:hang", s);
  EXPECT_EQ(hang.rank, 2);
  EXPECT_EQ(hang.action, FaultAction::Hang);
  EXPECT_EQ(hang.op, (Op{OpKind::F, 2, 5}));
  const FaultSpec crash = parse_fault_spec("1:B3:crash", s);  // rank 1 holds stage 1 only
  EXPECT_EQ(crash.op, (Op{OpKind::B, 1, 3}));
  EXPECT_EQ(crash.action, FaultAction::Crash);
  const FaultSpec slow = parse_fault_spec("3:*:slow=2.5", s);
  EXPECT_TRUE(slow.every_op);
  EXPECT_DOUBLE_EQ(slow.factor, 2.5);
  EXPECT_TRUE(fault_hits(slow, 3, Op{OpKind::B, 3, 7}));
  EXPECT_FALSE(fault_hits(slow, 2, Op{OpKind::B, 2, 7}));
}

TEST(FaultSpec, SetupFaultHitsSetUpOnlyAndOnlyItsRank) {
  const Schedule s = make_1f1b(4, 8);
  const std::vector<FaultSpec> faults{parse_fault_spec("2:F1@s2:slow=3", s), parse_fault_spec("1:setup:hang", s)};
  EXPECT_TRUE(faults[1].at_setup);
  EXPECT_EQ(faults[1].action, FaultAction::Hang);
  for (const Op& op : s.ops[1]) EXPECT_FALSE(fault_hits(faults[1], 1, op)) << describe(op);
  EXPECT_FALSE(fault_hits(faults[1], 1, Op{}));  // the default op (F0@s0) is not "setup" either
  ASSERT_NE(setup_fault(faults, 1), nullptr);
  EXPECT_EQ(setup_fault(faults, 1)->text, "1:setup:hang");
  EXPECT_EQ(setup_fault(faults, 2), nullptr);
  EXPECT_EQ(parse_fault_spec("0:setup:crash", s).action, FaultAction::Crash);
  EXPECT_NE(input_error("0:setup:slow=2", s).find("setup takes hang or crash"), std::string::npos);
}

TEST(FaultSpec, RejectsBadSpecsNamingTheFlag) {
  const Schedule s = make_interleaved(2, 4, 2);
  EXPECT_NE(input_error("0:F1", s).find("expected RANK:OP:ACTION"), std::string::npos);
  EXPECT_NE(input_error("2:F1@s0:hang", s).find("rank must be 0..1"), std::string::npos);
  EXPECT_NE(input_error("0:F1@s1:hang", s).find("stage 1 is not on rank 0"), std::string::npos);
  EXPECT_NE(input_error("0:F1:hang", s).find("holds 2 stages"), std::string::npos);
  EXPECT_NE(input_error("0:F9@s0:hang", s).find("microbatch must be 0..3"), std::string::npos);
  EXPECT_NE(input_error("0:*:crash", s).find("only for slow"), std::string::npos);
  EXPECT_NE(input_error("0:F1@s0:slow=0", s).find("positive number"), std::string::npos);
  EXPECT_NE(input_error("0:F1@s0:explode", s).find("unknown action 'explode'"), std::string::npos);
  EXPECT_NE(input_error("0:W1@s0:hang", s).find("no W ops"), std::string::npos);
  EXPECT_EQ(input_error("0:F1@s0:hang", s), "");  // valid: no error
  EXPECT_EQ(input_error("x:F1@s0:hang", s).rfind("--inject-fault: 'x:F1@s0:hang': ", 0), 0u);
}

TEST(FaultSpec, SlowdownOfEveryOpReachesThePredictionOfThatRanksStages) {
  const Schedule s = make_interleaved(2, 4, 2);  // rank 1: stages 1 and 3
  CostInputs in;
  in.forward_ms = {2};
  in.backward_ms = {4};
  const CostModel base = make_cost_model(in, s);
  const CostModel slow = apply_slowdown(base, {parse_fault_spec("1:*:slow=2", s), parse_fault_spec("0:F1@s0:slow=9", s)}, s);
  EXPECT_EQ(slow.forward_us, (std::vector<double>{1000, 2000, 1000, 2000}));
  EXPECT_EQ(slow.backward_us, (std::vector<double>{2000, 4000, 2000, 4000}));
  EXPECT_DOUBLE_EQ(slow_factor({parse_fault_spec("0:F1@s0:slow=9", s)}, 0, Op{OpKind::F, 0, 1}), 9);
  EXPECT_DOUBLE_EQ(slow_factor({parse_fault_spec("0:F1@s0:slow=9", s)}, 0, Op{OpKind::F, 0, 2}), 1);
}

TEST(MessageTag, UniquePerProducerAndInvertible) {
  const int stages = 8, microbatches = 32;
  std::set<long long> seen;
  for (int m = 0; m < microbatches; ++m) {
    for (int st = 0; st < stages; ++st) {
      for (OpKind k : {OpKind::F, OpKind::B}) {
        const Op op{k, st, m};
        const long long tag = message_tag(op, stages);
        EXPECT_TRUE(seen.insert(tag).second);
        EXPECT_GE(tag, 0);
        EXPECT_LE(tag, max_message_tag(stages, microbatches));
        EXPECT_EQ(producer_of_tag(tag, stages), op);
      }
    }
  }
  EXPECT_EQ(max_message_tag(stages, microbatches), 2LL * stages * microbatches - 1);
}

TEST(RecordCodec, RoundTripsOpsTransfersAndNaN) {
  RankIterationRecord r;
  r.ops = {{Op{OpKind::F, 1, 0}, 10.5, 20.25}, {Op{OpKind::W, 1, 0}, 30, 40}};
  r.received = {{Op{OpKind::F, 0, 0}, 0, 1, kNaN, 9.5, 4096, 7.0}};
  r.sent = {{Op{OpKind::F, 1, 0}, 1, 2, 20.5, kNaN, 4096}};
  r.peak_buffer_bytes = 8192;
  const RankIterationRecord back = decode_record(encode_record(r));
  ASSERT_EQ(back.ops.size(), 2u);
  EXPECT_EQ(back.ops[1].op, r.ops[1].op);
  EXPECT_DOUBLE_EQ(back.ops[0].end_us, 20.25);
  ASSERT_EQ(back.received.size(), 1u);
  EXPECT_TRUE(std::isnan(back.received[0].send_us));
  EXPECT_DOUBLE_EQ(back.received[0].wait_start_us, 7.0);
  EXPECT_EQ(back.sent[0].dst_rank, 2);
  EXPECT_TRUE(std::isnan(back.sent[0].wait_start_us));
  EXPECT_EQ(back.peak_buffer_bytes, 8192u);
}

TEST(ClockOffset, TakesTheRoundWithTheSmallestRoundTrip) {
  // Remote clock 1000 us ahead. Round 2 is the fastest (rtt 4): offset from it.
  const ClockOffset c = offset_from_rounds({{0, 1010, 30}, {100, 1102.5, 104}, {200, 1230, 260}});
  EXPECT_DOUBLE_EQ(c.offset_us, 1102.5 - 102);
  EXPECT_DOUBLE_EQ(c.bound_us, 2);
}

TEST(MeasuredTimeline, ShiftsClocksPairsSendsAndStartsAtTheEarliestOp) {
  const Schedule s = make_gpipe(2, 1);  // rank 0: F0 B0, rank 1: F0 B0
  std::vector<RankIterationRecord> records(2);
  // Rank 0 on its own clock from 100; rank 1's clock is 5000 us ahead.
  records[0].ops = {{Op{OpKind::F, 0, 0}, 100, 200}, {Op{OpKind::B, 0, 0}, 450, 650}};
  records[0].sent = {{Op{OpKind::F, 0, 0}, 0, 1, 201, kNaN, 64}};
  records[0].received = {{Op{OpKind::B, 1, 0}, 1, 0, kNaN, 440, 64, 210}};
  records[1].ops = {{Op{OpKind::F, 1, 0}, 5220, 5320}, {Op{OpKind::B, 1, 0}, 5320, 5420}};
  records[1].sent = {{Op{OpKind::B, 1, 0}, 1, 0, 5421, kNaN, 64}};
  records[1].received = {{Op{OpKind::F, 0, 0}, 0, 1, kNaN, 5215, 64, 5010}};
  const Timeline t = assemble_measured(s, records, {0, 5000});
  EXPECT_EQ(t.source, "measured");
  EXPECT_DOUBLE_EQ(t.ranks[0][0].start_us, 0);
  EXPECT_DOUBLE_EQ(t.ranks[1][0].start_us, 120);
  ASSERT_EQ(t.transfers.size(), 2u);
  EXPECT_EQ(t.transfers[0].producer, (Op{OpKind::F, 0, 0}));
  EXPECT_DOUBLE_EQ(t.transfers[0].send_us, 101);
  EXPECT_DOUBLE_EQ(t.transfers[0].arrive_us, 115);
  EXPECT_DOUBLE_EQ(t.transfers[0].wait_start_us, -90);
  EXPECT_DOUBLE_EQ(t.transfers[1].send_us, 321);
  EXPECT_DOUBLE_EQ(t.transfers[1].arrive_us, 340);
}

TEST(Watchdog, FiresOnlyWhenNotDisarmedInTime) {
  std::atomic<int> fired{0};
  {
    Watchdog dog([&] { ++fired; });
    dog.arm(0.5);
    dog.disarm();
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_EQ(fired.load(), 0);
    dog.arm(0.05);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(fired.load(), 1);
  }
  EXPECT_EQ(fired.load(), 1);
}

}  // namespace
}  // namespace ppb
