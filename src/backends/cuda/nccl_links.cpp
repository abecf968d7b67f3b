#include "backends/cuda/nccl_links.h"

#include <string>
#include <thread>

#include "backends/cuda/cuda_check.h"
#include "core/errors.h"

namespace ppb::cuda {

NcclLinks::NcclLinks(int rank, HostComm& host, std::function<void(std::string)> step)
    : rank_(rank), host_(host), step_(std::move(step)) {
  CUDA_CHECK(cudaMalloc(&warm_, 16));
}

NcclLinks::~NcclLinks() {
  for (LinkChannel& c : channels_) {
    // After abort() the communicators are already torn down.
    if (c.comm != nullptr && !aborted_.load()) NCCL_CHECK_NOTHROW(ncclCommDestroy(c.comm));
    if (c.stream != nullptr) CUDA_CHECK_NOTHROW(cudaStreamDestroy(c.stream));
  }
  if (warm_ != nullptr) CUDA_CHECK_NOTHROW(cudaFree(warm_));
}

void NcclLinks::add(const TransferPlan& plan) {
  for (std::size_t l = 0; l < plan.links.size(); ++l) {
    const LinkPlan& link = plan.links[l];
    // Every rank has made the same links so far: all skip this one or none does.
    if (!made_.insert({link.src_rank, link.dst_rank}).second) continue;
    const std::string name = "link " + std::to_string(link.src_rank) + "->" + std::to_string(link.dst_rank) + " (" +
                             std::to_string(l + 1) + " of " + std::to_string(plan.links.size()) + ")";
    step_("sharing the NCCL id of " + name);
    ncclUniqueId id{};
    if (rank_ == link.src_rank) NCCL_CHECK(ncclGetUniqueId(&id));
    host_.broadcast(&id, sizeof(id), link.src_rank);
    if (rank_ != link.src_rank && rank_ != link.dst_rank) continue;
    LinkChannel* c = nullptr;
    {
      step_("creating the NCCL communicator of " + name);
      // ncclCommInitRank blocks until the peer has joined: abort() cannot
      // run meanwhile (there is no communicator to abort yet), and says so.
      const CallGate::Scope call = gate_.enter("ncclCommInitRank of " + name);
      LinkChannel ch;
      ch.src_rank = link.src_rank;
      ch.dst_rank = link.dst_rank;
      ch.sending = rank_ == link.src_rank;
      ch.peer_rank = ch.sending ? link.dst_rank : link.src_rank;
      CUDA_CHECK(cudaStreamCreateWithFlags(&ch.stream, cudaStreamNonBlocking));
      channels_.push_back(ch);
      c = &channels_.back();
      NCCL_CHECK(ncclCommInitRank(&c->comm, 2, id, c->sending ? 0 : 1));
    }
    step_("connecting " + name + " (its first message)");
    const Op first_message{OpKind::F, -1, -1};
    if (c->sending) {
      send(*c, warm_, 1, first_message);
    } else {
      receive(*c, warm_, 1, first_message);
    }
    wait_for_stream(c->stream);
  }
}

LinkChannel* NcclLinks::find(int src_rank, int dst_rank) {
  for (LinkChannel& c : channels_) {
    if (c.src_rank == src_rank && c.dst_rank == dst_rank) return &c;
  }
  return nullptr;
}

void NcclLinks::park_if_aborted() {
  while (aborted_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the watchdog ends the job
}

void NcclLinks::wait_for_stream(cudaStream_t stream) {
  auto last_check = std::chrono::steady_clock::now();
  for (;;) {
    park_if_aborted();
    const cudaError_t state = query_stream(stream);
    if (state == cudaSuccess) return;
    if (state != cudaErrorNotReady) throw_cuda_error(state, "cudaStreamQuery (a link's first message)", __FILE__, __LINE__);
    if (std::chrono::steady_clock::now() - last_check > std::chrono::milliseconds(1)) {
      check_async_errors();
      last_check = std::chrono::steady_clock::now();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

void NcclLinks::send(LinkChannel& c, const void* buffer, std::size_t bytes, const Op& producer) {
  park_if_aborted();
  const std::string what = producer.stage < 0 ? "the first message" : describe(producer);
  const CallGate::Scope call = gate_.enter("ncclSend of " + what + " to rank " + std::to_string(c.peer_rank));
  if (aborted_.load()) return;  // aborted while this thread waited for the gate: park above, next call
  NCCL_CHECK(ncclSend(buffer, bytes, ncclUint8, 1, c.comm, c.stream));
}

void NcclLinks::receive(LinkChannel& c, void* buffer, std::size_t bytes, const Op& producer) {
  park_if_aborted();
  const std::string what = producer.stage < 0 ? "the first message" : describe(producer);
  const CallGate::Scope call = gate_.enter("ncclRecv of " + what + " from rank " + std::to_string(c.peer_rank));
  if (aborted_.load()) return;
  NCCL_CHECK(ncclRecv(buffer, bytes, ncclUint8, 0, c.comm, c.stream));
}

void NcclLinks::check_async_errors() {
  park_if_aborted();  // not an error of this rank: the watchdog that aborted ends the job
  const CallGate::Scope call = gate_.enter("ncclCommGetAsyncError");
  if (aborted_.load()) return;
  for (const LinkChannel& c : channels_) {
    if (c.comm == nullptr) continue;
    ncclResult_t state = ncclSuccess;
    NCCL_CHECK(ncclCommGetAsyncError(c.comm, &state));
    if (state != ncclSuccess && state != ncclInProgress) {
      PPB_THROW(RunError, "NCCL asynchronous error on the link with rank ", c.peer_rank, " (",
                error_site(__FILE__, __LINE__), "): ", ncclGetErrorString(state));
    }
  }
}

bool NcclLinks::abort(std::chrono::milliseconds grace) noexcept {
  try {
    return gate_.run_exclusive(grace, [&] {
      if (aborted_.exchange(true)) return;
      for (LinkChannel& c : channels_) {
        if (c.comm != nullptr) NCCL_CHECK_NOTHROW(ncclCommAbort(c.comm));
      }
    });
  } catch (...) {  // std::function or the lock: nothing NCCL would throw
    return false;
  }
}

}  // namespace ppb::cuda
