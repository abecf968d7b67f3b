// One two-rank NCCL communicator and one stream per directed link that this
// rank sends or receives on (transfer_plan.h). In each communicator the sender
// is NCCL rank 0 and the receiver rank 1, and only one direction ever flows,
// so the k-th ncclSend always meets the k-th ncclRecv.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "backends/cuda/call_gate.h"
#include "backends/cuda/transfer_plan.h"
#include "core/op.h"
#include "runtime/host_comm.h"

namespace ppb::cuda {

struct LinkChannel {
  int link = -1;       // index into TransferPlan::links
  int peer_rank = -1;  // the other pipeline rank
  bool sending = false;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
};

class NcclLinks {
 public:
  // Collective over every rank of `host`: walks all links of the plan in their
  // global order; for each, the sender makes a unique id, every rank takes part
  // in its broadcast, and the two ends create the communicator and exchange
  // one byte (NCCL connects lazily: this keeps connection set-up, which blocks
  // both ends, out of the measured iterations and in one global order).
  // `step` hears what it is doing, link by link, for a stuck rank's report.
  NcclLinks(const TransferPlan& plan, int rank, HostComm& host, const std::function<void(std::string)>& step);
  ~NcclLinks();
  NcclLinks(const NcclLinks&) = delete;
  NcclLinks& operator=(const NcclLinks&) = delete;

  std::vector<LinkChannel>& channels() { return channels_; }
  LinkChannel* find(int link);  // nullptr when this rank is not on the link

  // Every NCCL call of the main thread goes through these, one at a time
  // under the call gate, so that abort() never runs beside one. `producer`
  // names the message. After abort() they block: the job is being stopped.
  void send(LinkChannel& channel, const void* buffer, std::size_t bytes, const Op& producer);
  void receive(LinkChannel& channel, void* buffer, std::size_t bytes, const Op& producer);
  // Throws RunError naming the link when a communicator reports an
  // asynchronous error; blocks after abort(), as send and receive do.
  void check_async_errors();

  // From the watchdog thread: ncclCommAbort on every communicator once no NCCL
  // call of the main thread is in progress (waiting up to `grace`). Returns
  // false, aborting nothing, when the main thread stays inside a call.
  bool abort(std::chrono::milliseconds grace) noexcept;
  // The NCCL call the main thread is inside, or empty.
  std::string call_in_progress() const { return gate_.holder(); }

 private:
  void park_if_aborted();

  std::vector<LinkChannel> channels_;
  CallGate gate_;
  std::atomic<bool> aborted_{false};
};

}  // namespace ppb::cuda
