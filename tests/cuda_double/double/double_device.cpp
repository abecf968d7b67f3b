#include "double_device.h"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <thread>

#include "double_config.h"

// The handle types of the CUDA headers, defined here: a stream is a FIFO of
// operations on one hardware queue.
struct CUstream_st {
  int id = 0;
  int queue = 0;
  bool blocking = true;  // synchronises with the legacy stream
  bool legacy = false;
  bool live = true;
  std::uint64_t enqueued = 0;
  std::uint64_t completed = 0;
  std::vector<std::int64_t> done_at;  // virtual completion of each operation
  std::uint64_t barrier_seen = 0;
};

namespace ppb::cuda_double {

namespace {

struct Operation {
  cudaStream_t stream = nullptr;
  std::int64_t enqueued_ns = 0;
  std::vector<StreamPoint> after;
  Work work;
};

struct Queue {
  std::deque<Operation> operations;
  std::condition_variable wake;
  std::int64_t last_done = 0;
  bool running = false;  // the worker holds an operation
};

// Never destroyed: queue workers run until the process ends (a hung kernel
// keeps its worker forever) and must find it during exit.
struct State {
  std::mutex mutex;
  std::condition_variable changed;  // a completion or the sticky error
  std::vector<cudaStream_t> streams;  // every stream ever made (kept: operations point at them)
  cudaStream_t legacy = nullptr;
  std::vector<std::unique_ptr<Queue>> queues;
  int granted = 1;
  int next_queue = 0;
  std::uint64_t barrier_epoch = 0;
  std::vector<StreamPoint> barrier;
  cudaError_t sticky = cudaSuccess;
  std::map<std::uintptr_t, std::size_t> allocations;
  std::uint64_t allocated = 0;
  std::int64_t start_ns = 0;  // drift accumulates from here
};

void run_queue(Queue* queue);

State& state() {
  static State* s = [] {
    auto* made = new State;
    const DoubleConfig& c = config();
    made->granted = std::max(1, std::min(c.requested_queues, c.queue_limit));
    made->start_ns = host_now_ns();
    for (int i = 0; i < made->granted; ++i) made->queues.push_back(std::make_unique<Queue>());
    for (auto& q : made->queues) std::thread(run_queue, q.get()).detach();
    return made;
  }();
  return *s;
}

cudaStream_t make_stream_locked(State& st, bool blocking, bool legacy) {
  auto* s = new CUstream_st;
  s->id = static_cast<int>(st.streams.size());
  s->queue = st.next_queue++ % st.granted;
  s->blocking = blocking;
  s->legacy = legacy;
  s->barrier_seen = st.barrier_epoch;
  st.streams.push_back(s);
  return s;
}

cudaStream_t legacy_locked(State& st) {
  if (st.legacy == nullptr) st.legacy = make_stream_locked(st, true, true);
  return st.legacy;
}

bool reached_locked(const StreamPoint& p) { return p.position == 0 || p.stream->completed >= p.position; }

void sleep_until_host(std::int64_t ns) {
  std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns)));
}

// One hardware queue: its operations in order, each at its virtual start.
void run_queue(Queue* queue) {
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // wake at completion times, not up to 50 us later
  State& st = state();
  std::unique_lock<std::mutex> lock(st.mutex);
  for (;;) {
    queue->wake.wait(lock, [&] { return !queue->operations.empty(); });
    Operation op = std::move(queue->operations.front());
    queue->operations.pop_front();
    queue->running = true;
    std::int64_t start = std::max(queue->last_done, op.enqueued_ns);
    for (const StreamPoint& p : op.after) {
      st.changed.wait(lock, [&] { return reached_locked(p) || st.sticky != cudaSuccess; });
      if (st.sticky != cudaSuccess) break;
      if (p.position > 0) start = std::max(start, p.stream->done_at[p.position - 1]);
    }
    // A faulted device runs nothing more.
    st.changed.wait(lock, [&] { return st.sticky == cudaSuccess; });
    lock.unlock();
    const std::int64_t done = op.work(start);
    sleep_until_host(done);
    lock.lock();
    st.changed.wait(lock, [&] { return st.sticky == cudaSuccess; });
    op.stream->done_at.push_back(done);
    ++op.stream->completed;
    queue->last_done = done;
    queue->running = false;
    st.changed.notify_all();
  }
}

}  // namespace

std::int64_t host_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t device_clock_ns(std::int64_t host_ns) {
  const DoubleConfig& c = config();
  const double drift = c.clock_drift_ppm * 1e-6 * static_cast<double>(host_ns - state().start_ns);
  return host_ns + std::llround(c.clock_offset_us * 1e3 + drift);
}

std::int64_t host_duration_ns(double device_ns) {
  return std::llround(device_ns / (1.0 + config().clock_drift_ppm * 1e-6));
}

cudaStream_t resolve_stream(cudaStream_t handle) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  if (handle == nullptr || handle == cudaStreamLegacy || handle == cudaStreamPerThread) return legacy_locked(st);
  for (cudaStream_t s : st.streams) {
    if (s == handle) return s->live ? s : nullptr;
  }
  return nullptr;
}

cudaStream_t create_stream(bool blocking) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  return make_stream_locked(st, blocking, false);
}

void destroy_stream(cudaStream_t stream) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  if (!stream->legacy) stream->live = false;
}

