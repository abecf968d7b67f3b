// What a measured run amounts to (summary.json, schema "ppbench.summary/1"):
// the measured metrics over the iterations, the prediction, the replay, the
// errors between them (ARCHITECTURE.md definitions), per-stage op durations
// against their targets, per-rank bubbles and the harness overhead. Plain C++:
// computed on rank 0 from timelines, testable without MPI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/replay.h"
#include "core/timeline.h"
#include "sim/cost_model.h"

namespace ppb {

struct Distribution {
  double median = 0, min = 0, max = 0, p95 = 0;
};

// Order statistics by the nearest-rank method (the smallest value with at
// least the fraction of the values at or below it): the median is the lower
// middle value for an even count, so that the median makespan is the makespan
// of an iteration that ran (the median iteration's). Requires a non-empty list.
Distribution distribution_of(const std::vector<double>& values);

// The value with `fraction` of the values at or below it (nearest rank).
double percentile(std::vector<double> values, double fraction);

// For every op whose readiness is known, start - ready, where ready is the
// latest of: the previous op's end on its rank, the arrival of each cross-rank
// input, the end of each same-rank producer. The first op of a rank with no
// input has no defined readiness and is skipped. Negative gaps (an op seen to
// start before its input arrived, which clock or poll granularity can cause)
// are kept: they show the measurement's resolution.
std::vector<double> harness_overhead_us(const Timeline& measured);

struct StageDurations {
  int stage = 0;
  // Median measured duration and the target, per kind (F, B, W); NaN where the
  // kind does not run.
  double measured_us[3];
  double target_us[3];
};

// A link's cost as the replay used it (estimate_link_cost).
struct ReplayLink {
  int src_rank = 0, dst_rank = 0;
  LinkCostEstimate cost;
};

struct RunSummary {
  Distribution makespan_us;      // measured, over iterations
  Distribution bubble_fraction;  // measured, over iterations
  double predicted_makespan_us = 0, predicted_bubble = 0;
  double replay_makespan_us = 0, replay_bubble = 0;
  std::vector<ReplayLink> replay_links;  // by (src, dst)
  std::optional<double> analytic_bubble;
  // The median iteration (the median makespan's, median_index in
  // timeline_source.h: the lower middle one for an even count) and its
  // metrics: "measured" in the errors, so that
  // they agree with the timeline, trace and pictures (drawn from it) and with
  // `ppsim compare` on measured.json.
  std::size_t median_iteration = 0;
  double measured_makespan_us = 0, measured_bubble = 0;
  // ARCHITECTURE.md: (measured - predicted) / measured with the median
  // iteration's makespan, and measured - predicted bubble in percentage points.
  double makespan_rel_error = 0, bubble_pp_error = 0;
  double replay_makespan_rel_error = 0, replay_bubble_pp_error = 0;
  std::vector<StageDurations> stages;
  std::vector<double> rank_bubble;  // median over iterations, per rank
  // Per rank: the simulator's peak activations (microbatches whose forward
  // output is held for a backward still to come), and the backend's measured
  // peak of activation and gradient buffer bytes, the most over the measured
  // iterations (set by the runtime; empty when not tracked).
  std::vector<int> rank_predicted_peak_activations;
  std::vector<std::uint64_t> rank_peak_buffer_bytes;
  std::uint64_t activation_bytes = 0;  // message size; 0: unknown (no bytes figures)
  double overhead_median_us = 0, overhead_p99_us = 0;
  std::size_t overhead_ops = 0;
  std::size_t iterations = 0;
};

// `targets` is the cost model the ops were run with (the nominal model with
// any injected slowdown).
RunSummary summarize_run(const std::vector<Timeline>& measured, const Timeline& predicted, const Timeline& replay,
                         const CostModel& targets);

nlohmann::json summary_to_json(const RunSummary& summary, const nlohmann::json& context);

}  // namespace ppb
