// Calibration files (schema "ppbench.calibration/1"): measured per-stage F, B
// and W times and per-link message costs, which the simulator uses as its cost
// model (`ppsim --calibration FILE`, `ppbench --calibration FILE`). Written by
// `ppbench calibrate` through CalibrationBuilder. Definitions: docs/calibration.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/op.h"
#include "core/schedule.h"
#include "sim/cost_model.h"

namespace ppb {

// The p-quantile (0 <= p <= 1) of sorted values by linear interpolation between
// closest ranks: h = (n - 1) p, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h])
// (Hyndman and Fan's type 7, numpy's default). Requires a non-empty sorted list.
double percentile_of_sorted(const std::vector<double>& sorted, double p);

struct SampleStats {
  std::size_t samples = 0;
  double median_us = 0;  // percentile 0.5 (the mean of the middle two for an even count)
  double p5_us = 0;
  double p95_us = 0;
};

// Throws InputError when `values` is empty or holds a value that is not finite.
SampleStats summarise_samples(std::vector<double> values);

struct LinkSample {
  std::uint64_t bytes = 0;
  double us = 0;
};

// time(bytes) = latency_us + bytes / bytes_per_us; bytes_per_us = 0 means no
// bandwidth term (infinite bandwidth), as in LinkCost.
struct LinkFit {
  double latency_us = 0;
  double bytes_per_us = 0;
  std::size_t points = 0;     // (bytes, time) points fitted
  double r_squared = 1;       // 1 - SS_res / SS_tot; 1 when SS_tot = 0 and the fit is exact, else 0 there
  double rms_residual_us = 0;
  std::string note;           // why the fit was constrained; empty for a plain least-squares fit
  LinkCost cost() const;
};

// Ordinary least squares of time on bytes. One distinct size: latency only (the
// mean time), no bandwidth term. A negative slope is clamped to zero (latency is
// then the mean time); a negative intercept is clamped to zero and the slope
// refitted through the origin. Either is said in `note`. Throws InputError when
// there are no samples.
LinkFit fit_link(const std::vector<LinkSample>& samples);

struct StageCalibration {
  SampleStats forward;
  SampleStats backward;               // B alone where W was measured apart, else the full backward
  std::optional<SampleStats> weight;  // W, where measured apart
};

struct LinkSizeStats {
  std::uint64_t bytes = 0;
  SampleStats time;
};

struct LinkCalibration {
  int src_rank = 0;
  int dst_rank = 0;
  std::vector<LinkSizeStats> sizes;  // by increasing size
  LinkFit fit;                       // of the per-size medians
};

struct Calibration {
  int num_ranks = 0;
  std::vector<StageCalibration> stages;  // one per stage
  std::vector<LinkCalibration> links;    // by (src, dst)
  std::uint64_t activation_bytes = 0;    // the message size of the calibrated run (0: unknown)
  nlohmann::json context;

  int num_stages() const { return static_cast<int>(stages.size()); }
};

// Collects raw samples and summarises them. Stage op samples: F, B or W of a
// stage, in µs. Link samples: one message of `bytes` from src to dst, in µs.
class CalibrationBuilder {
 public:
  CalibrationBuilder(int num_ranks, int num_stages);
  void add_op_sample(int stage, OpKind kind, double us);
  void add_link_sample(int src_rank, int dst_rank, std::uint64_t bytes, double us);
  void set_activation_bytes(std::uint64_t bytes) { activation_bytes_ = bytes; }
  void set_context(nlohmann::json context) { context_ = std::move(context); }
  // Per size: median, p5, p95; per link: the fit of the per-size medians (one
  // point per size, so sizes weigh the same and a slow outlier moves only its
  // size's median). Throws InputError when a stage has no F or no B samples, or W
  // samples on only some stages.
  Calibration build() const;

 private:
  int num_ranks_;
  std::vector<std::vector<double>> op_samples_;  // [stage * 3 + kind]
  std::map<std::pair<int, int>, std::map<std::uint64_t, std::vector<double>>> link_samples_;
  std::uint64_t activation_bytes_ = 0;
  nlohmann::json context_;
};

nlohmann::json calibration_to_json(const Calibration& calibration);
// Errors name `source` (the file) and the key.
Calibration calibration_from_json(const nlohmann::json& doc, const std::string& source);
Calibration load_calibration_file(const std::string& path);
void save_calibration_file(const Calibration& calibration, const std::string& path);

// The cost model of a schedule from a calibration: per-stage times are the
// medians; B and W as make_cost_model treats --weight-times (a schedule that does
// not split W gets B + W; one that splits W without W in the file shares B evenly);
// every cross-rank link the schedule uses gets its fitted LinkCost in
// link_by_pair. `activation_bytes` is the message size (0: the file's).
// `optimizer_us` is kept as given. Throws InputError naming `source` when the
// stage or rank count differs from the schedule's, or a link the schedule uses
// was not calibrated.
CostModel apply_calibration(const Calibration& calibration, const Schedule& schedule, std::uint64_t activation_bytes,
                            double optimizer_us, const std::string& source);

}  // namespace ppb
