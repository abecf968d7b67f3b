#include "analysis/replay.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "sim/simulator.h"

namespace ppb {

double median_of(std::vector<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

LinkCostEstimate estimate_link_cost(const std::vector<TransferRecord>& transfers) {
  std::vector<double> all, waiting;
  for (const TransferRecord& x : transfers) {
    if (!std::isfinite(x.send_us) || !std::isfinite(x.arrive_us)) continue;
    const double cost = std::max(0.0, x.arrive_us - x.send_us);
    all.push_back(cost);
    if (x.wait_start_us <= x.arrive_us) waiting.push_back(cost);  // false for NaN
  }
  LinkCostEstimate e;
  e.samples = static_cast<int>(all.size());
  e.waiting_samples = static_cast<int>(waiting.size());
  e.cost_us = median_of(waiting.empty() ? all : waiting);
  return e;
}

std::map<std::pair<int, int>, LinkCostEstimate> measured_link_costs(const std::vector<Timeline>& iterations) {
  std::map<std::pair<int, int>, std::vector<TransferRecord>> by_link;
  for (const Timeline& t : iterations) {
    for (const TransferRecord& x : t.transfers) by_link[{x.src_rank, x.dst_rank}].push_back(x);
  }
  std::map<std::pair<int, int>, LinkCostEstimate> costs;
  for (const auto& [link, transfers] : by_link) {
    const LinkCostEstimate estimate = estimate_link_cost(transfers);
    if (estimate.samples > 0) costs[link] = estimate;
  }
  return costs;
}

CostModel measured_cost_model(const std::vector<Timeline>& iterations, const CostModel& nominal) {
  CostModel model = nominal;
  const std::size_t stages = nominal.forward_us.size();
  // durations[kind][stage]: every measured duration of that op kind and stage.
  std::vector<std::vector<std::vector<double>>> durations(
      kNumComputeKinds, std::vector<std::vector<double>>(stages));
  std::vector<double> optimizer;
  for (const Timeline& t : iterations) {
    for (const auto& ops : t.ranks) {
      for (const OpRecord& rec : ops) {
        const double us = rec.end_us - rec.start_us;
        if (rec.op.kind == OpKind::Optimizer) {
          optimizer.push_back(us);
        } else if (rec.op.stage >= 0 && static_cast<std::size_t>(rec.op.stage) < stages) {
          durations[static_cast<std::size_t>(rec.op.kind)][static_cast<std::size_t>(rec.op.stage)].push_back(us);
        }
      }
    }
  }
  std::vector<double>* per_kind[kNumComputeKinds] = {&model.forward_us, &model.backward_us, &model.weight_us};
  for (int k = 0; k < kNumComputeKinds; ++k) {
    std::vector<double>& target = *per_kind[k];
    for (std::size_t s = 0; s < stages && s < target.size(); ++s) {
      if (!durations[static_cast<std::size_t>(k)][s].empty()) target[s] = median_of(durations[static_cast<std::size_t>(k)][s]);
    }
  }
  if (!optimizer.empty()) model.optimizer_us = median_of(optimizer);
  for (const auto& [link, estimate] : measured_link_costs(iterations)) {
    LinkCost cost;
    cost.fixed_us = estimate.cost_us;
    model.link_by_pair[link] = cost;
  }
  return model;
}

Timeline replay_timeline(const Schedule& schedule, const std::vector<Timeline>& iterations, const CostModel& nominal) {
  Timeline t = simulate(schedule, measured_cost_model(iterations, nominal));
  t.source = "replay";
  return t;
}

}  // namespace ppb
