// Device buffers for activations and gradients, all of one size (the plan's
// activation bytes). The backend acquires a buffer where data comes into
// being (a forward's output, a posted receive, a backward's gradient) and
// releases it where its last reader was enqueued (the consuming backward, the
// consuming op, the send), with an event recorded after that last use.
//
// held/peak bytes follow the program order of acquire/release calls: what a
// rank needs at most, comparable with the simulator's peak activations.
//
// Physical reuse never adds a wait that could close a cycle (docs/gpu.md): a
// free buffer is taken (1) by work on the stream it was released on (stream
// order covers it), (2) by anyone once its release event has completed, or
// (3) by a receive, with a stream wait on the release event, when it was
// released on the compute stream (the releasing op precedes, in the rank's
// list, every op that the receive could be waited on by). Otherwise the pool
// grows. reserve() allocates up front; with one buffer per acquisition of an
// iteration (buffers_per_iteration) only rule (1) and fresh buffers are ever
// used: no stream wait is added and nothing is allocated after prepare.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

namespace ppb::cuda {

class BufferPool {
 public:
  // `message_bytes`: the activation size (0 allowed); buffers are at least 16
  // bytes, but held and peak bytes count message bytes, to compare with the
  // simulator's peak activations x activation bytes.
  BufferPool(std::size_t message_bytes, cudaStream_t compute_stream);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // Allocates buffers until the pool holds `count` (at prepare: cudaMalloc
  // synchronises the device, so not inside an iteration).
  void reserve(std::size_t count);
  // A buffer for work about to be enqueued on `stream`; `for_receive` allows
  // rule (3) above.
  void* acquire(cudaStream_t stream, bool for_receive);
  void release(void* buffer, cudaStream_t stream, cudaEvent_t after_last_use);
  // All buffers free and the peak restarted; only after a full synchronisation.
  void reset_iteration();

  std::size_t buffer_bytes() const { return buffer_bytes_; }
  std::uint64_t held_bytes() const { return held_ * message_bytes_; }
  std::uint64_t peak_bytes() const { return peak_ * message_bytes_; }
  std::uint64_t allocated_bytes() const { return all_.size() * buffer_bytes_; }
  // cudaMalloc calls made by acquire() (the pool grew inside an iteration).
  std::uint64_t growth_count() const { return growths_; }

 private:
  struct Free {
    void* ptr;
    cudaStream_t stream;
    cudaEvent_t event;
  };
  std::size_t message_bytes_;
  std::size_t buffer_bytes_;  // physical size of every buffer
  cudaStream_t compute_;
  std::vector<void*> all_;
  std::vector<Free> free_;
  std::uint64_t held_ = 0;
  std::uint64_t peak_ = 0;
  std::uint64_t growths_ = 0;
};

}  // namespace ppb::cuda
