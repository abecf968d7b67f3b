// Measuring one schedule on every rank, shared by a ppbench run and `ppbench
// calibrate`: agreeing on input, the backend and executor of a rank, clock
// alignment, the iterations under a watchdog with the records gathered on rank
// 0, and the context block. Only the backend interface is used, so the same
// code measures the CPU and the CUDA backend.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "backends/cuda/cuda_options.h"
#include "core/schedule.h"
#include "core/timeline.h"
#include "runtime/backend_factory.h"
#include "runtime/executor.h"
#include "runtime/fault_spec.h"
#include "runtime/mpi_world.h"
#include "runtime/rank_watch.h"
#include "sim/cost_model.h"

namespace ppb {

// The flags that pick and drive the backend.
struct MeasureOptions {
  std::string backend = "auto";
  CudaBackendOptions cuda;
  double spin_us = 100;
  int warmup = 1;
  double timeout_s = 60;
  double setup_timeout_s = 300;
};

// Registers --backend, the CUDA backend's flags, --warmup, --timeout,
// --setup-timeout and --spin-us (defaults: the values in `options`).
void add_measure_options(CLI::App& app, MeasureOptions& options);
// Throws InputError naming the flag.
void check_measure_options(const MeasureOptions& options);

// Runs `fn` on every rank. Input errors are raised identically on every rank
// (they depend on argv and the world size only): each rank prints its own line,
// and `any` makes sure no rank goes on into a collective that the others left.
// Returns false, with exit_code set, when any rank failed.
bool agree_on_input(MpiWorld& world, const std::function<void()>& fn, int& exit_code);

// Collective (the CUDA backend's creation is): arms `watch` for
// --setup-timeout and picks the backend for --backend. One per command: a
// run's schedule, every point of a sweep and every size and placement of
// calibrate use it, so the CUDA backend makes its communicators, kernel
// calibration and device probes once. Throws InputError naming the flag when
// the backend cannot be had.
BackendSelection open_backend(const MeasureOptions& options, MpiWorld& world, RankWatch& watch);

// This rank's executor for one schedule and message size on the command's
// backend, with the rank's watch attached to them until the session goes.
struct RankSession {
  BackendSelection* selected = nullptr;  // open_backend's, outlives the session
  std::unique_ptr<Executor> executor;
  RankWatch* watch = nullptr;

  RankSession() = default;
  RankSession(RankSession&& other) noexcept;
  RankSession& operator=(RankSession&& other) noexcept;
  ~RankSession();
  Backend& backend() const { return *selected->backend; }
  // Before anything of the session is destroyed: the watch must not describe or abort it.
  void detach_watch() noexcept;
};

// Collective (the CUDA backend's prepare is): re-arms `watch` for
// --setup-timeout, builds the executor with the target times and prepares
// the backend for the schedule. The watch stays armed for set-up (clock
// alignment included) until run_iterations. Throws InputError naming the flag
// when the plan cannot run (buffers that do not fit the GPU).
RankSession open_session(BackendSelection& backend, const MeasureOptions& options, const Schedule& schedule,
                         const CostModel& targets, std::uint64_t activation_bytes,
                         const std::vector<FaultSpec>& faults, MpiWorld& world, RankWatch& watch);

// The watch for a ppbench rank: on expiry, MPI_Abort with exit code 3.
std::unique_ptr<RankWatch> make_rank_watch(const MpiWorld& world);

// "ppbench: backend cpu (requested), 4 ranks[; results labelled X]".
std::string backend_line(const BackendSelection& backend, int ranks);

struct ClockAlignment {
  std::vector<double> offset_us;  // per rank, onto rank 0's clock
  double bound_us = 0;            // the largest error bound
};
extern const char* const kClockAlignmentMethod;
// Collective: ping-pong between rank 0 and every rank on the backend's clock
// (still set-up, for the session's watch).
ClockAlignment align_clocks(MpiWorld& world, const RankSession& session);

struct MeasuredIterations {
  std::vector<Timeline> timelines;               // rank 0: the measured iterations (warm-up dropped)
  std::vector<std::uint64_t> peak_buffer_bytes;  // rank 0: per rank, the most over the measured iterations
  double timestamp_bound_us = 0;                 // every rank: the largest Backend::timestamp_bound_us
};

// Collective: `warmup` + `iters` iterations, each after a barrier and under
// the session's watch for `timeout_s`. On expiry every rank says where it is
// and the job is stopped with exit code 3; so is it when an iteration throws
// on any rank. The watch is disarmed on return.
MeasuredIterations run_iterations(MpiWorld& world, RankSession& session, const Schedule& schedule,
                                  const ClockAlignment& clocks, int warmup, int iters, double timeout_s);

// Collective: every rank returns rank 0's exit code.
int broadcast_exit_code(MpiWorld& world, int exit_code);

// Rank 0's context block: argv, version, backend and why, its details, hosts,
// ranks, MPI version, the clock alignment bound and method, the message size
// and PPB_RUN_LABEL when set. `hosts` comes from the collective host_names().
nlohmann::json measurement_context(const std::vector<std::string>& argv, const MpiWorld& world,
                                   const std::vector<std::string>& hosts, const RankSession& session,
                                   double clock_bound_us, std::uint64_t activation_bytes);

}  // namespace ppb
