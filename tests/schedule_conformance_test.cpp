// One conformance suite, instantiated for every generator over a grid of P, M
// (and v): validity, op counts, ownership, closed-form makespans for uniform
// stages without transfer cost, and determinism.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "analysis/metrics.h"
#include "core/errors.h"
#include "core/schedule_walk.h"
#include "io/timeline_io.h"
#include "sim/simulator.h"
#include "test_schedules.h"

namespace ppb {
namespace {

using test::GeneratorCase;

class GeneratorConformance : public ::testing::TestWithParam<GeneratorCase> {};

TEST_P(GeneratorConformance, ProducesAValidScheduleWithEveryOpOnce) {
  const Schedule s = test::make(GetParam());
  EXPECT_NO_THROW(validate(s));
  const std::size_t per_mb = s.split_backward ? 3 : 2;
  EXPECT_EQ(s.total_ops(), per_mb * s.num_stages() * static_cast<std::size_t>(s.num_microbatches));
  std::set<std::tuple<int, int, int>> seen;
  for (int r = 0; r < s.num_ranks; ++r) {
    for (const Op& op : s.ops[static_cast<std::size_t>(r)]) {
      EXPECT_EQ(s.rank_of(op.stage), r) << describe(op);
      EXPECT_TRUE(seen.insert({int(op.kind), op.stage, op.microbatch}).second) << describe(op);
    }
  }
}

TEST_P(GeneratorConformance, WalkVisitsEveryOpAfterItsProducers) {
  const Schedule s = test::make(GetParam());
  std::set<std::tuple<int, int, int>> done;
  std::size_t visited = 0;
  const WalkResult walk = walk_schedule(s, [&](int, std::size_t, const Op& op) {
    Op producers[2];
    const int n = producers_of(s, op, producers);
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(done.count({int(producers[i].kind), producers[i].stage, producers[i].microbatch}))
          << describe(op) << " before " << describe(producers[i]);
    }
    done.insert({int(op.kind), op.stage, op.microbatch});
    ++visited;
  });
  EXPECT_TRUE(walk.complete);
  EXPECT_EQ(visited, s.total_ops());
}

// Closed forms for uniform per-rank times F, B, W and no transfer cost.
double closed_form_makespan(const GeneratorCase& c, double f, double b, double w) {
  const double m = c.microbatches, p = c.ranks;
  if (c.name == "gpipe" || c.name == "1f1b") return (m + p - 1) * (f + b);
  if (c.name == "interleaved") return m * (f + b) + (p - 1) * (f + b) / c.chunks;
  return m * (f + b + w) + (p - 1) * (f + b - w);  // zb-h1
}

TEST_P(GeneratorConformance, MakespanMatchesTheClosedForm) {
  const GeneratorCase c = GetParam();
  const Schedule s = test::make(c);
  for (const auto& [f, b, w] : {std::tuple{1.0, 2.0, 1.0}, std::tuple{1.0, 1.0, 1.0}, std::tuple{2.0, 3.0, 1.5}}) {
    CostInputs in;
    in.forward_ms = {f};
    in.backward_ms = {b};
    if (s.split_backward) in.weight_ms = {w};
    const Metrics m = compute_metrics(simulate(s, make_cost_model(in, s)));
    EXPECT_NEAR(m.makespan_us, 1000.0 * closed_form_makespan(c, f, b, w), 1e-6) << "F=" << f << " B=" << b;
    if (const auto analytic = m.analytic_bubble) {
      EXPECT_NEAR(m.bubble_fraction, *analytic, 1e-12);
    }
  }
}

TEST_P(GeneratorConformance, BusyTimeIsTheSumOfOpTimesOnEveryRank) {
  const GeneratorCase c = GetParam();
  const Schedule s = test::make(c);
  CostInputs in;
  in.forward_ms = {1.0};
  in.backward_ms = {2.0};
  in.p2p_time_ms = 0.25;
  const Metrics m = compute_metrics(simulate(s, make_cost_model(in, s)));
  for (const RankMetrics& r : m.ranks) {
    EXPECT_NEAR(r.busy_us, 3000.0 * c.microbatches, 1e-6) << "rank " << r.rank;
    EXPECT_GE(r.bubble_fraction, 0.0);
  }
}

TEST_P(GeneratorConformance, SameInputGivesByteIdenticalTimeline) {
  const Schedule s = test::make(GetParam());
  CostInputs in;
  in.forward_ms = {1.0, 1.5};
  in.forward_ms.resize(static_cast<std::size_t>(s.num_ranks), 1.25);
  in.p2p_time_ms = 0.1;
  const CostModel costs = make_cost_model(in, s);
  const std::string a = timeline_to_json(simulate(s, costs), {}).dump();
  const std::string b = timeline_to_json(simulate(s, costs), {}).dump();
  EXPECT_EQ(a, b);
}

std::vector<GeneratorCase> conformance_cases() {
  std::vector<GeneratorCase> cases;
  for (int p : {1, 2, 3, 4, 8}) {
    for (int m : {1, 2, 3, 4, 8, 16}) {
      cases.push_back({"gpipe", p, m, 1});
      cases.push_back({"1f1b", p, m, 1});
      if (m >= p) cases.push_back({"zb-h1", p, m, 1});  // the closed form assumes M >= P
      if (m % p == 0) {
        cases.push_back({"interleaved", p, m, 2});
        cases.push_back({"interleaved", p, m, 3});
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllGenerators, GeneratorConformance, ::testing::ValuesIn(conformance_cases()),
                         [](const auto& info) {
                           std::string name = info.param.name + "_P" + std::to_string(info.param.ranks) + "_M" +
                                              std::to_string(info.param.microbatches) + "_v" +
                                              std::to_string(info.param.chunks);
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

// The exact op orders of the contract, spelled out for small cases.
std::string order(const Schedule& s, int rank) {
  std::string out;
  for (const Op& op : s.ops[static_cast<std::size_t>(rank)]) {
    if (!out.empty()) out += ' ';
    out += kind_letter(op.kind) + std::to_string(op.microbatch);
    if (s.chunks > 1) out += "c" + std::to_string(op.stage / s.num_ranks);
  }
  return out;
}

TEST(GeneratorOrders, GPipeRunsAllForwardsThenAllBackwards) {
  EXPECT_EQ(order(make_gpipe(3, 3), 1), "F0 F1 F2 B0 B1 B2");
}

TEST(GeneratorOrders, OneFOneBWarmsUpThenAlternates) {
  const Schedule s = make_1f1b(4, 6);
  EXPECT_EQ(order(s, 0), "F0 F1 F2 F3 B0 F4 B1 F5 B2 B3 B4 B5");
  EXPECT_EQ(order(s, 2), "F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 B5");
  EXPECT_EQ(order(s, 3), "F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5");
  // Fewer microbatches than the warm-up: all forwards, then all backwards.
  EXPECT_EQ(order(make_1f1b(4, 2), 0), "F0 F1 B0 B1");
}

TEST(GeneratorOrders, InterleavedFollowsMegatronsTable) {
  const Schedule s = make_interleaved(2, 4, 2);
  // Table: (0,c0) (1,c0) (0,c1) (1,c1) (2,c0) (3,c0) (2,c1) (3,c1).
  // Rank 1: warm-up 2*(2-1-1) + (2-1)*2 = 2.
  EXPECT_EQ(order(s, 1), "F0c0 F1c0 F0c1 B0c1 F1c1 B1c1 F2c0 B0c0 F3c0 B1c0 F2c1 B2c1 F3c1 B3c1 B2c0 B3c0");
  // Rank 0: warm-up 2*(2-0-1) + 2 = 4.
  EXPECT_EQ(order(s, 0), "F0c0 F1c0 F0c1 F1c1 F2c0 B0c1 F3c0 B1c1 F2c1 B0c0 F3c1 B1c0 B2c1 B3c1 B2c0 B3c0");
  EXPECT_EQ(s.rank_of(3), 1);  // chunk 1 of rank 1 is stage 1*P+1
}

TEST(GeneratorOrders, ZeroBubbleH1DelaysWeightGradientsByRank) {
  const Schedule s = make_zb_h1(3, 4);
  EXPECT_EQ(order(s, 0), "F0 F1 F2 B0 W0 F3 B1 W1 B2 W2 B3 W3");
  EXPECT_EQ(order(s, 1), "F0 F1 B0 F2 B1 W0 F3 B2 W1 B3 W2 W3");
  EXPECT_EQ(order(s, 2), "F0 B0 F1 B1 F2 B2 W0 F3 B3 W1 W2 W3");
}

TEST(GeneratorErrors, InterleavedNeedsMicrobatchesMultipleOfStages) {
  try {
    make_interleaved(4, 6, 2);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("multiple"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ppb
