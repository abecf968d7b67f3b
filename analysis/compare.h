// Measured against predicted: one timeline of a schedule as it ran, one as the
// simulator predicted it. Per-op residuals, the makespan and bubble errors of
// ARCHITECTURE.md, the worst ops, and where each rank's idle time went.
// Definitions: docs/compare.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/idle_breakdown.h"
#include "analysis/metrics.h"
#include "core/timeline.h"

namespace ppb {

// One op in both timelines. Starts are taken from each timeline's first op
// start (its makespan origin), so a constant offset between the two clocks'
// iteration starts is not an error of every op.
struct OpResidual {
  int rank = 0;
  Op op;
  double measured_start_us = 0;
  double predicted_start_us = 0;
  double measured_duration_us = 0;
  double predicted_duration_us = 0;
  double start_residual_us() const { return measured_start_us - predicted_start_us; }
  double duration_residual_us() const { return measured_duration_us - predicted_duration_us; }
};

struct ResidualSummary {
  double mean_us = 0;
  double rms_us = 0;
  double max_abs_us = 0;
};

struct Comparison {
  Metrics measured;
  Metrics predicted;
  double makespan_error = 0;       // (measured - predicted) / measured
  double bubble_error_points = 0;  // 100 * (measured bubble - predicted bubble)
  std::vector<OpResidual> ops;     // by rank, in the measured timeline's order
  ResidualSummary start;
  ResidualSummary duration;
  std::vector<IdleBreakdown> measured_idle;
  std::vector<IdleBreakdown> predicted_idle;
};

// Requires the same schedule in both: schedule name, P, M, chunks, placement,
// split backward, and per rank the same set of ops (optimizer steps included).
// Otherwise throws InputError naming both sources and the first difference.
Comparison compare_timelines(const Timeline& measured, const Timeline& predicted, const std::string& measured_source,
                             const std::string& predicted_source);

enum class ResidualKind { Start, Duration };

// The n ops with the largest |residual| of that kind, largest first (ties in
// rank and list order).
std::vector<OpResidual> worst_ops(const std::vector<OpResidual>& ops, ResidualKind kind, int n);

nlohmann::json idle_breakdown_to_json(const std::vector<IdleBreakdown>& ranks);

// The "ppbench.compare/1" document's body: everything but "schema", the input
// descriptions and "context" (the command adds those).
nlohmann::json comparison_to_json(const Comparison& comparison, int top);

}  // namespace ppb
