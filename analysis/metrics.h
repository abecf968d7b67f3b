// The metrics of ARCHITECTURE.md, with one definition for predicted and
// measured timelines alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/timeline.h"

namespace ppb {

struct RankMetrics {
  int rank = 0;
  double busy_us = 0;          // sum of compute op durations (F, B, W, optimizer)
  double idle_us = 0;          // makespan - busy
  double bubble_fraction = 0;  // 1 - busy / makespan
  int peak_activations = 0;    // most (stage, microbatch) activations held at once
};

struct Metrics {
  double makespan_us = 0;      // last compute end - first compute start, all ranks
  double bubble_fraction = 0;  // 1 - sum busy / (P * makespan)
  // The uniform-stage, zero-communication formula where one applies (GPipe and
  // 1F1B: (P-1)/(M+P-1); interleaved: (P-1)/(vM+P-1)); a reference, never a
  // measurement.
  std::optional<double> analytic_bubble;
  std::vector<RankMetrics> ranks;
};

// The makespan's bounds: the first compute op start and the last compute op
// end over all ranks; both 0 for a timeline without ops.
struct OpSpan {
  double first_us = 0;
  double last_us = 0;
  double length_us() const { return last_us - first_us; }
};
OpSpan op_span(const Timeline& timeline);

Metrics compute_metrics(const Timeline& timeline);

// `generator` is Schedule::generator (Timeline::generator): empty or unknown gives none.
std::optional<double> analytic_bubble(const std::string& generator, int num_ranks, int num_microbatches, int chunks);

// Peak live activations of one rank, by walking its ops in execution order: an
// activation is held from its F until the op that releases it (W when the
// backward is split, else B).
int peak_activations(const std::vector<OpRecord>& ops, bool split_backward);

}  // namespace ppb
