// The transport under one communicator of the NCCL double: a connected Unix
// socket to the other rank (or, for a one-rank communicator, the
// communicator itself), a reader thread that files the peer's messages, and
// the communicator's asynchronous error and abort state. Two messages make a
// transfer: the receiver's "ready" when its ncclRecv starts on its stream,
// then the sender's data, sent only once that ready has come: a send never
// completes before its receive has started (cuda_double.h).
#pragma once

#include <nccl.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ppb::cuda_double {

struct LinkMessage {
  enum Kind : std::uint8_t { Ready = 1, Data = 2, Close = 3 };
  Kind kind = Ready;
  std::uint64_t seq = 0;    // the transfer's number on the communicator
  std::uint64_t bytes = 0;  // the receive's size (ready), the payload's (data)
  std::int64_t start_ns = 0;  // the sending side's virtual start of its operation
  std::vector<char> payload;
};

class Link : public std::enable_shared_from_this<Link> {
 public:
  // `socket` >= 0: connected to the peer (`peer_world_rank`); -1: loopback.
  Link(int socket, int id, int peer_world_rank);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  // Starts the reader (not in the constructor: it holds a shared_ptr to this).
  void start();

  int id() const { return id_; }
  int peer_world_rank() const { return peer_world_rank_; }

  // To the peer; false when the connection is gone (the async error is set).
  bool send(const LinkMessage& message);
  // Waits for the peer's message of `kind` and `seq`; false once aborted.
  bool receive(LinkMessage::Kind kind, std::uint64_t seq, LinkMessage* out);
  // Blocks until aborted (an operation that never completes otherwise).
  void wait_for_abort();

  ncclResult_t async_error() const;
  std::string async_reason() const;
  void set_async_error(ncclResult_t error, const std::string& reason);

  // ncclCommAbort: every waiter returns, the connection is shut; returns how
  // many operations were waiting.
  int abort();
  bool aborted() const;
  // ncclCommDestroy: after this side's operations, a close message (so the
  // peer does not take the end of the connection for a failure), then shutdown.
  void close();

  std::atomic<std::uint64_t> next_send{0};
  std::atomic<std::uint64_t> next_receive{0};
  std::atomic<int> pending{0};  // operations enqueued and not completed

 private:
  void read_loop();
  void file(LinkMessage message);

  int socket_;
  int id_;
  int peer_world_rank_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<LinkMessage> inbox_;
  ncclResult_t async_ = ncclSuccess;
  std::string async_reason_;
  bool aborted_ = false;
  bool peer_closed_ = false;
  bool closing_ = false;
  int waiting_ = 0;
  std::mutex write_mutex_;
};

// Bootstrap: a listening socket named in the unique id (ncclGetUniqueId), and
// the connection of the two ranks (ncclCommInitRank).
void make_unique_id(ncclUniqueId* id);
// The connected socket, blocking until the other rank is there; -1 and `why`
// on a malformed id or a failed handshake.
int connect_ranks(const ncclUniqueId& id, int rank, int* peer_world_rank, std::string* why);

}  // namespace ppb::cuda_double
