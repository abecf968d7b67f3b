#include "backends/cuda/nccl_links.h"

#include <string>

#include "backends/cuda/cuda_check.h"
#include "core/errors.h"

namespace ppb::cuda {

NcclLinks::NcclLinks(const TransferPlan& plan, int rank, HostComm& host) {
  void* warm = nullptr;
  CUDA_CHECK(cudaMalloc(&warm, 16));
  try {
    for (std::size_t l = 0; l < plan.links.size(); ++l) {
      const LinkPlan& link = plan.links[l];
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
      NCCL_CHECK(ncclCommInitRank(&c.comm, 2, id, c.sending ? 0 : 1));
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
  std::lock_guard<std::mutex> lock(mutex_);
  for (LinkChannel& c : channels_) {
    if (c.comm != nullptr) {
      if (aborted_) {
        // already torn down by abort()
      } else {
        NCCL_CHECK_NOTHROW(ncclCommDestroy(c.comm));
      }
    }
    if (c.stream != nullptr) CUDA_CHECK_NOTHROW(cudaStreamDestroy(c.stream));
  }
}

LinkChannel* NcclLinks::find(int link) {
  for (LinkChannel& c : channels_) {
    if (c.link == link) return &c;
  }
  return nullptr;
}

void NcclLinks::check_async_errors() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (aborted_) PPB_THROW(RunError, "NCCL communicators aborted (", error_site(__FILE__, __LINE__), ")");
  for (const LinkChannel& c : channels_) {
    ncclResult_t state = ncclSuccess;
    NCCL_CHECK(ncclCommGetAsyncError(c.comm, &state));
    if (state != ncclSuccess && state != ncclInProgress) {
      PPB_THROW(RunError, "NCCL asynchronous error on the link with rank ", c.peer_rank, " (",
                error_site(__FILE__, __LINE__), "): ", ncclGetErrorString(state));
    }
  }
}

void NcclLinks::abort() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (aborted_) return;
  aborted_ = true;
  for (LinkChannel& c : channels_) {
    if (c.comm != nullptr) NCCL_CHECK_NOTHROW(ncclCommAbort(c.comm));
  }
}

}  // namespace ppb::cuda
