// `ppbench sweep` on rank 0: the measured (schedule, M) points, each judged as
// a run is (analysis/run_summary.h), and what is made of them: a progress line
// per point, the console table, sweep.csv, sweep.json ("ppbench.sweep/1") and
// the chart's panels (measured bubble as markers, predicted as a line, the
// analytic formula dashed). Plain C++: testable without MPI or cairo.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/run_summary.h"
#include "core/timeline.h"
#include "render/image.h"

namespace ppb {

struct MeasuredSweepPoint {
  std::string schedule;  // a generator name
  int num_ranks = 0;     // P
  int num_microbatches = 0;  // M
  int chunks = 1;        // v
  bool skipped = false;
  std::string reason;  // why the generator rejected the point
  // Measured points only:
  std::vector<std::string> faults;  // the --inject-fault specs that applied to this point
  RunSummary summary;               // as a run's summary.json
  std::vector<int> measured_peak_activations;  // per rank, in the median iteration
  std::string directory;  // the point's run directory, relative to the sweep's
};

// "gpipe-M4": the point's directory under points/.
std::string sweep_point_name(const std::string& schedule, int num_microbatches);

// Per rank, the peak activations of a (measured) timeline (analysis/metrics.h).
std::vector<int> peak_activations_per_rank(const Timeline& timeline);

// "ppbench sweep: [2/8] gpipe M=2: makespan 9.120 ms (predicted 9.000 ms,
// +1.3%), bubble 33.5% (predicted 33.3%, +0.2 pp)", or "...: skipped: reason".
// `index` counts from 1 out of `count`.
std::string format_sweep_point_line(const MeasuredSweepPoint& point, std::size_t index, std::size_t count);

// One row per point (skipped ones with their reason), then a line saying how
// many were measured and skipped and what the columns mean.
std::string format_sweep_table(const std::vector<MeasuredSweepPoint>& points);

// sweep.csv: a header, one row per point; skipped rows have status "skipped",
// empty numbers and the quoted reason (the last column).
std::string sweep_csv(const std::vector<MeasuredSweepPoint>& points);

// sweep.json: {"schema": "ppbench.sweep/1", "time_unit": "us", "plan",
// "points": [...], "context"}.
nlohmann::json sweep_to_json(const std::vector<MeasuredSweepPoint>& points, const nlohmann::json& plan,
                             const nlohmann::json& context);

// One panel per schedule that has a measured point, in the order of `points`:
// measured bubble (markers only), predicted (a line) and, where the run gives
// one, the analytic formula (dashed), each against M.
LineChart sweep_chart(const std::vector<MeasuredSweepPoint>& points, const std::string& subtitle);

// The measured point with the largest |makespan error|; nullopt when none was measured.
std::optional<std::size_t> worst_makespan_error(const std::vector<MeasuredSweepPoint>& points);

}  // namespace ppb
