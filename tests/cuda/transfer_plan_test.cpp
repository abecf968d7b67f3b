// The CUDA backend's p2p plan, without a GPU: per-link orders for every
// generator, and the event-level model showing the design completes where the
// naive blocking design deadlocks.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "backends/cuda/p2p_model.h"
#include "backends/cuda/transfer_plan.h"
#include "schedules/generators.h"

namespace ppb {
namespace {

Schedule generated(const std::string& name, int p, int m) {
  const int chunks = name == "interleaved" ? 2 : 1;
  if (name == "interleaved" && m % p != 0) m = p * ((m + p - 1) / p);
  Schedule s = generate_schedule(name, p, m, chunks);
  validate(s);
  return s;
}

// The sends a rank issues, in the executor's order: after each op, to the
// consumer of its result when that is on another rank.
std::vector<std::pair<int, Op>> sends_in_issue_order(const Schedule& s, int rank) {
  std::vector<std::pair<int, Op>> out;
  for (const Op& op : s.ops[static_cast<std::size_t>(rank)]) {
    const int dst = remote_consumer_rank(s, op);
    if (dst >= 0) out.emplace_back(dst, op);
  }
  return out;
}

class PlanForGenerators : public ::testing::TestWithParam<std::tuple<std::string, int, int>> {};

TEST_P(PlanForGenerators, EveryLinkCarriesTheSendersIssueOrderAndEveryTransferOnce) {
  const auto& [name, p, m] = GetParam();
  const Schedule s = generated(name, p, m);
  const TransferPlan plan = plan_transfers(s);

  std::size_t planned = 0;
  for (std::size_t l = 0; l < plan.links.size(); ++l) {
    const LinkPlan& link = plan.links[l];
    ASSERT_NE(link.src_rank, link.dst_rank);
    if (l > 0) {  // global order: sorted, no duplicates
      const LinkPlan& prev = plan.links[l - 1];
      EXPECT_LT(std::make_pair(prev.src_rank, prev.dst_rank), std::make_pair(link.src_rank, link.dst_rank));
    }
    std::vector<Op> expected;
    for (const auto& [dst, op] : sends_in_issue_order(s, link.src_rank)) {
      if (dst == link.dst_rank) expected.push_back(op);
    }
    EXPECT_EQ(link.producers, expected) << "link " << link.src_rank << "->" << link.dst_rank;
    // The receiver gets exactly the ops it consumes from that sender.
    std::vector<Op> consumed = consumption_order(s, link.dst_rank, link.src_rank);
    EXPECT_EQ(consumed.size(), link.producers.size());
    for (const Op& op : consumed) {
      EXPECT_NE(std::find(link.producers.begin(), link.producers.end(), op), link.producers.end()) << describe(op);
    }
    planned += link.producers.size();
  }
  // Every cross-rank dependency is on some link: 2 per microbatch per stage boundary.
  std::size_t cross = 0;
  for (int st = 0; st + 1 < s.num_stages(); ++st) cross += s.rank_of(st) != s.rank_of(st + 1) ? 2u * m : 0u;
  if (name == "interleaved") cross = 2u * static_cast<std::size_t>(s.num_microbatches) * (s.num_stages() - 1);
  EXPECT_EQ(planned, cross);
  if (p >= 2) {
    EXPECT_GE(plan.links.size(), 2u * (p - 1));
  }
}

TEST_P(PlanForGenerators, ModelOfTheBackendCompletesWithRendezvousTransfers) {
  const auto& [name, p, m] = GetParam();
  const Schedule s = generated(name, p, m);
  const P2pModelResult r = run_p2p_model(s, P2pDesign::kPerLinkSenderOrder);
  EXPECT_TRUE(r.complete) << r.detail;
  EXPECT_FALSE(r.mismatch) << r.detail;
}

std::vector<std::tuple<std::string, int, int>> cases() {
  std::vector<std::tuple<std::string, int, int>> out;
  for (const char* name : {"gpipe", "1f1b", "interleaved", "zb-h1"}) {
    for (int p = 2; p <= 8; ++p) {
      for (int m : {1, 2, 3, 4, 8, 16}) {
        if (std::string(name) == "interleaved" && m < p) continue;
        out.emplace_back(name, p, m);
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllGenerators, PlanForGenerators, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param);
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n + "_P" + std::to_string(std::get<1>(info.param)) + "_M" +
                                  std::to_string(std::get<2>(info.param));
                         });

TEST(P2pModel, NaiveBlockingSendsDeadlock1F1BInTheSteadyState) {
  // The classic failure the per-link design avoids: with blocking transfers in
  // program order, stage s sends F(k+1) while stage s+1 sends B(j) back.
  const P2pModelResult r = run_p2p_model(generated("1f1b", 4, 8), P2pDesign::kInlineBlocking);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.detail.find("stuck"), std::string::npos) << r.detail;
  // GPipe has no such crossing: the naive design happens to finish there.
  EXPECT_TRUE(run_p2p_model(generated("gpipe", 4, 8), P2pDesign::kInlineBlocking).complete);
}

// Rank 1 consumes F1 before F0; rank 0 sends F0 first. Valid, and the reason
// a receiver must post receives in the sender's order.
Schedule crossed_schedule() {
  Schedule s;
  s.name = "file";
  s.num_ranks = 2;
  s.num_microbatches = 2;
  s.stage_rank = plain_placement(2);
  using K = OpKind;
  s.ops = {{{K::F, 0, 0}, {K::F, 0, 1}, {K::B, 0, 1}, {K::B, 0, 0}},
           {{K::F, 1, 1}, {K::F, 1, 0}, {K::B, 1, 1}, {K::B, 1, 0}}};
  validate(s);
  return s;
}

TEST(TransferPlan, ReceiverUsesTheSendersOrderWhenItConsumesInAnotherOrder) {
  const Schedule s = crossed_schedule();
  const TransferPlan plan = plan_transfers(s);
  const int l = plan.link_index(0, 1);
  ASSERT_GE(l, 0);
  const std::vector<Op> sender_order{{OpKind::F, 0, 0}, {OpKind::F, 0, 1}};
  EXPECT_EQ(plan.links[static_cast<std::size_t>(l)].producers, sender_order);
  const std::vector<Op> consumer_order{{OpKind::F, 0, 1}, {OpKind::F, 0, 0}};
  EXPECT_EQ(consumption_order(s, 1, 0), consumer_order);
  EXPECT_EQ(plan.link_index(1, 0), 1);
  EXPECT_EQ(plan.link_index(1, 1), -1);
  EXPECT_EQ(plan.links_of(0), (std::vector<int>{0, 1}));

  EXPECT_TRUE(run_p2p_model(s, P2pDesign::kPerLinkSenderOrder).complete);
  const P2pModelResult wrong = run_p2p_model(s, P2pDesign::kPerLinkConsumerOrder);
  EXPECT_TRUE(wrong.mismatch);
  EXPECT_NE(wrong.detail.find("send(F0@s0) met recv(F1@s0)"), std::string::npos) << wrong.detail;
}

TEST(TransferPlan, SingleRankHasNoLinks) {
  const Schedule s = generated("1f1b", 1, 4);
  EXPECT_TRUE(plan_transfers(s).links.empty());
  EXPECT_TRUE(run_p2p_model(s, P2pDesign::kPerLinkSenderOrder).complete);
}

TEST(TransferPlan, BuffersPerIterationCountForwardsSentGradientsAndReceives) {
  const Schedule s = generated("1f1b", 4, 8);
  const TransferPlan plan = plan_transfers(s);
  EXPECT_EQ(buffers_per_iteration(s, plan, 0), 8u + 0 + 8);       // F outputs; stage 0 sends no gradient; B from rank 1
  EXPECT_EQ(buffers_per_iteration(s, plan, 1), 8u + 8 + 8 + 8);   // F, gradients, F from rank 0, B from rank 2
  EXPECT_EQ(buffers_per_iteration(s, plan, 3), 8u + 8 + 8 + 0);   // last stage: no B comes in
  // Interleaved, 2 ranks x 2 chunks: rank 0 holds stages 0 and 2; stage 2 sends gradients to rank 1.
  const Schedule v = generated("interleaved", 2, 4);
  const TransferPlan vplan = plan_transfers(v);
  EXPECT_EQ(buffers_per_iteration(v, vplan, 0), 8u + 4 + 12);  // receives: F of s1, B of s1, B of s3
  EXPECT_EQ(buffers_per_iteration(generated("gpipe", 1, 4), plan_transfers(generated("gpipe", 1, 4)), 0), 4u);
}

}  // namespace
}  // namespace ppb
