// The NCCL calls of the backend and tests on the double (nccl_link.h carries
// the messages; cuda_double.h gives the semantics and their sources).
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "double_config.h"
#include "double_device.h"
#include "double_faults.h"
#include "double_trace.h"
#include "nccl_link.h"

struct ncclComm {
  std::shared_ptr<ppb::cuda_double::Link> link;
  int rank = 0;
  int nranks = 1;
};

namespace ppb::cuda_double {

namespace {

std::mutex last_error_mutex;
std::string last_error_text;

ncclResult_t nccl_fail(ncclResult_t result, const std::string& why) {
  std::lock_guard<std::mutex> lock(last_error_mutex);
  last_error_text = why;
  return result;
}

std::size_t type_size(ncclDataType_t type) {
  switch (type) {
    case ncclInt8: case ncclUint8: case ncclFloat8e4m3: case ncclFloat8e5m2: return 1;
    case ncclFloat16: case ncclBfloat16: return 2;
    case ncclInt32: case ncclUint32: case ncclFloat32: return 4;
    case ncclInt64: case ncclUint64: case ncclFloat64: return 8;
    default: return 0;
  }
}

int next_comm_id = 0;
std::mutex comm_id_mutex;

int new_comm_id() {
  std::lock_guard<std::mutex> lock(comm_id_mutex);
  return ++next_comm_id;
}

// One ncclSend or ncclRecv of a (possibly one-call) group.
struct P2p {
  bool send = false;
  void* buffer = nullptr;
  std::size_t bytes = 0;
  std::shared_ptr<Link> link;
  std::uint64_t seq = 0;
  FaultAction fault = FaultAction::None;
  std::string rule;
};

struct PendingGroup {
  int depth = 0;
  cudaStream_t stream = nullptr;
  bool mixed_streams = false;
  std::vector<P2p> ops;
};

thread_local PendingGroup group;

std::int64_t transfer_ns(std::size_t bytes) {
  const DoubleConfig& c = config();
  return host_duration_ns(c.link_latency_us * 1e3 + 1e3 * static_cast<double>(bytes) / c.link_bytes_per_us);
}

void trace_p2p(const P2p& op, cudaStream_t stream, std::int64_t start, std::int64_t end) {
  if (!tracing()) return;
  trace_line(std::string("{\"op\":\"") + (op.send ? "send" : "recv") + "\",\"stream\":" +
             std::to_string(stream_id(stream)) + ",\"queue\":" + std::to_string(stream_queue(stream)) +
             ",\"comm\":" + std::to_string(op.link->id()) + ",\"peer\":" + std::to_string(op.link->peer_world_rank()) +
             ",\"bytes\":" + std::to_string(op.bytes) + ",\"start_us\":" + std::to_string(start / 1e3) +
             ",\"end_us\":" + std::to_string(end / 1e3) + "}");
}

// An operation that cannot complete (a fault, a failed peer, a bad match)
// holds its stream until ncclCommAbort.
std::int64_t blocked_until_abort(const P2p& op, std::int64_t start) {
  op.link->wait_for_abort();
  return start;
}

// The group's operations on their stream, progressing together: every
// receive says it is ready first, then each send waits for its receive's
// ready and sends its data, then each receive takes its data. The peer's
// messages are filed by its reader as they come, so no wait here holds up
// the peer.
std::int64_t run_group(std::vector<P2p>& ops, cudaStream_t stream, std::int64_t start) {
  for (const P2p& op : ops) {
    const char* what = op.send ? "ncclSend" : "ncclRecv";
    if (op.fault == FaultAction::Die) {
      die_now(std::string(what) + " with world rank " + std::to_string(op.link->peer_world_rank()) + " (" + op.rule + ")");
    }
    if (op.fault == FaultAction::Error) {
      op.link->set_async_error(ncclSystemError, std::string("injected error in ") + what + " (" + op.rule + ")");
    }
  }
  for (const P2p& op : ops) {
    if (op.send || op.fault != FaultAction::None) continue;
    LinkMessage ready;
    ready.kind = LinkMessage::Ready;
    ready.seq = op.seq;
    ready.bytes = op.bytes;
    ready.start_ns = start;
    op.link->send(ready);
  }
  std::int64_t done = start;
  for (int pass = 0; pass < 2; ++pass) {  // sends, then receives
    for (P2p& op : ops) {
      if (op.send != (pass == 0)) continue;
      std::int64_t end = start;
      LinkMessage peer;
      if (op.fault != FaultAction::None) {
        end = blocked_until_abort(op, start);
      } else if (op.send) {
        if (op.link->receive(LinkMessage::Ready, op.seq, &peer)) {
          if (peer.bytes != op.bytes) {
            op.link->set_async_error(ncclInvalidUsage, "ncclSend of " + std::to_string(op.bytes) +
                                                           " bytes met an ncclRecv of " + std::to_string(peer.bytes));
            end = blocked_until_abort(op, start);
          } else {
            LinkMessage data;
            data.kind = LinkMessage::Data;
            data.seq = op.seq;
            data.bytes = op.bytes;
            data.start_ns = start;
            data.payload.assign(static_cast<const char*>(op.buffer), static_cast<const char*>(op.buffer) + op.bytes);
            end = op.link->send(data) ? std::max(start, peer.start_ns) + transfer_ns(op.bytes)
                                      : blocked_until_abort(op, start);
          }
        }
      } else if (op.link->receive(LinkMessage::Data, op.seq, &peer)) {
        if (peer.bytes != op.bytes) {
          end = blocked_until_abort(op, start);  // the sender has set the error
        } else {
          std::memcpy(op.buffer, peer.payload.data(), op.bytes);
          end = std::max(start, peer.start_ns) + transfer_ns(op.bytes);
        }
      }
      trace_p2p(op, stream, start, end);
      done = std::max(done, end);
    }
  }
  for (P2p& op : ops) --op.link->pending;
  return done;
}

void enqueue_group(cudaStream_t stream, std::vector<P2p> ops) {
  for (P2p& op : ops) ++op.link->pending;
  auto shared = std::make_shared<std::vector<P2p>>(std::move(ops));
  enqueue(stream, [shared, stream](std::int64_t start) { return run_group(*shared, stream, start); });
}

ncclResult_t post(bool send, void* buffer, std::size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
                  cudaStream_t handle) {
  const char* what = send ? "ncclSend" : "ncclRecv";
  if (comm == nullptr) return nccl_fail(ncclInvalidArgument, std::string(what) + ": no communicator");
  const std::size_t size = type_size(type);
  if (size == 0) return nccl_fail(ncclInvalidArgument, std::string(what) + ": unknown data type");
  const int expected_peer = comm->nranks == 1 ? 0 : 1 - comm->rank;
  if (peer != expected_peer) {
    return nccl_fail(ncclInvalidArgument, std::string(what) + ": peer " + std::to_string(peer) +
                                              " (the double's communicators send to the other rank, or to itself "
                                              "when alone)");
  }
  const std::size_t bytes = count * size;
  if (bytes > 0 && !is_device_range(buffer, bytes)) {
    return nccl_fail(ncclInvalidArgument, std::string(what) + ": the buffer is not " + std::to_string(bytes) +
                                              " bytes of device memory");
  }
  const cudaStream_t stream = resolve_stream(handle);
  if (stream == nullptr) return nccl_fail(ncclInvalidArgument, std::string(what) + ": invalid stream");
  P2p op;
  op.send = send;
  op.buffer = buffer;
  op.bytes = bytes;
  op.link = comm->link;
  op.seq = send ? comm->link->next_send++ : comm->link->next_receive++;
  op.fault = take_fault(send ? FaultTarget::Send : FaultTarget::Receive, bytes, &op.rule);
  if (op.fault == FaultAction::Stall) block_forever();  // inside the call, as a lazy connect to a dead peer
  if (group.depth > 0) {
    if (group.ops.empty()) group.stream = stream;
    group.mixed_streams = group.mixed_streams || group.stream != stream;
    group.ops.push_back(std::move(op));
    return ncclSuccess;
  }
  std::vector<P2p> one;
  one.push_back(std::move(op));
  enqueue_group(stream, std::move(one));
  return ncclSuccess;
}

}  // namespace

}  // namespace ppb::cuda_double

