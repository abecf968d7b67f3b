// How long each op and each transfer takes, for the simulator. Times are in
// microseconds inside the program; the command lines take milliseconds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/op.h"
#include "core/schedule.h"

namespace ppb {

// Cost of one message on one link: a fixed time when `fixed_us` is set,
// otherwise latency plus bytes over bandwidth.
struct LinkCost {
  std::optional<double> fixed_us;
  double latency_us = 0;
  double bytes_per_us = 0;  // 0: infinite bandwidth
  double cost_us(std::uint64_t bytes) const;
};

struct CostModel {
  std::vector<double> forward_us;   // per stage
  std::vector<double> backward_us;  // per stage: B alone when split, else the full backward
  std::vector<double> weight_us;    // per stage; used when the schedule splits W
  double optimizer_us = 0;          // 0: no optimizer step
  std::uint64_t activation_bytes = 0;
  LinkCost link;                                        // every link, unless overridden
  std::map<std::pair<int, int>, LinkCost> link_by_pair;  // (src rank, dst rank) overrides

  double op_us(const Op& op) const;
  double transfer_us(int src_rank, int dst_rank) const;
};

// The user's inputs, as given on a command line or in a config file (ms).
struct CostInputs {
  std::vector<double> forward_ms{1.0};
  std::vector<double> backward_ms{2.0};
  std::vector<double> weight_ms;  // empty: not given
  std::optional<double> p2p_time_ms;
  double p2p_latency_ms = 0;
  double bandwidth_gbps = 0;  // GB/s (1e9 bytes per second); 0: infinite
  std::uint64_t activation_bytes = 0;
  // 0 bytes is a message size (latency-only messages) when this is set: by
  // --activation-bytes (command line or config file) or a program's default
  // (ppbench). --calibration needs a size: a positive one, or 0 set this way.
  bool activation_bytes_known = false;
  double optimizer_ms = 0;
  // --calibration: per-stage times and per-link costs from a ppbench.calibration/1
  // file instead of the time flags (analysis/calibration.h, docs/calibration.md).
  std::string calibration_file;
  // The time flags given (on the command line or in a config file), recorded by
  // add_cost_options: make_cost_model refuses them beside a calibration file.
  std::set<std::string> time_flags_given;
};

// One time as given on a command line (ms; a bandwidth in GB/s with scale 1e3):
// finite, positive (>= 0 with allow_zero), and finite once multiplied by `scale`
// into the model's units. Throws InputError "FLAG: reason". make_cost_model
// applies it to every value; the command lines also at parse time, so that a
// config file's value is reported with the file and key.
void require_time(double value, const char* flag, bool allow_zero, double scale = 1000.0);

// Builds the per-stage cost model for a schedule. A times list has one value per
// rank or one for all; each rank's time is split evenly over its chunks. When W
// times are given and the schedule does not split W, backward takes B + W; when
// the schedule splits W and no W times are given, the backward time is shared
// evenly by B and W. Throws InputError naming the flag on bad values.
// With a calibration file, the model is the file's (calibrated_cost_model in
// analysis/calibration.h): any time flag given is refused (naming it and
// --calibration), --activation-bytes (required) is the message size the link
// fits are evaluated at (0 bytes: the latency alone), and --optimizer-time still
// applies.
CostModel make_cost_model(const CostInputs& inputs, const Schedule& schedule);

}  // namespace ppb
