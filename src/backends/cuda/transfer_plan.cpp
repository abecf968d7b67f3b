#include "backends/cuda/transfer_plan.h"

#include <algorithm>
#include <map>
#include <utility>

namespace ppb {

int TransferPlan::link_index(int src_rank, int dst_rank) const {
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (links[i].src_rank == src_rank && links[i].dst_rank == dst_rank) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> TransferPlan::links_of(int rank) const {
  std::vector<int> out;
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (links[i].src_rank == rank || links[i].dst_rank == rank) out.push_back(static_cast<int>(i));
  }
  return out;
}

int remote_consumer_rank(const Schedule& schedule, const Op& producer) {
  int consumer_stage = -1;
  if (producer.kind == OpKind::F && producer.stage + 1 < schedule.num_stages()) consumer_stage = producer.stage + 1;
  if (producer.kind == OpKind::B && producer.stage > 0) consumer_stage = producer.stage - 1;
  if (consumer_stage < 0) return -1;
  const int src = schedule.rank_of(producer.stage);
  const int dst = schedule.rank_of(consumer_stage);
  return dst == src ? -1 : dst;
}

int remote_producer_of(const Schedule& schedule, const Op& consumer, Op* producer) {
  Op p;
  if (consumer.kind == OpKind::F && consumer.stage > 0) {
    p = Op{OpKind::F, consumer.stage - 1, consumer.microbatch};
  } else if (consumer.kind == OpKind::B && consumer.stage + 1 < schedule.num_stages()) {
    p = Op{OpKind::B, consumer.stage + 1, consumer.microbatch};
  } else {
    return -1;
  }
  const int src = schedule.rank_of(p.stage);
  if (src == schedule.rank_of(consumer.stage)) return -1;
  if (producer != nullptr) *producer = p;
  return src;
}

TransferPlan plan_transfers(const Schedule& schedule) {
  std::map<std::pair<int, int>, std::vector<Op>> by_link;  // ordered: the global link order
  for (int r = 0; r < schedule.num_ranks; ++r) {
    for (const Op& op : schedule.ops[static_cast<std::size_t>(r)]) {
      const int dst = remote_consumer_rank(schedule, op);
      if (dst >= 0) by_link[{r, dst}].push_back(op);
    }
  }
  TransferPlan plan;
  for (auto& [key, producers] : by_link) plan.links.push_back(LinkPlan{key.first, key.second, std::move(producers)});
  return plan;
}

std::size_t buffers_per_iteration(const Schedule& schedule, const TransferPlan& plan, int rank) {
  std::size_t count = 0;
  for (const Op& op : schedule.ops[static_cast<std::size_t>(rank)]) {
    if (op.kind == OpKind::F) ++count;
    if (op.kind == OpKind::B && remote_consumer_rank(schedule, op) >= 0) ++count;
  }
  for (const LinkPlan& link : plan.links) {
    if (link.dst_rank == rank) count += link.producers.size();
  }
  return count;
}

std::vector<Op> consumption_order(const Schedule& schedule, int rank, int src_rank) {
  std::vector<Op> out;
  for (const Op& op : schedule.ops[static_cast<std::size_t>(rank)]) {
    Op producer;
    if (remote_producer_of(schedule, op, &producer) == src_rank) out.push_back(producer);
  }
  return out;
}

}  // namespace ppb
