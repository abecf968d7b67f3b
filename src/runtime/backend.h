// The interface between the one executor (src/runtime/executor) and the
// machines it runs on: the CPU backend (timed host work, MPI sends) and the CUDA
// backend (stage kernels, NCCL sends, CUDA events). No MPI or CUDA types here.
//
// Before each iteration the runtime calls mark_clock_reference() between two
// barriers. Per iteration the executor calls, for one rank, in the rank's list order:
//   begin_iteration(i)
//   for each op:
//     wait_input(t)    for each cross-rank input t of the op (activation or gradient)
//     compute(op, us)  the op's work, us = target duration in microseconds
//     send_output(t)   for each cross-rank consumer t of the op's result
//   end_iteration() -> every op and transfer of this rank, timestamped (the
//                      backend's own record, reused from iteration to
//                      iteration: valid until the next begin_iteration)
// Calls return as soon as the work is issued: the CPU backend runs compute
// inline; the CUDA backend enqueues on streams and synchronises once, in
// end_iteration. Any valid schedule must complete for any message size: a
// backend may not rely on transport buffering (the CPU backend pre-posts
// receives; the CUDA backend orders receives by the sender's send order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/schedule.h"
#include "core/timeline.h"

namespace ppb {

// One cross-rank hand-off, named by the op that produced the data.
struct Transfer {
  Op producer;              // F(s,m) for an activation, B(s,m) for a gradient
  int src_rank = 0;
  int dst_rank = 0;
  std::uint64_t bytes = 0;
};

// What prepare() gets: everything known before the first iteration.
struct RankPlan {
  int rank = 0;
  const Schedule* schedule = nullptr;  // outlives the backend
  std::uint64_t activation_bytes = 0;  // size of every activation and gradient message
  std::vector<Transfer> sends;         // this rank's sends, in issue order
  std::vector<Transfer> receives;      // this rank's receives, in consumption order
};

// One rank's share of an iteration, on the backend's clock (microseconds,
// now_us() base). The runtime shifts it onto the common time base.
struct RankIterationRecord {
  std::vector<OpRecord> ops;             // in execution order
  std::vector<TransferRecord> received;  // send_us = sender's send time when known, else NaN
  std::vector<TransferRecord> sent;
  // Most bytes of activation and gradient buffers held at once during the
  // iteration (0 where the backend does not track it).
  std::uint64_t peak_buffer_bytes = 0;
};

// Empties a record and keeps its capacity, for backends that reuse theirs.
inline void clear_record(RankIterationRecord& record) {
  record.ops.clear();
  record.received.clear();
  record.sent.clear();
  record.peak_buffer_bytes = 0;
}

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;        // "cpu" or "cuda"
  virtual nlohmann::json context() const = 0;  // devices, versions, timer resolution
  virtual void prepare(const RankPlan& plan) = 0;
  // Called before each iteration while no rank has work in flight (between
  // two barriers): where a backend maps its own clock onto now_us(). The CUDA
  // backend records its reference event here: on a GPU that several ranks
  // share, one recorded while another rank's kernels run waits for a
  // timeslice, and the mapping's error grows by that wait. A backend whose
  // begin_iteration finds no fresh reference takes one itself.
  virtual void mark_clock_reference() {}
  virtual void begin_iteration(int iteration) = 0;
  virtual void wait_input(const Transfer& transfer) = 0;
  virtual void compute(const Op& op, double target_us) = 0;
  virtual void send_output(const Transfer& transfer) = 0;
  // Keeps the record's buffers (clear, not free) so that long iterations do
  // not allocate, or fault in fresh pages, while ops run.
  virtual const RankIterationRecord& end_iteration() = 0;
  // The backend's clock in microseconds (host clock for both backends; the CUDA
  // backend maps its event times onto it).
  virtual double now_us() const = 0;
  // Bound on the error of mapping the backend's timestamps onto now_us() (the
  // CUDA backend's event-to-host-clock mapping, largest so far); 0 where
  // timestamps are now_us() readings themselves. Added to the clock alignment
  // bound reported in the context.
  virtual double timestamp_bound_us() const { return 0; }
  // Called from the watchdog thread, while the main thread may be stuck in
  // any call above: what the backend itself is waiting for, beyond what the
  // executor knows (the CUDA backend: the set-up step, or the first
  // incomplete op and transfers on the device). Empty when nothing to add.
  virtual std::string describe_stall() const noexcept { return {}; }
  // Called from the watchdog thread when the run is being stopped (timeout, a
  // failed rank): release anything that could block process exit (the CUDA
  // backend aborts its NCCL communicators). Must not throw.
  virtual void abort() noexcept {}
};

}  // namespace ppb
