// Calibration files (schema "ppbench.calibration/1"): each pipeline rank's
// stage F, B and W times measured in isolation and each link's message cost at
// several sizes with a latency + size / bandwidth fit. The simulator uses them as
// its cost model (`ppsim --calibration FILE`, `ppbench --calibration FILE`).
// Written by `ppbench calibrate` through CalibrationBuilder. Definitions and
// the file format: docs/calibration.md.
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
#include "core/timeline.h"
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
  std::size_t points = 0;        // (bytes, time) points fitted
  double r_squared = 1;          // weighted 1 - SS_res / SS_tot of the line used; see fit_link
  double max_rel_residual = 0;   // largest |time - line| / time over the points
  std::string note;            // why the fit was constrained; empty for a plain least-squares fit
  LinkCost cost() const;
  double bandwidth_gbps() const { return bytes_per_us / 1e3; }  // 1 GB/s = 1e3 bytes/us
};

// Weighted least squares of time on bytes with weights 1 / time^2 (relative
// residuals, so every size counts, not only the largest; times are floored at
// 1% of the largest, and at 1 ns, for the weight). One distinct size: latency
// only (the weighted mean time), no bandwidth term. A negative slope is clamped
// to zero (latency is then the weighted mean time); a negative intercept is
// clamped to zero and the slope refitted through the origin. Either is said in
// `note`, and r_squared is that of the constrained line (it can be negative
// then). When every time is the same, r_squared is 1 if the line hits them all,
// else 0. Throws InputError when there are no samples or a time is not finite.
LinkFit fit_link(const std::vector<LinkSample>& samples);

// The schedules `ppbench calibrate` measures on P ranks: one microbatch of GPipe
// (of zb-h1 when W is measured apart), so that no two ops and no two transfers
// are ever in flight at once (zb-h1: W of a rank may overlap the B of the rank
// before it). The first has stage s on rank s and measures the links r <-> r+1.
// For P > 2 a second moves every stage one rank on (stage s on rank (s+1) % P),
// which also measures the link between rank P-1 and rank 0 that interleaved
// schedules use. Every schedule is validated.
std::vector<Schedule> calibration_schedules(int num_ranks, bool split_backward);

// One pipeline rank's stage (calibration runs one stage per rank).
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
  std::vector<StageCalibration> stages;  // by rank: stages[r] is rank r's stage
  std::vector<LinkCalibration> links;    // by (src, dst)
  nlohmann::json measurement;            // how it was measured (free form; null when absent)
  nlohmann::json context;                // null when absent

  bool has_weight() const { return !stages.empty() && stages.front().weight.has_value(); }
  const LinkCalibration* link(int src_rank, int dst_rank) const;
};

// Collects raw samples and summarises them. Op samples: F, B or W of a rank's
// stage, in µs. Link samples: one message of `bytes` from src to dst, in µs.
class CalibrationBuilder {
 public:
  explicit CalibrationBuilder(int num_ranks);
  void add_op_sample(int rank, OpKind kind, double us);
  void add_link_sample(int src_rank, int dst_rank, std::uint64_t bytes, double us);
  // Every compute op of a measured iteration is an op sample of its rank; every
  // transfer with a send and an arrival gives arrive - send as a link sample
  // (a negative difference, possible only through clock-alignment error, counts
  // as 0). Optimizer steps are not calibrated.
  void add_iteration(const Timeline& measured);
  void set_measurement(nlohmann::json measurement) { measurement_ = std::move(measurement); }
  void set_context(nlohmann::json context) { context_ = std::move(context); }
  // Per rank and kind, and per link and size: median, p5, p95. Per link: the fit
  // of the per-size medians (one point per size, so sizes weigh the same and a
  // slow outlier moves only its size's median). Throws InputError when a rank
  // has no F or no B samples, or W samples on only some ranks.
  Calibration build() const;

 private:
  int num_ranks_;
  std::vector<std::vector<double>> op_samples_;  // [rank * kNumComputeKinds + kind]
  std::map<std::pair<int, int>, std::map<std::uint64_t, std::vector<double>>> link_samples_;
  nlohmann::json measurement_;
  nlohmann::json context_;
};

nlohmann::json calibration_to_json(const Calibration& calibration);
// Errors name `source` (the file) and the key path ("stages[1].forward.median_us").
Calibration calibration_from_json(const nlohmann::json& doc, const std::string& source);
Calibration load_calibration_file(const std::string& path);
void save_calibration_file(const Calibration& calibration, const std::string& path);

// The cost model of a schedule from a calibration. Stage s gets the medians of
// its rank's stage split evenly over the rank's chunks, as make_cost_model
// splits per-rank times; B and W as make_cost_model treats --weight-times (a
// schedule that does not split W gets B + W; one that splits W without W in
// the file shares B evenly). Every calibrated link goes into link_by_pair.
// `activation_bytes` is the message size the link fits are evaluated at.
// `optimizer_us` is kept as given. Throws InputError naming `source` when the
// rank count differs from the schedule's or a link the schedule uses was not
// calibrated.
CostModel apply_calibration(const Calibration& calibration, const Schedule& schedule, std::uint64_t activation_bytes,
                            double optimizer_us, const std::string& source);

// The cost model for `inputs.calibration_file`: loads it and applies it with
// inputs.activation_bytes (which must be positive, or 0 with
// inputs.activation_bytes_known: the link cost depends on the message size, and
// 0 bytes given on purpose costs the latency alone) and
// inputs.optimizer_ms. Errors name the file or the flag.
CostModel calibrated_cost_model(const CostInputs& inputs, const Schedule& schedule);

}  // namespace ppb
