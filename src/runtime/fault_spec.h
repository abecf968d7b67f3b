// --inject-fault RANK:OP:ACTION, for testing the harness's failure paths and
// the model's handling of imbalance.
//   RANK    the rank the fault hits (0 .. P-1)
//   OP      F3@s1 (kind, microbatch, stage: the op the rank runs), F3 / B3 / W3
//           (that microbatch on the rank's only stage; an error on a rank that
//           holds several stages), * (every op of the rank; slow only) or
//           setup (the rank's set-up, before the backend is prepared; hang or
//           crash only: --setup-timeout fires on a hang)
//   ACTION  hang      block forever at the op (before its compute); --timeout fires
//           crash     print a line naming rank and op, then exit at once with
//                     status 3 without MPI_Finalize (mpirun then stops the job)
//           slow=X    the op's compute takes X times its target (X > 0)
// The fault applies in every iteration (warm-up included) that runs the op;
// hang and crash therefore hit the first warm-up iteration. A setup fault hits
// every set-up of the rank (ppbench calibrate sets up once per pass).
#pragma once

#include <string>
#include <vector>

#include "core/op.h"
#include "core/schedule.h"
#include "sim/cost_model.h"

namespace ppb {

enum class FaultAction { Hang, Crash, Slow };

struct FaultSpec {
  int rank = 0;
  bool every_op = false;  // OP was '*'
  bool at_setup = false;  // OP was 'setup'
  Op op;                  // when neither
  FaultAction action = FaultAction::Slow;
  double factor = 1.0;  // slow=X
  std::string text;     // as given, for messages
};

// Throws InputError starting with "--inject-fault: '<text>'" and the reason.
FaultSpec parse_fault_spec(const std::string& text, const Schedule& schedule);

// Whether the fault hits op on rank (never for a setup fault).
bool fault_hits(const FaultSpec& fault, int rank, const Op& op);
// The first setup fault of `rank`, or nullptr.
const FaultSpec* setup_fault(const std::vector<FaultSpec>& faults, int rank);

// Product of the slow factors that hit (rank, op); 1 when none does.
double slow_factor(const std::vector<FaultSpec>& faults, int rank, const Op& op);

// The nominal model with every slow=X on '*' applied to the stages of that rank
// (the same imbalance the run executes, so the prediction can match it). A slow
// fault on one op is not representable per stage and is left out: it shows up
// as an error against the prediction (the replay sees it).
CostModel apply_slowdown(CostModel model, const std::vector<FaultSpec>& faults, const Schedule& schedule);

}  // namespace ppb
