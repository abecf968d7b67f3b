#include "backends/cuda/p2p_model.h"

#include <deque>
#include <vector>

#include "backends/cuda/transfer_plan.h"
#include "core/schedule_walk.h"

namespace ppb {
namespace {

enum class ItemKind { Compute, Wait, Send, Recv };

struct Item {
  ItemKind kind;
  Op op;         // the compute op, or the producer of the transfer
  int link = -1;
};

struct Model {
  const Schedule& schedule;
  OpIndexer index;
  std::vector<std::deque<Item>> queues;
  std::vector<int> queue_rank;
  std::vector<int> recv_queue_of_link;  // the queue whose head may hold a link's receive
  std::vector<std::uint8_t> done, arrived;

  explicit Model(const Schedule& s)
      : schedule(s), index{s.num_stages(), s.num_microbatches}, done(index.size(), 0), arrived(index.size(), 0) {}

  int add_queue(int rank) {
    queues.emplace_back();
    queue_rank.push_back(rank);
    return static_cast<int>(queues.size()) - 1;
  }
};

std::string describe_item(const Item& item) {
  switch (item.kind) {
    case ItemKind::Compute: return describe(item.op);
    case ItemKind::Wait: return "wait(" + describe(item.op) + ")";
    case ItemKind::Send: return "send(" + describe(item.op) + ")";
    case ItemKind::Recv: return "recv(" + describe(item.op) + ")";
  }
  return "?";
}

void build(Model& m, const TransferPlan& plan, P2pDesign design) {
  const Schedule& s = m.schedule;
  m.recv_queue_of_link.assign(plan.links.size(), -1);
  std::vector<int> compute_queue(static_cast<std::size_t>(s.num_ranks));
  for (int r = 0; r < s.num_ranks; ++r) compute_queue[static_cast<std::size_t>(r)] = m.add_queue(r);
  const bool inline_p2p = design == P2pDesign::kInlineBlocking;

  for (int r = 0; r < s.num_ranks; ++r) {
    auto& q = m.queues[static_cast<std::size_t>(compute_queue[static_cast<std::size_t>(r)])];
    for (const Op& op : s.ops[static_cast<std::size_t>(r)]) {
      Op producer;
      const int src = remote_producer_of(s, op, &producer);
      if (src >= 0) {
        const int link = plan.link_index(src, r);
        q.push_back(Item{inline_p2p ? ItemKind::Recv : ItemKind::Wait, producer, link});
      }
      q.push_back(Item{ItemKind::Compute, op, -1});
      const int dst = remote_consumer_rank(s, op);
      if (inline_p2p && dst >= 0) q.push_back(Item{ItemKind::Send, op, plan.link_index(r, dst)});
    }
  }
  for (std::size_t l = 0; l < plan.links.size(); ++l) {
    const LinkPlan& link = plan.links[l];
    if (inline_p2p) {
      m.recv_queue_of_link[l] = compute_queue[static_cast<std::size_t>(link.dst_rank)];
      continue;
    }
    auto& sends = m.queues[static_cast<std::size_t>(m.add_queue(link.src_rank))];
    for (const Op& p : link.producers) sends.push_back(Item{ItemKind::Send, p, static_cast<int>(l)});
    const int rq = m.add_queue(link.dst_rank);
    m.recv_queue_of_link[l] = rq;
    const std::vector<Op> order = design == P2pDesign::kPerLinkSenderOrder
                                      ? link.producers
                                      : consumption_order(s, link.dst_rank, link.src_rank);
    for (const Op& p : order) m.queues[static_cast<std::size_t>(rq)].push_back(Item{ItemKind::Recv, p, static_cast<int>(l)});
  }
}

}  // namespace

P2pModelResult run_p2p_model(const Schedule& schedule, P2pDesign design) {
  const TransferPlan plan = plan_transfers(schedule);
  Model m(schedule);
  build(m, plan, design);
  P2pModelResult result;

  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t qi = 0; qi < m.queues.size(); ++qi) {
      auto& q = m.queues[qi];
      while (!q.empty()) {
        const Item head = q.front();
        if (head.kind == ItemKind::Compute) {
          m.done[m.index(head.op)] = 1;
        } else if (head.kind == ItemKind::Wait) {
          if (!m.arrived[m.index(head.op)]) break;
        } else if (head.kind == ItemKind::Send) {
          if (!m.done[m.index(head.op)]) break;
          auto& rq = m.queues[static_cast<std::size_t>(m.recv_queue_of_link[static_cast<std::size_t>(head.link)])];
          if (rq.empty() || rq.front().kind != ItemKind::Recv || rq.front().link != head.link) break;
          if (rq.front().op != head.op) {
            result.mismatch = true;
            result.detail = "link " + std::to_string(plan.links[static_cast<std::size_t>(head.link)].src_rank) + "->" +
                            std::to_string(plan.links[static_cast<std::size_t>(head.link)].dst_rank) + ": " +
                            describe_item(head) + " met " + describe_item(rq.front());
            return result;
          }
          rq.pop_front();
          m.arrived[m.index(head.op)] = 1;
        } else {
          break;  // a receive finishes only when its send arrives at the head of the other queue
        }
        q.pop_front();
        progress = true;
      }
    }
  }

  result.complete = true;
  for (std::size_t qi = 0; qi < m.queues.size(); ++qi) {
    if (m.queues[qi].empty()) continue;
    result.complete = false;
    result.detail += "rank " + std::to_string(m.queue_rank[qi]) + " stuck at " + describe_item(m.queues[qi].front()) + "; ";
  }
  return result;
}

}  // namespace ppb
