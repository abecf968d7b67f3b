// One two-rank NCCL communicator and one stream per directed link that this
// rank sends or receives on (transfer_plan.h). In each communicator the sender
// is NCCL rank 0 and the receiver rank 1, and only one direction ever flows,
// so the k-th ncclSend always meets the k-th ncclRecv. A link, once made,
// serves every later plan that has it (a sweep's points, calibrate's sizes):
// each iteration completes every send and receive it posts, so the pairing
// carries over from plan to plan.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <utility>

#include "backends/cuda/call_gate.h"
#include "backends/cuda/transfer_plan.h"
#include "core/op.h"
#include "runtime/host_comm.h"

namespace ppb::cuda {

struct LinkChannel {
  int src_rank = -1;
  int dst_rank = -1;
  int peer_rank = -1;  // the other pipeline rank
  bool sending = false;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
};

class NcclLinks {
 public:
  // No link yet; `step` hears what add() is doing, link by link, for a stuck
  // rank's report. abort() works from here on, also while add() runs.
  NcclLinks(int rank, HostComm& host, std::function<void(std::string)> step);
  ~NcclLinks();
  NcclLinks(const NcclLinks&) = delete;
  NcclLinks& operator=(const NcclLinks&) = delete;

  // Collective over every rank of `host`: walks the plan's links in their
  // global order, skipping those made before (every rank has made the same
  // ones); for each new one the sender makes a unique id, every rank takes
  // part in its broadcast, and the two ends create the communicator and
  // exchange one byte (NCCL connects lazily: this keeps connection set-up,
  // which blocks both ends, out of the measured iterations and in one global
  // order). The byte is waited for as an iteration is (polling NCCL's
  // asynchronous errors); after abort() it parks until the job ends.
  void add(const TransferPlan& plan);

  // Every channel made so far (references stay valid as links are added).
  std::deque<LinkChannel>& channels() { return channels_; }
  LinkChannel* find(int src_rank, int dst_rank);  // nullptr when this rank is not on the link

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
  bool aborted() const { return aborted_.load(); }
  // The NCCL call the main thread is inside, or empty.
  std::string call_in_progress() const { return gate_.holder(); }

 private:
  void park_if_aborted();
  // Until the stream has run everything enqueued on it (polling, as an iteration waits).
  void wait_for_stream(cudaStream_t stream);

  int rank_;
  HostComm& host_;
  std::function<void(std::string)> step_;
  void* warm_ = nullptr;  // the first message's byte
  std::set<std::pair<int, int>> made_;  // (src, dst) of every link set up so far, this rank's or not
  std::deque<LinkChannel> channels_;  // grows under the gate only (abort() reads it there)
  CallGate gate_;
  std::atomic<bool> aborted_{false};
};

}  // namespace ppb::cuda
