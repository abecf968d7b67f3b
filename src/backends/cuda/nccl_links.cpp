#include "backends/cuda/nccl_links.h"

#include <string>
#include <thread>

#include "backends/cuda/cuda_check.h"
#include "core/errors.h"

namespace ppb::cuda {

NcclLinks::NcclLinks(const TransferPlan& plan, int rank, HostComm& host,
                     const std::function<void(std::string)>& step) {
  void* warm = nullptr;
  CUDA_CHECK(cudaMalloc(&warm, 16));
  try {
    for (std::size_t l = 0; l < plan.links.size(); ++l) {
      const LinkPlan& link = plan.links[l];
      const std::string name = "link " + std::to_string(link.src_rank) + "->" + std::to_string(link.dst_rank) + " (" +
                               std::to_string(l + 1) + " of " + std::to_string(plan.links.size()) + ")";
      step("sharing the NCCL id of " + name);
      ncclUniqueId id{};
      if (rank == link.src_rank) NCCL_CHECK(ncclGetUniqueId(&id));
      host.broadcast(&id, sizeof(id), link.src_rank);
      if (rank != link.src_rank && rank != link.dst_rank) continue;

      LinkChannel ch;
      ch.link = static_cast<int>(l);
      ch.sending = rank == link.src_rank;
      ch.peer_rank = ch.sending ? link.dst_rank : link.src_rank;
      CUDA_CHECK(cudaStreamCreateWithFlags(&ch.stream, cudaStreamNonBlocking));
      channels_.push_back(ch);
      LinkChannel& c = channels_.back();
      step("creating the NCCL communicator of " + name);
      NCCL_CHECK(ncclCommInitRank(&c.comm, 2, id, c.sending ? 0 : 1));
      step("connecting " + name + " (its first message)");
      if (c.sending) {
        NCCL_CHECK(ncclSend(warm, 1, ncclUint8, 1, c.comm, c.stream));
      } else {
        NCCL_CHECK(ncclRecv(warm, 1, ncclUint8, 0, c.comm, c.stream));
      }
      CUDA_CHECK(cudaStreamSynchronize(c.stream));
    }
  } catch (...) {
    CUDA_CHECK_NOTHROW(cudaFree(warm));
    throw;
  }
  CUDA_CHECK(cudaFree(warm));
}

NcclLinks::~NcclLinks() {
  for (LinkChannel& c : channels_) {
    // After abort() the communicators are already torn down.
    if (c.comm != nullptr && !aborted_.load()) NCCL_CHECK_NOTHROW(ncclCommDestroy(c.comm));
    if (c.stream != nullptr) CUDA_CHECK_NOTHROW(cudaStreamDestroy(c.stream));
  }
}

LinkChannel* NcclLinks::find(int link) {
  for (LinkChannel& c : channels_) {
    if (c.link == link) return &c;
  }
  return nullptr;
}

void NcclLinks::park_if_aborted() {
  while (aborted_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the watchdog ends the job
}

void NcclLinks::send(LinkChannel& c, const void* buffer, std::size_t bytes, const Op& producer) {
  park_if_aborted();
  const CallGate::Scope call = gate_.enter("ncclSend of " + describe(producer) + " to rank " +
                                          std::to_string(c.peer_rank));
  if (aborted_.load()) return;  // aborted while this thread waited for the gate: park above, next call
  NCCL_CHECK(ncclSend(buffer, bytes, ncclUint8, 1, c.comm, c.stream));
}

void NcclLinks::receive(LinkChannel& c, void* buffer, std::size_t bytes, const Op& producer) {
  park_if_aborted();
  const CallGate::Scope call = gate_.enter("ncclRecv of " + describe(producer) + " from rank " +
                                          std::to_string(c.peer_rank));
  if (aborted_.load()) return;
  NCCL_CHECK(ncclRecv(buffer, bytes, ncclUint8, 0, c.comm, c.stream));
}

void NcclLinks::check_async_errors() {
  park_if_aborted();  // not an error of this rank: the watchdog that aborted ends the job
  const CallGate::Scope call = gate_.enter("ncclCommGetAsyncError");
  if (aborted_.load()) return;
  for (const LinkChannel& c : channels_) {
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
