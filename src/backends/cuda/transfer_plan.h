// Which cross-rank transfers travel on which link, and in which order: the
// plain C++ half of the CUDA backend's deadlock-freedom argument (docs/gpu.md).
//
// Every directed pair of ranks that exchanges data (src -> dst) is one link.
// The CUDA backend gives each link its own two-rank NCCL communicator and its
// own stream on both sides. The sender issues sends on a link in its op-list
// order (the executor sends right after the producing op); the receiver posts
// its receives on that link in the same order, the sender's, which it
// computes here from the Schedule, not in its own consumption order. The k-th
// send of a link therefore always meets the k-th receive.
#pragma once

#include <cstddef>
#include <vector>

#include "core/schedule.h"

namespace ppb {

struct LinkPlan {
  int src_rank = 0;
  int dst_rank = 0;
  std::vector<Op> producers;  // the sender's send order on this link
};

struct TransferPlan {
  // Sorted by (src_rank, dst_rank): also the one global order in which every
  // rank creates and warms up its links, so blocking set-up cannot deadlock.
  std::vector<LinkPlan> links;

  int link_index(int src_rank, int dst_rank) const;  // -1 when there is no such link
  // Indices of the links that `rank` sends on or receives on, in global order.
  std::vector<int> links_of(int rank) const;
};

// The rank that consumes `producer`'s result when it is on another rank (F(s,m)
// feeds F(s+1,m); B(s,m) feeds B(s-1,m)); -1 when the consumer is on the same
// rank or there is none.
int remote_consumer_rank(const Schedule& schedule, const Op& producer);
// The rank that produced `consumer`'s cross-rank input, -1 when none.
int remote_producer_of(const Schedule& schedule, const Op& consumer, Op* producer);

// Per link, the sender's send order. Requires a schedule whose ops are in
// range (validate()).
TransferPlan plan_transfers(const Schedule& schedule);

// How many activation/gradient buffers `rank` acquires in one iteration on
// the CUDA backend: one per forward output, per gradient sent to another rank
// and per receive (every producer on a link into `rank`). With that many
// buffers no buffer is reused within an iteration (docs/gpu.md, Buffers).
std::size_t buffers_per_iteration(const Schedule& schedule, const TransferPlan& plan, int rank);

// The producers `rank` receives from `src_rank`, in the order the rank
// consumes them (its op-list order): what a receiver would post if it ignored
// the sender. Equal to the link's send order for the generators; a file
// schedule may differ (tests use it to show the plan matters).
std::vector<Op> consumption_order(const Schedule& schedule, int rank, int src_rank);

}  // namespace ppb
