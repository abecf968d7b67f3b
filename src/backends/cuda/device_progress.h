// What one rank's device has and has not finished of an iteration, for the
// line a stuck rank prints (RankWatch, docs/gpu.md). The CUDA backend fills it
// from event queries; the wording lives here, in plain C++, so that it is
// tested without a GPU.
#pragma once

#include <string>
#include <vector>

#include "core/op.h"

namespace ppb::cuda {

struct DeviceProgress {
  struct OpState {
    Op op;
    bool started = false;  // its start event has completed
    bool ended = false;
  };
  struct TransferState {
    Op producer;
    int peer_rank = 0;
    bool done = false;
  };
  std::vector<OpState> ops;             // compute stream, in enqueue order
  std::vector<TransferState> receives;  // in posting order
  std::vector<TransferState> sends;     // in enqueue order
};

// "compute stream before F6@s2 (after F5@s2); receive of F6@s1 from rank 1
// pending (1 of 4 receives); send of B4@s2 to rank 1 pending (1 of 3 sends)":
// the first op the compute stream has not finished, then per peer the first
// receive and the first send not complete (each link is in order, so the
// later ones wait behind it). "device idle: everything enqueued has
// completed" when nothing is pending.
std::string describe_device_progress(const DeviceProgress& progress);

}  // namespace ppb::cuda
