// One two-rank NCCL communicator and one stream per directed link that this
// rank sends or receives on (transfer_plan.h). In each communicator the sender
// is NCCL rank 0 and the receiver rank 1, and only one direction ever flows,
// so the k-th ncclSend always meets the k-th ncclRecv.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <mutex>
#include <vector>

#include "backends/cuda/transfer_plan.h"
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
  NcclLinks(const TransferPlan& plan, int rank, HostComm& host);
  ~NcclLinks();
  NcclLinks(const NcclLinks&) = delete;
  NcclLinks& operator=(const NcclLinks&) = delete;

  std::vector<LinkChannel>& channels() { return channels_; }
  LinkChannel* find(int link);  // nullptr when this rank is not on the link

  // Throws RunError naming the link when a communicator reports an
  // asynchronous error (or was aborted).
  void check_async_errors();
  // ncclCommAbort on every communicator; safe from another thread, once.
  void abort() noexcept;

 private:
  std::vector<LinkChannel> channels_;
  std::mutex mutex_;  // abort() from the watchdog vs polling on the main thread
  bool aborted_ = false;
};

}  // namespace ppb::cuda
