// The double's device: its clock, its hardware queues and the streams mapped
// onto them, implicit synchronisation, device memory and the sticky error.
// The CUDA runtime calls (cuda_runtime_double.cpp), the kernels' launch
// functions and NCCL's operations are built on it. cuda_double.h says which
// CUDA semantics these are and where they simplify.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace ppb::cuda_double {

// The host's steady clock (CLOCK_MONOTONIC, shared by the processes of a host), ns.
std::int64_t host_now_ns();
// This rank's device clock at host time `host_ns`: the configured offset plus
// the drift accumulated since the double started.
std::int64_t device_clock_ns(std::int64_t host_ns);
// How long `device_ns` of the device clock last on the host clock.
std::int64_t host_duration_ns(double device_ns);

// A place in a stream: reached once the stream's first `position` operations
// have completed (position 0: at once).
struct StreamPoint {
  cudaStream_t stream = nullptr;
  std::uint64_t position = 0;
};

// One operation on a stream. `run` gets the operation's virtual start (host
// ns: when its queue was free, it had been enqueued and what it waits for had
// completed) and returns its virtual completion; it may block (an NCCL
// operation waiting for its peer). The queue's worker completes the operation
// no earlier than that time on the host clock.
using Work = std::function<std::int64_t(std::int64_t start_ns)>;

// Every stream handle the calls accept: a stream created and not destroyed,
// or the legacy default stream (nullptr, cudaStreamLegacy, cudaStreamPerThread:
// the double has no per-thread default streams). Returns nullptr for anything
// else; the legacy stream's own handle otherwise.
cudaStream_t resolve_stream(cudaStream_t handle);
cudaStream_t create_stream(bool blocking);
// The stream takes no more work; what it has still runs.
void destroy_stream(cudaStream_t stream);
int stream_id(cudaStream_t stream);     // creation order, for traces
int stream_queue(cudaStream_t stream);  // the hardware queue it runs on

// Enqueues `work` on `stream` (resolved), after `after` and the implicit
// synchronisation rules; returns its place (the stream reaches it when the
// operation completes). An `instant` operation (an event record, a stream
// wait) that finds its queue idle and its waits over completes in the call,
// as an idle GPU completes it at once, rather than whenever a worker thread
// gets the CPU.
StreamPoint enqueue(cudaStream_t stream, Work work, std::vector<StreamPoint> after = {}, bool instant = false);
// Where `stream` will be once everything enqueued so far has completed.
StreamPoint stream_end(cudaStream_t stream);
std::vector<StreamPoint> all_stream_ends();
bool reached(const StreamPoint& point);
// The virtual time the point was reached; only once reached().
std::int64_t reached_at(const StreamPoint& point);
// Blocks until every point is reached; returns the sticky error if the device
// faulted meanwhile (it never reaches anything more then).
cudaError_t wait_for(const std::vector<StreamPoint>& points);
// Work enqueued after this call, on any stream, waits for all work before it.
void device_barrier();

// The hardware queues granted: the requested CUDA_DEVICE_MAX_CONNECTIONS
// within the configured limit.
int granted_queues();

cudaError_t sticky_error();
// A kernel faulted: from now on every call returns `error`.
void set_sticky_error(cudaError_t error);

// Device memory (host memory underneath), within the configured capacity.
cudaError_t allocate(void** pointer, std::size_t bytes);
cudaError_t release(void* pointer);
bool is_device_range(const void* pointer, std::size_t bytes);
std::uint64_t allocated_bytes();

}  // namespace ppb::cuda_double
