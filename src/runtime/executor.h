// The one executor: walks a rank's op list from the same Schedule the
// simulator uses and drives a Backend through the protocol in backend.h. It
// holds no MPI or CUDA type, so it is tested with a fake Backend.
//
// Execution rule (ARCHITECTURE.md): ops one at a time in list order; before an
// op, wait for each cross-rank input; after it, send to each cross-rank
// consumer. Same-rank dependencies need no wait: list order already satisfies
// them in a valid schedule. When the cost model has an optimizer step, it runs
// after the rank's last op.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/schedule.h"
#include "runtime/backend.h"
#include "runtime/fault_spec.h"
#include "sim/cost_model.h"

namespace ppb {

// The rank's sends (in the order the rank produces them) and receives (in the
// order the rank consumes them).
RankPlan make_rank_plan(const Schedule& schedule, int rank, std::uint64_t activation_bytes);

class Executor {
 public:
  // `targets`: the nominal cost model (per-op slow faults are applied here).
  // `faults`: every --inject-fault; those of other ranks are ignored.
  Executor(const Schedule& schedule, int rank, const CostModel& targets, std::uint64_t activation_bytes,
           Backend& backend, std::vector<FaultSpec> faults = {});

  const RankPlan& plan() const { return plan_; }
  const std::vector<Op>& ops() const { return ops_; }

  // Calls backend.prepare(plan()); once, before the first iteration. An
  // injected setup fault of this rank hangs or crashes here first.
  void prepare();
  // The backend's record of the iteration: valid until the next run_iteration.
  const RankIterationRecord& run_iteration(int iteration);

  // Safe to call from another thread (the watchdog) while run_iteration runs:
  // "after F5@s2; waiting for B5@s3 from rank 3", "after F5@s2; in F6@s2", ...
  std::string describe_progress() const;
  int current_iteration() const { return iteration_.load(); }

 private:
  enum Phase : int { kIdle, kWaitingInput, kComputing, kSending, kEnding };

  const Schedule& schedule_;
  int rank_;
  CostModel targets_;
  Backend& backend_;
  std::vector<FaultSpec> faults_;
  RankPlan plan_;
  std::vector<Op> ops_;                       // the rank's ops (+ optimizer)
  std::vector<double> target_us_;             // per op, slow faults applied
  std::vector<std::vector<int>> receives_of_;  // per op: indices into plan_.receives
  std::vector<std::vector<int>> sends_of_;     // per op: indices into plan_.sends

  std::atomic<int> iteration_{-1};
  std::atomic<int> position_{-1};  // op in progress
  std::atomic<int> completed_{-1};  // last op completed in this iteration
  std::atomic<int> phase_{kIdle};
  std::atomic<int> waiting_for_{-1};  // receive index while kWaitingInput
};

}  // namespace ppb