int stream_id(cudaStream_t stream) { return stream->id; }
int stream_queue(cudaStream_t stream) { return stream->queue; }

StreamPoint enqueue(cudaStream_t stream, Work work, std::vector<StreamPoint> after, bool instant) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  Operation op;
  op.stream = stream;
  op.enqueued_ns = host_now_ns();
  op.after = std::move(after);
  op.work = std::move(work);
  // Implicit synchronisation: after a device-wide barrier, and between the
  // legacy stream and the blocking streams.
  if (stream->barrier_seen < st.barrier_epoch) {
    for (const StreamPoint& p : st.barrier) {
      if (p.stream != stream) op.after.push_back(p);
    }
    stream->barrier_seen = st.barrier_epoch;
  }
  if (stream->legacy) {
    for (cudaStream_t b : st.streams) {
      if (b != stream && b->blocking && b->enqueued > 0) op.after.push_back({b, b->enqueued});
    }
  } else if (stream->blocking && st.legacy != nullptr && st.legacy->enqueued > 0) {
    op.after.push_back({st.legacy, st.legacy->enqueued});
  }
  const StreamPoint point{stream, ++stream->enqueued};
  Queue& q = *st.queues[static_cast<std::size_t>(stream->queue)];
  if (instant && !q.running && q.operations.empty() && st.sticky == cudaSuccess &&
      std::all_of(op.after.begin(), op.after.end(), reached_locked)) {
    std::int64_t start = std::max(q.last_done, op.enqueued_ns);
    for (const StreamPoint& p : op.after) {
      if (p.position > 0) start = std::max(start, p.stream->done_at[p.position - 1]);
    }
    const std::int64_t done = op.work(start);
    stream->done_at.push_back(done);
    ++stream->completed;
    q.last_done = done;
    st.changed.notify_all();
    return point;
  }
  q.operations.push_back(std::move(op));
  q.wake.notify_one();
  return point;
}

StreamPoint stream_end(cudaStream_t stream) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  return {stream, stream->enqueued};
}

std::vector<StreamPoint> all_stream_ends() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  std::vector<StreamPoint> out;
  for (cudaStream_t s : st.streams) out.push_back({s, s->enqueued});
  return out;
}

bool reached(const StreamPoint& point) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  return reached_locked(point);
}

std::int64_t reached_at(const StreamPoint& point) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  return point.position == 0 ? 0 : point.stream->done_at[point.position - 1];
}

cudaError_t wait_for(const std::vector<StreamPoint>& points) {
  State& st = state();
  std::unique_lock<std::mutex> lock(st.mutex);
  st.changed.wait(lock, [&] {
    return st.sticky != cudaSuccess || std::all_of(points.begin(), points.end(), reached_locked);
  });
  return st.sticky;
}

void device_barrier() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  ++st.barrier_epoch;
  st.barrier.clear();
  for (cudaStream_t s : st.streams) {
    if (s->enqueued > 0) st.barrier.push_back({s, s->enqueued});
  }
}

int granted_queues() { return state().granted; }

cudaError_t sticky_error() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  return st.sticky;
}

void set_sticky_error(cudaError_t error) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  if (st.sticky == cudaSuccess) st.sticky = error;
  st.changed.notify_all();
}

cudaError_t allocate(void** pointer, std::size_t bytes) {
  State& st = state();
  {
    std::lock_guard<std::mutex> lock(st.mutex);
    if (bytes > config().memory_bytes - std::min(config().memory_bytes, st.allocated)) return cudaErrorMemoryAllocation;
    // Pages are mapped lazily: a large allocation costs nothing until written.
    void* p = ::mmap(nullptr, std::max<std::size_t>(bytes, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (p == MAP_FAILED) return cudaErrorMemoryAllocation;
    st.allocations[reinterpret_cast<std::uintptr_t>(p)] = bytes;
    st.allocated += bytes;
    *pointer = p;
  }
  device_barrier();
  return cudaSuccess;
}

cudaError_t release(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  State& st = state();
  std::size_t bytes = 0;
  {
    std::lock_guard<std::mutex> lock(st.mutex);
    const auto it = st.allocations.find(reinterpret_cast<std::uintptr_t>(pointer));
    if (it == st.allocations.end()) return cudaErrorInvalidValue;
    bytes = it->second;
  }
  // cudaFree waits until the device has finished what uses the memory: all of it.
  const cudaError_t sticky = wait_for(all_stream_ends());
  if (sticky != cudaSuccess) return sticky;
  std::lock_guard<std::mutex> lock(st.mutex);
  st.allocations.erase(reinterpret_cast<std::uintptr_t>(pointer));
  st.allocated -= bytes;
  ::munmap(pointer, std::max<std::size_t>(bytes, 1));
  return cudaSuccess;
}

bool is_device_range(const void* pointer, std::size_t bytes) {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  const auto p = reinterpret_cast<std::uintptr_t>(pointer);
  auto it = st.allocations.upper_bound(p);
  if (it == st.allocations.begin()) return false;
  --it;
  return p >= it->first && p + bytes <= it->first + it->second;
}

std::uint64_t allocated_bytes() {
  State& st = state();
  std::lock_guard<std::mutex> lock(st.mutex);
  return st.allocated;
}

}  // namespace ppb::cuda_double
