// --inject-fault RANK:OP:ACTION, for testing the harness's failure paths and
// the model's handling of imbalance.
//   RANK    the rank the fault hits (0 .. P-1)
//   OP      F3@s1 (kind, microbatch, stage: the op the rank runs), F3 / B3 / W3
//           (that microbatch on the rank's only stage; an error on a rank that
//           holds several stages) or * (every op of the rank; slow only)
//   ACTION  hang      block forever at the op (before its compute); --timeout fires
//           crash     print a line naming rank and op, then exit at once with
//                     status 3 without MPI_Finalize (mpirun then stops the job)
//           slow=X    the op's compute takes X times its target (X > 0)
// The fault applies in every iteration (warm-up included) that runs the op;
// hang and crash therefore hit the first warm-up iteration.
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
  Op op;                  // when !every_op
  FaultAction action = FaultAction::Slow;
  double factor = 1.0;  // slow=X
  std::string text;     // as given, for messages
};

// Throws InputError starting with "--inject-fault: '<text>'" and the reason.
FaultSpec parse_fault_spec(const std::string& text, const Schedule& schedule);

bool fault_hits(const FaultSpec& fault, int rank, const Op& op);

// Product of the slow factors that hit (rank, op); 1 when none does.
double slow_factor(const std::vector<FaultSpec>& faults, int rank, const Op& op);

// The nominal model with every slow=X on '*' applied to the stages of that rank
// (the same imbalance the run executes, so the prediction can match it). A slow
// fault on one op is not representable per stage and is left out: it shows up
// as an error against the prediction (the replay sees it).
CostModel apply_slowdown(CostModel model, const std::vector<FaultSpec>& faults, const Schedule& schedule);

}  // namespace ppb
