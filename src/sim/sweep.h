// A sweep: many (schedule, P, M) points simulated with one set of costs, on a
// pool of threads, with results in the order of the points whatever the thread
// count. Points whose schedule cannot exist (Megatron's interleaved schedule
// needs M to be a multiple of P) are skipped with the reason, not fatal.
#pragma once

#include <string>
#include <vector>

#include "analysis/metrics.h"
#include "sim/cost_model.h"

namespace ppb {

struct SweepPoint {
  std::string schedule;  // a generator name
  int num_stages = 0;    // P
  int num_batches = 0;   // M
  int chunks = 0;        // v; 0: 2 for interleaved, else 1
};

struct SweepResult {
  SweepPoint point;  // chunks resolved to the value used
  bool skipped = false;
  std::string reason;  // why it was skipped (the generator's message)
  Metrics metrics;     // when not skipped
};

// Every point's schedule is generated and validated; one that the generator
// rejects is skipped. A cost-model error (bad --forward-times for some P, ...)
// is bad input for the whole sweep and is thrown (the first one, in point
// order) after all threads have stopped. jobs < 1 means one per hardware thread.
std::vector<SweepResult> run_sweep(const std::vector<SweepPoint>& points, const CostInputs& costs, int jobs);

}  // namespace ppb
