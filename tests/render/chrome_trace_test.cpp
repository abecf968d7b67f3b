// The Chrome trace: a golden file for the exact document, and the structure
// Perfetto relies on: a process per rank, compute and transfer threads, slices
// that never overlap on one thread, one flow (send -> recv) per transfer,
// predicted lanes beside measured ones.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "render/chrome_trace.h"
#include "render/render_fixtures.h"
#include "support/golden.h"

namespace ppb {
namespace {

using nlohmann::json;
using test::fake_measured;
using test::simulated;

CostInputs with_p2p(double ms) {
  CostInputs c;
  c.p2p_time_ms = ms;
  return c;
}

std::vector<json> events(const json& doc, const std::string& ph) {
  std::vector<json> out;
  for (const json& e : doc.at("traceEvents")) {
    if (e.at("ph") == ph) out.push_back(e);
  }
  return out;
}

std::string thread_name(const json& doc, int pid, int tid) {
  for (const json& e : events(doc, "M")) {
    if (e.at("name") == "thread_name" && e.at("pid") == pid && e.at("tid") == tid) return e.at("args").at("name");
  }
  return "";
}

TEST(ChromeTraceGolden, OneFOneBTwoStagesTwoMicrobatches) {
  const Timeline t = simulated("1f1b", 2, 2, with_p2p(0.5));
  test::expect_golden("trace_1f1b_p2_m2.json", chrome_trace(nullptr, &t).dump(1) + "\n");
}

TEST(ChromeTraceGolden, MeasuredBesidePredicted) {
  const Timeline predicted = simulated("gpipe", 2, 1, with_p2p(0.5));
  const Timeline measured = fake_measured(predicted);
  test::expect_golden("trace_measured_predicted_gpipe_p2_m1.json",
                      chrome_trace(&measured, &predicted).dump(1) + "\n");
}

TEST(ChromeTrace, OneProcessPerRankAndOneSlicePerOp) {
  const Timeline t = simulated("interleaved", 4, 8, with_p2p(0.2));
  const json doc = chrome_trace(nullptr, &t, json{{"argv", {"test"}}});
  EXPECT_EQ(doc.at("schema"), "ppbench.trace/1");
  EXPECT_EQ(doc.at("context").at("argv")[0], "test");
  std::set<int> named;
  for (const json& e : events(doc, "M")) {
    if (e.at("name") == "process_name") {
      named.insert(e.at("pid").get<int>());
      EXPECT_EQ(e.at("args").at("name"), "GPU " + std::to_string(e.at("pid").get<int>()));
    }
  }
  EXPECT_EQ(named, (std::set<int>{0, 1, 2, 3}));
  std::map<int, int> ops_per_rank;
  for (const json& e : events(doc, "X")) {
    if (e.at("cat") == "transfer") continue;
    ++ops_per_rank[e.at("pid").get<int>()];
    EXPECT_EQ(thread_name(doc, e.at("pid"), e.at("tid")), "compute");
    const json& args = e.at("args");
    EXPECT_EQ(e.at("name"), std::string(1, e.at("cat") == "forward" ? 'F' : 'B') +
                                std::to_string(args.at("microbatch").get<int>()) + "@s" +
                                std::to_string(args.at("stage").get<int>()));
    EXPECT_EQ(args.at("chunk"), args.at("stage").get<int>() / 4);
    EXPECT_EQ(t.stage_rank[args.at("stage").get<std::size_t>()], e.at("pid").get<int>());
  }
  for (int r = 0; r < 4; ++r) EXPECT_EQ(ops_per_rank[r], static_cast<int>(t.ranks[static_cast<std::size_t>(r)].size()));
}

TEST(ChromeTrace, SlicesOnOneThreadNeverOverlap) {
  // Slow links make transfers overlap each other: they must spread over lanes.
  const Timeline t = simulated("1f1b", 4, 8, with_p2p(3.0));
  const json doc = chrome_trace(nullptr, &t);
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> by_thread;
  for (const json& e : events(doc, "X")) {
    const double ts = e.at("ts"), dur = e.at("dur");
    by_thread[{e.at("pid"), e.at("tid")}].push_back({ts, ts + dur});
  }
  int transfer_lanes = 0;
  for (auto& [thread, slices] : by_thread) {
    if (thread.second > 2) ++transfer_lanes;  // tid 1: compute, 2: first transfer lane
    std::sort(slices.begin(), slices.end());
    for (std::size_t i = 1; i < slices.size(); ++i) {
      EXPECT_LE(slices[i - 1].second, slices[i].first + 1e-9)
          << "pid " << thread.first << " tid " << thread.second << " overlaps at " << slices[i].first;
    }
  }
  EXPECT_GT(transfer_lanes, 0) << "3 ms links must need a second transfer lane somewhere";
}

// 120 microbatches whose transfers all overlap (20 ms links against 0.1 ms
// ops) need more lanes on a rank than a timeline's block of thread ids holds:
// the trace is still written, the predicted timeline's threads start above
// the measured one's, and no thread gets overlapping slices.
TEST(ChromeTrace, MoreOverlappingTransfersThanABlockOfThreadsStillMakeATrace) {
  CostInputs costs = with_p2p(20.0);
  costs.forward_ms = {0.1};
  costs.backward_ms = {0.1};
  const Timeline predicted = simulated("gpipe", 2, 120, costs);
  const Timeline measured = fake_measured(predicted);
  const json doc = chrome_trace(&measured, &predicted);
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> by_thread;
  int measured_top = 0, predicted_compute = 0;
  for (const json& e : events(doc, "X")) {
    const double ts = e.at("ts"), dur = e.at("dur");
    const int tid = e.at("tid");
    by_thread[{e.at("pid"), tid}].push_back({ts, ts + dur});
    const std::string thread = thread_name(doc, e.at("pid"), tid);
    if (thread.find("(measured)") != std::string::npos) measured_top = std::max(measured_top, tid);
    if (thread == "compute (predicted)") predicted_compute = tid;
  }
  EXPECT_GT(measured_top, 100) << "the measured timeline needs more than its block of 100 threads";
  EXPECT_GT(predicted_compute, measured_top);
  for (auto& [thread, slices] : by_thread) {
    std::sort(slices.begin(), slices.end());
    for (std::size_t i = 1; i < slices.size(); ++i) {
      EXPECT_LE(slices[i - 1].second, slices[i].first + 1e-9) << "pid " << thread.first << " tid " << thread.second;
    }
  }
}

TEST(ChromeTrace, EveryTransferHasOneFlowFromSendToRecv) {
  const Timeline t = simulated("1f1b", 4, 4, with_p2p(0.5));
  const json doc = chrome_trace(nullptr, &t);
  std::map<std::uint64_t, json> out, in;
  for (const json& e : events(doc, "X")) {
    if (e.contains("flow_out")) {
      EXPECT_TRUE(out.emplace(e.at("bind_id").get<std::uint64_t>(), e).second);
    }
    if (e.contains("flow_in")) {
      EXPECT_TRUE(in.emplace(e.at("bind_id").get<std::uint64_t>(), e).second);
    }
  }
  ASSERT_EQ(out.size(), t.transfers.size());
  ASSERT_EQ(in.size(), t.transfers.size());
  std::size_t matched = 0;
  for (const TransferRecord& x : t.transfers) {
    for (const auto& [id, send] : out) {
      const json& a = send.at("args");
      if (a.at("producer") != describe(x.producer) || a.at("dst_rank") != x.dst_rank) continue;
      ++matched;
      ASSERT_TRUE(in.count(id));
      const json& recv = in.at(id);
      EXPECT_EQ(send.at("pid"), x.src_rank);
      EXPECT_EQ(recv.at("pid"), x.dst_rank);
      EXPECT_DOUBLE_EQ(send.at("ts").get<double>(), x.send_us);
      EXPECT_DOUBLE_EQ(send.at("ts").get<double>() + send.at("dur").get<double>(), x.arrive_us);
      EXPECT_DOUBLE_EQ(recv.at("ts").get<double>(), x.arrive_us);
      EXPECT_EQ(recv.at("args").at("kind"), x.producer.kind == OpKind::F ? "activation" : "gradient");
      EXPECT_EQ(thread_name(doc, recv.at("pid"), recv.at("tid")).rfind("transfers", 0), 0u);
    }
  }
  EXPECT_EQ(matched, t.transfers.size());
}

TEST(ChromeTrace, PredictedLanesBesideMeasuredOnes) {
  const Timeline predicted = simulated("1f1b", 2, 4, with_p2p(0.5));
  const Timeline measured = fake_measured(predicted);
  const json doc = chrome_trace(&measured, &predicted);
  std::map<std::string, int> slices_by_thread;
  for (const json& e : events(doc, "X")) {
    if (e.at("cat") != "transfer") ++slices_by_thread[thread_name(doc, e.at("pid"), e.at("tid"))];
  }
  EXPECT_EQ(slices_by_thread["compute (measured)"], 2 * 8);
  EXPECT_EQ(slices_by_thread["compute (predicted)"], 2 * 8);
  EXPECT_EQ(slices_by_thread.size(), 2u);
  // A measured consumer that waited gets a wait slice before the arrival.
  int waits = 0;
  for (const json& e : events(doc, "X")) waits += e.at("name").get<std::string>().rfind("wait ", 0) == 0;
  EXPECT_EQ(waits, static_cast<int>(measured.transfers.size()));
  // Flow ids stay unique across the two timelines.
  std::set<std::uint64_t> ids;
  for (const json& e : events(doc, "X")) {
    if (e.contains("flow_out")) {
      EXPECT_TRUE(ids.insert(e.at("bind_id").get<std::uint64_t>()).second);
    }
  }
  EXPECT_EQ(ids.size(), measured.transfers.size() + predicted.transfers.size());
}

}  // namespace
}  // namespace ppb