namespace dbl = ppb::cuda_double;

extern "C" {

ncclResult_t ncclGetVersion(int* version) {
  if (version == nullptr) return dbl::nccl_fail(ncclInvalidArgument, "ncclGetVersion: null pointer");
  *version = dbl::config().nccl_version;
  return ncclSuccess;
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (id == nullptr) return dbl::nccl_fail(ncclInvalidArgument, "ncclGetUniqueId: null pointer");
  dbl::make_unique_id(id);
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  if (comm == nullptr) return dbl::nccl_fail(ncclInvalidArgument, "ncclCommInitRank: null pointer");
  if (nranks < 1 || nranks > 2 || rank < 0 || rank >= nranks) {
    return dbl::nccl_fail(ncclInvalidArgument, "ncclCommInitRank: the double makes communicators of 1 or 2 ranks "
                                               "(got rank " + std::to_string(rank) + " of " + std::to_string(nranks) + ")");
  }
  int socket = -1, peer = dbl::config().world_rank;
  if (nranks == 2) {
    std::string why;
    socket = dbl::connect_ranks(id, rank, &peer, &why);
    if (socket < 0) return dbl::nccl_fail(ncclInvalidUsage, "ncclCommInitRank: " + why);
  }
  auto* c = new ncclComm;
  c->link = std::make_shared<dbl::Link>(socket, dbl::new_comm_id(), peer);
  c->link->start();
  c->rank = rank;
  c->nranks = nranks;
  *comm = c;
  return ncclSuccess;
}

ncclResult_t ncclCommInitAll(ncclComm_t* comms, int ndev, const int* devlist) {
  if (comms == nullptr || ndev != 1 || (devlist != nullptr && devlist[0] != 0)) {
    return dbl::nccl_fail(ncclInvalidArgument, "ncclCommInitAll: the double makes one communicator on device 0");
  }
  ncclUniqueId unused{};
  return ncclCommInitRank(&comms[0], 1, unused, 0);
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  if (comm == nullptr) return ncclSuccess;
  // Local resources go once this side's operations are done (an operation
  // that can never complete keeps the call here, as in NCCL).
  while (comm->link->pending.load() > 0 && !comm->link->aborted()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  comm->link->close();
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) {
  if (comm == nullptr) return ncclSuccess;
  const int unblocked = comm->link->abort();
  std::fprintf(stderr, "ppbench CUDA double: rank %d: ncclCommAbort of the communicator with world rank %d (%d "
               "operation(s) unblocked)\n", dbl::config().world_rank, comm->link->peer_world_rank(), unblocked);
  std::fflush(stderr);
  if (dbl::tracing()) {
    dbl::trace_line("{\"op\":\"abort\",\"comm\":" + std::to_string(comm->link->id()) + ",\"peer\":" +
                    std::to_string(comm->link->peer_world_rank()) + ",\"unblocked\":" + std::to_string(unblocked) + "}");
  }
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t* state) {
  if (comm == nullptr || state == nullptr) {
    return dbl::nccl_fail(ncclInvalidArgument, "ncclCommGetAsyncError: null argument");
  }
  *state = comm->link->async_error();
  if (*state != ncclSuccess) dbl::nccl_fail(*state, comm->link->async_reason());
  return ncclSuccess;
}

ncclResult_t ncclSend(const void* buffer, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
                      cudaStream_t stream) {
  return dbl::post(true, const_cast<void*>(buffer), count, type, peer, comm, stream);
}

ncclResult_t ncclRecv(void* buffer, size_t count, ncclDataType_t type, int peer, ncclComm_t comm,
                      cudaStream_t stream) {
  return dbl::post(false, buffer, count, type, peer, comm, stream);
}

ncclResult_t ncclGroupStart() {
  ++dbl::group.depth;
  return ncclSuccess;
}

ncclResult_t ncclGroupEnd() {
  if (dbl::group.depth == 0) return dbl::nccl_fail(ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
  if (--dbl::group.depth > 0) return ncclSuccess;
  std::vector<dbl::P2p> ops = std::move(dbl::group.ops);
  dbl::group.ops.clear();
  const bool mixed = dbl::group.mixed_streams;
  dbl::group.mixed_streams = false;
  if (ops.empty()) return ncclSuccess;
  if (mixed) return dbl::nccl_fail(ncclInvalidUsage, "ncclGroupEnd: the double takes one stream per group");
  dbl::enqueue_group(dbl::group.stream, std::move(ops));
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "a CUDA call failed";
    case ncclSystemError: return "a system call or the network failed";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "a remote process failed or the network failed";
    case ncclInProgress: return "operation in progress";
    default: return "unknown result code";
  }
}

const char* ncclGetLastError(ncclComm_t) {
  thread_local std::string copy;
  std::lock_guard<std::mutex> lock(dbl::last_error_mutex);
  copy = dbl::last_error_text;
  return copy.c_str();
}

}  // extern "C"
