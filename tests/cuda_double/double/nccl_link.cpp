#include "nccl_link.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "double_config.h"

namespace ppb::cuda_double {

namespace {

constexpr char kIdMagic[] = "ppbench-cuda-double";

struct Header {
  std::uint8_t kind;
  std::uint64_t seq;
  std::uint64_t bytes;
  std::int64_t start_ns;
};

bool write_all(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// Listening sockets of this process, by id name: the rank that made the id
// accepts on it; a second rank in the same process connects like any other.
struct Listeners {
  std::mutex mutex;
  std::map<std::string, int> unclaimed;
  int next = 0;
};

Listeners& listeners() {
  static Listeners* l = new Listeners;
  return *l;
}

sockaddr_un address_of(const std::string& name, socklen_t* length) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  // Abstract namespace (a leading NUL): nothing on the file system to clean up.
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return a;
}

struct Hello {
  char magic[sizeof(kIdMagic)];
  int rank;
  int world_rank;
};

}  // namespace

Link::Link(int socket, int id, int peer_world_rank) : socket_(socket), id_(id), peer_world_rank_(peer_world_rank) {}

Link::~Link() {
  if (socket_ >= 0) ::close(socket_);
}

void Link::start() {
  if (socket_ < 0) return;
  std::thread([self = shared_from_this()] { self->read_loop(); }).detach();
}

void Link::read_loop() {
  for (;;) {
    Header h{};
    LinkMessage m;
    bool ok = read_all(socket_, &h, sizeof(h));
    if (ok) {
      m.kind = static_cast<LinkMessage::Kind>(h.kind);
      m.seq = h.seq;
      m.bytes = h.bytes;
      m.start_ns = h.start_ns;
      if (m.kind == LinkMessage::Data) {
        m.payload.resize(h.bytes);
        ok = read_all(socket_, m.payload.data(), m.payload.size());
      }
    }
    if (!ok) {
      std::lock_guard<std::mutex> lock(mutex_);
      // The end of the connection without a close message: the peer died.
      if (!peer_closed_ && !aborted_ && !closing_ && async_ == ncclSuccess) {
        async_ = ncclRemoteError;
        async_reason_ = "the connection to world rank " + std::to_string(peer_world_rank_) +
                        " ended without ncclCommDestroy: the peer process failed";
      }
      changed_.notify_all();
      return;
    }
    if (m.kind == LinkMessage::Close) {
      std::lock_guard<std::mutex> lock(mutex_);
      peer_closed_ = true;
      changed_.notify_all();
      continue;
    }
    file(std::move(m));
  }
}

void Link::file(LinkMessage message) {
  std::lock_guard<std::mutex> lock(mutex_);
  inbox_.push_back(std::move(message));
  changed_.notify_all();
}

bool Link::send(const LinkMessage& message) {
  if (socket_ < 0) {  // loopback: the message is this communicator's own
    file(message);
    return true;
  }
  const Header h{message.kind, message.seq, message.bytes, message.start_ns};
  std::lock_guard<std::mutex> lock(write_mutex_);
  if (write_all(socket_, &h, sizeof(h)) && write_all(socket_, message.payload.data(), message.payload.size())) {
    return true;
  }
  set_async_error(ncclRemoteError, "sending to world rank " + std::to_string(peer_world_rank_) + " failed: " +
                                       std::strerror(errno));
  return false;
}

bool Link::receive(LinkMessage::Kind kind, std::uint64_t seq, LinkMessage* out) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++waiting_;
  for (;;) {
    if (aborted_) break;
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
      if (it->kind != kind || it->seq != seq) continue;
      *out = std::move(*it);
      inbox_.erase(it);
      --waiting_;
      return true;
    }
    changed_.wait(lock);
  }
  --waiting_;
  return false;
}

void Link::wait_for_abort() {
  std::unique_lock<std::mutex> lock(mutex_);
  ++waiting_;
  changed_.wait(lock, [&] { return aborted_; });
  --waiting_;
}

ncclResult_t Link::async_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return async_;
}

std::string Link::async_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return async_reason_;
}

void Link::set_async_error(ncclResult_t error, const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (async_ == ncclSuccess) {
    async_ = error;
    async_reason_ = reason;
  }
  changed_.notify_all();
}

int Link::abort() {
  int waiting = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    aborted_ = true;
    waiting = waiting_;
    changed_.notify_all();
  }
  if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
  return waiting;
}

bool Link::aborted() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return aborted_;
}

void Link::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  if (socket_ < 0) return;
  LinkMessage bye;
  bye.kind = LinkMessage::Close;
  send(bye);
  ::shutdown(socket_, SHUT_WR);
}

void make_unique_id(ncclUniqueId* id) {
  Listeners& l = listeners();
  std::lock_guard<std::mutex> lock(l.mutex);
  const std::string name = std::string(kIdMagic) + "." + std::to_string(::getpid()) + "." + std::to_string(l.next++);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  socklen_t length = 0;
  const sockaddr_un a = address_of(name, &length);
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&a), length) != 0 || ::listen(fd, 4) != 0) {
    config_error(std::string("ncclGetUniqueId: cannot listen on a Unix socket: ") + std::strerror(errno));
  }
  l.unclaimed[name] = fd;
  std::memset(id->internal, 0, sizeof(id->internal));
  std::memcpy(id->internal, name.data(), name.size());
}

int connect_ranks(const ncclUniqueId& id, int rank, int* peer_world_rank, std::string* why) {
  const std::string name(id.internal, strnlen(id.internal, sizeof(id.internal)));
  if (name.rfind(kIdMagic, 0) != 0) {
    *why = "not a unique id of the double (ncclGetUniqueId makes them)";
    return -1;
  }
  int listener = -1;
  {
    Listeners& l = listeners();
    std::lock_guard<std::mutex> lock(l.mutex);
    const auto it = l.unclaimed.find(name);
    if (it != l.unclaimed.end()) {
      listener = it->second;
      l.unclaimed.erase(it);
    }
  }
  int fd = -1;
  if (listener >= 0) {
    do {
      fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    ::close(listener);
  } else {
    socklen_t length = 0;
    const sockaddr_un a = address_of(name, &length);
    // The id's maker listens before it shares the id; until the peer accepts,
    // or should it be gone, keep trying (real NCCL's bootstrap waits as well).
    for (;;) {
      fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&a), length) == 0) break;
      if (fd >= 0) ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (fd < 0) {
    *why = std::string("accepting the peer failed: ") + std::strerror(errno);
    return -1;
  }
  Hello mine{};
  std::memcpy(mine.magic, kIdMagic, sizeof(kIdMagic));
  mine.rank = rank;
  mine.world_rank = config().world_rank;
  Hello theirs{};
  if (!write_all(fd, &mine, sizeof(mine)) || !read_all(fd, &theirs, sizeof(theirs)) ||
      std::memcmp(theirs.magic, kIdMagic, sizeof(kIdMagic)) != 0) {
    ::close(fd);
    *why = "the peer's handshake failed";
    return -1;
  }
  if (theirs.rank == rank) {
    ::close(fd);
    *why = "both ends claimed rank " + std::to_string(rank);
    return -1;
  }
  *peer_world_rank = theirs.world_rank;
  return fd;
}

}  // namespace ppb::cuda_double
