#include "sim/cost_model.h"

#include <cmath>

#include "analysis/calibration.h"
#include "core/errors.h"

namespace ppb {

double LinkCost::cost_us(std::uint64_t bytes) const {
  if (fixed_us) return *fixed_us;
  const double wire = bytes_per_us > 0 ? static_cast<double>(bytes) / bytes_per_us : 0.0;
  return latency_us + wire;
}

double CostModel::op_us(const Op& op) const {
  const auto s = static_cast<std::size_t>(op.stage);
  switch (op.kind) {
    case OpKind::F: return forward_us[s];
    case OpKind::B: return backward_us[s];
    case OpKind::W: return weight_us[s];
    case OpKind::Optimizer: return optimizer_us;
  }
  return 0;
}

double CostModel::transfer_us(int src_rank, int dst_rank) const {
  if (src_rank == dst_rank) return 0;
  const auto it = link_by_pair.find({src_rank, dst_rank});
  return (it != link_by_pair.end() ? it->second : link).cost_us(activation_bytes);
}

// `scale` converts the flag's unit to the model's (ms -> us, GB/s -> B/us): a
// value that is finite as typed can still overflow to infinity there.
void require_time(double value, const char* flag, bool allow_zero, double scale) {
  PPB_REQUIRE_INPUT(std::isfinite(value), flag, ": times must be finite numbers (got ", value, ")");
  if (allow_zero) {
    PPB_REQUIRE_INPUT(value >= 0, flag, ": must not be negative (got ", value, ")");
  } else {
    PPB_REQUIRE_INPUT(value > 0, flag, ": times must be positive (got ", value, ")");
  }
  PPB_REQUIRE_INPUT(std::isfinite(value * scale), flag, ": ", value,
                    " is too large (not a finite number once converted to the simulator's units)");
}

namespace {

// Each value may be finite and still add up to infinity over an iteration. The
// makespan is at most the sum of every op's and every transfer's time (a chain of
// ops and transfers, each counted once), so a finite sum keeps every simulated
// time finite. The message names the flag whose share is largest.
void require_finite_iteration(const CostModel& m, const Schedule& schedule) {
  double forward = 0, backward = 0, weight = 0, transfers = 0;
  for (const auto& list : schedule.ops) {
    for (const Op& op : list) {
      const double us = m.op_us(op);
      (op.kind == OpKind::F ? forward : op.kind == OpKind::B ? backward : weight) += us;
    }
  }
  for (int stage = 0; stage + 1 < schedule.num_stages(); ++stage) {
    const int a = schedule.rank_of(stage), b = schedule.rank_of(stage + 1);
    transfers += schedule.num_microbatches * (m.transfer_us(a, b) + m.transfer_us(b, a));
  }
  const double optimizer = m.optimizer_us;
  if (std::isfinite(forward + backward + weight + transfers + optimizer)) return;
  const std::pair<double, const char*> shares[] = {
      {forward, "--forward-times"}, {backward, "--backward-times"}, {weight, "--weight-times"},
      {transfers, m.link.fixed_us ? "--p2p-time" : "--p2p-latency"}, {optimizer, "--optimizer-time"}};
  const auto* largest = &shares[0];
  for (const auto& share : shares) {
    if (share.first > largest->first) largest = &share;
  }
  PPB_THROW(InputError, largest->second, ": times too large: one iteration of ", schedule.total_ops(),
            " ops would last longer than a double can count in microseconds");
}

// One value per stage, in microseconds, from a per-rank (or single) list in ms.
std::vector<double> per_stage_us(const std::vector<double>& ms, const char* flag, const Schedule& schedule) {
  const auto ranks = static_cast<std::size_t>(schedule.num_ranks);
  PPB_REQUIRE_INPUT(ms.size() == 1 || ms.size() == ranks, flag, ": expected 1 or ", ranks, " values (one per rank), got ",
                    ms.size());
  for (double v : ms) require_time(v, flag, false);
  std::vector<double> us(static_cast<std::size_t>(schedule.num_stages()));
  for (int stage = 0; stage < schedule.num_stages(); ++stage) {
    const double rank_ms = ms.size() == 1 ? ms[0] : ms[static_cast<std::size_t>(schedule.rank_of(stage))];
    us[static_cast<std::size_t>(stage)] = rank_ms * 1000.0 / schedule.chunks;
  }
  return us;
}

}  // namespace

CostModel make_cost_model(const CostInputs& in, const Schedule& schedule) {
  if (!in.calibration_file.empty()) {
    // One source of times: mixing a measured file with hand-set times would give
    // a prediction that is neither.
    PPB_REQUIRE_INPUT(in.time_flags_given.empty(), *in.time_flags_given.begin(),
                      ": cannot be used with --calibration (the calibration file gives the times)");
    return calibrated_cost_model(in, schedule);
  }
  CostModel model;
  model.forward_us = per_stage_us(in.forward_ms, "--forward-times", schedule);
  model.backward_us = per_stage_us(in.backward_ms, "--backward-times", schedule);
  if (!in.weight_ms.empty()) {
    model.weight_us = per_stage_us(in.weight_ms, "--weight-times", schedule);
    if (!schedule.split_backward) {
      for (std::size_t s = 0; s < model.backward_us.size(); ++s) model.backward_us[s] += model.weight_us[s];
    }
  } else if (schedule.split_backward) {
    for (double& b : model.backward_us) b /= 2;
    model.weight_us = model.backward_us;
  }
  if (model.weight_us.empty()) model.weight_us.assign(model.backward_us.size(), 0.0);

  require_time(in.optimizer_ms, "--optimizer-time", true);
  model.optimizer_us = in.optimizer_ms * 1000.0;
  if (in.p2p_time_ms) {
    require_time(*in.p2p_time_ms, "--p2p-time", true);
    model.link.fixed_us = *in.p2p_time_ms * 1000.0;
  }
  require_time(in.p2p_latency_ms, "--p2p-latency", true);
  require_time(in.bandwidth_gbps, "--bandwidth", true, 1e3);
  model.link.latency_us = in.p2p_latency_ms * 1000.0;
  model.link.bytes_per_us = in.bandwidth_gbps * 1e3;  // 1 GB/s = 1e9 B/s = 1e3 B/us
  model.activation_bytes = in.activation_bytes;
  require_finite_iteration(model, schedule);
  return model;
}

}  // namespace ppb
