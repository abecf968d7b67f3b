#include "analysis/run_summary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "analysis/metrics.h"
#include "analysis/replay.h"
#include "analysis/timeline_source.h"

namespace ppb {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Key of an op for lookups: (kind, stage, microbatch).
std::tuple<int, int, int> key(const Op& op) { return {int(op.kind), op.stage, op.microbatch}; }

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json to_json(const Distribution& d) {
  return {{"median", d.median}, {"min", d.min}, {"max", d.max}, {"p95", d.p95}};
}

}  // namespace

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(fraction * static_cast<double>(values.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

Distribution distribution_of(const std::vector<double>& values) {
  Distribution d;
  d.median = percentile(values, 0.5);
  d.min = *std::min_element(values.begin(), values.end());
  d.max = *std::max_element(values.begin(), values.end());
  d.p95 = percentile(values, 0.95);
  return d;
}

std::vector<double> harness_overhead_us(const Timeline& t) {
  std::map<std::tuple<int, int, int>, double> end_of;
  for (const auto& ops : t.ranks) {
    for (const OpRecord& rec : ops) end_of[key(rec.op)] = rec.end_us;
  }
  // Arrival of producer's data at a rank: (producer, dst rank) -> arrive.
  std::map<std::pair<std::tuple<int, int, int>, int>, double> arrival;
  for (const TransferRecord& x : t.transfers) arrival[{key(x.producer), x.dst_rank}] = x.arrive_us;

  const int last_stage = t.num_stages() - 1;
  std::vector<double> gaps;
  for (int r = 0; r < static_cast<int>(t.ranks.size()); ++r) {
    const auto& ops = t.ranks[static_cast<std::size_t>(r)];
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i].op;
      double ready = i > 0 ? ops[i - 1].end_us : -std::numeric_limits<double>::infinity();
      bool known = i > 0;
      Op producers[2];
      int n = 0;
      if (op.kind == OpKind::F && op.stage > 0) producers[n++] = Op{OpKind::F, op.stage - 1, op.microbatch};
      if (op.kind == OpKind::B) {
        producers[n++] = Op{OpKind::F, op.stage, op.microbatch};
        if (op.stage < last_stage) producers[n++] = Op{OpKind::B, op.stage + 1, op.microbatch};
      }
      if (op.kind == OpKind::W) producers[n++] = Op{OpKind::B, op.stage, op.microbatch};
      for (int p = 0; p < n; ++p) {
        const int src = t.stage_rank[static_cast<std::size_t>(producers[p].stage)];
        double at = kNaN;
        if (src == r) {
          const auto it = end_of.find(key(producers[p]));
          if (it != end_of.end()) at = it->second;
        } else {
          const auto it = arrival.find({key(producers[p]), r});
          if (it != arrival.end()) at = it->second;
        }
        if (std::isfinite(at)) {
          ready = std::max(ready, at);
          known = true;
        }
      }
      if (known) gaps.push_back(ops[i].start_us - ready);
    }
  }
  return gaps;
}

RunSummary summarize_run(const std::vector<Timeline>& measured, const Timeline& predicted, const Timeline& replay,
                         const CostModel& targets) {
  RunSummary s;
  s.iterations = measured.size();
  std::vector<double> makespans, bubbles, overheads;
  std::vector<std::vector<double>> rank_bubbles(static_cast<std::size_t>(predicted.num_ranks));
  for (const Timeline& t : measured) {
    const Metrics m = compute_metrics(t);
    makespans.push_back(m.makespan_us);
    bubbles.push_back(m.bubble_fraction);
    for (const RankMetrics& r : m.ranks) rank_bubbles[static_cast<std::size_t>(r.rank)].push_back(r.bubble_fraction);
    const std::vector<double> gaps = harness_overhead_us(t);
    overheads.insert(overheads.end(), gaps.begin(), gaps.end());
  }
  s.makespan_us = distribution_of(makespans);
  s.bubble_fraction = distribution_of(bubbles);
  s.median_iteration = static_cast<std::size_t>(median_index(makespans));
  s.measured_makespan_us = makespans[s.median_iteration];
  s.measured_bubble = bubbles[s.median_iteration];
  const Metrics p = compute_metrics(predicted);
  const Metrics rp = compute_metrics(replay);
  s.predicted_makespan_us = p.makespan_us;
  s.predicted_bubble = p.bubble_fraction;
  s.replay_makespan_us = rp.makespan_us;
  s.replay_bubble = rp.bubble_fraction;
  s.analytic_bubble = p.analytic_bubble;
  for (const RankMetrics& r : p.ranks) s.rank_predicted_peak_activations.push_back(r.peak_activations);
  s.makespan_rel_error = (s.measured_makespan_us - s.predicted_makespan_us) / s.measured_makespan_us;
  s.bubble_pp_error = 100.0 * (s.measured_bubble - s.predicted_bubble);
  s.replay_makespan_rel_error = (s.measured_makespan_us - s.replay_makespan_us) / s.measured_makespan_us;
  s.replay_bubble_pp_error = 100.0 * (s.measured_bubble - s.replay_bubble);
  for (const auto& per_rank : rank_bubbles) s.rank_bubble.push_back(median_of(per_rank));
  s.overhead_ops = overheads.size();
  s.overhead_median_us = median_of(overheads);
  s.overhead_p99_us = percentile(overheads, 0.99);

  for (const auto& [link, cost] : measured_link_costs(measured)) {
    s.replay_links.push_back(ReplayLink{link.first, link.second, cost});
  }
  const CostModel medians = measured_cost_model(measured, targets);
  const std::vector<double>* target_lists[3] = {&targets.forward_us, &targets.backward_us, &targets.weight_us};
  const std::vector<double>* measured_lists[3] = {&medians.forward_us, &medians.backward_us, &medians.weight_us};
  for (int stage = 0; stage < predicted.num_stages(); ++stage) {
    StageDurations d;
    d.stage = stage;
    for (int k = 0; k < 3; ++k) {
      const bool runs = k != int(OpKind::W) || predicted.split_backward;
      const auto s_index = static_cast<std::size_t>(stage);
      d.target_us[k] = runs ? (*target_lists[k])[s_index] : kNaN;
      d.measured_us[k] = runs ? (*measured_lists[k])[s_index] : kNaN;
    }
    s.stages.push_back(d);
  }
  return s;
}

nlohmann::json summary_to_json(const RunSummary& s, const nlohmann::json& context) {
  nlohmann::json stages = nlohmann::json::array();
  for (const StageDurations& d : s.stages) {
    nlohmann::json j{{"stage", d.stage}};
    const char* names[3] = {"F", "B", "W"};
    for (int k = 0; k < 3; ++k) {
      if (!std::isfinite(d.target_us[k])) continue;
      j[names[k]] = {{"median_us", number_or_null(d.measured_us[k])}, {"target_us", d.target_us[k]}};
    }
    stages.push_back(std::move(j));
  }
  nlohmann::json links = nlohmann::json::array();
  for (const ReplayLink& l : s.replay_links) {
    links.push_back({{"src_rank", l.src_rank},
                     {"dst_rank", l.dst_rank},
                     {"cost_us", number_or_null(l.cost.cost_us)},
                     {"samples", l.cost.samples},
                     {"waiting_samples", l.cost.waiting_samples}});
  }
  nlohmann::json ranks = nlohmann::json::array();
  for (std::size_t r = 0; r < s.rank_bubble.size(); ++r) {
    nlohmann::json rank{{"rank", r}, {"bubble_fraction", number_or_null(s.rank_bubble[r])}};
    if (r < s.rank_predicted_peak_activations.size()) {
      rank["predicted_peak_activations"] = s.rank_predicted_peak_activations[r];
      if (s.activation_bytes > 0) {
        rank["predicted_peak_activation_bytes"] =
            static_cast<std::uint64_t>(s.rank_predicted_peak_activations[r]) * s.activation_bytes;
      }
    }
    if (r < s.rank_peak_buffer_bytes.size()) rank["peak_buffer_bytes"] = s.rank_peak_buffer_bytes[r];
    ranks.push_back(std::move(rank));
  }
  return nlohmann::json{
      {"schema", "ppbench.summary/1"},
      {"time_unit", "us"},
      {"iterations", s.iterations},
      {"measured",
       {{"median_iteration",
         {{"index", s.median_iteration},
          {"makespan", s.measured_makespan_us},
          {"bubble_fraction", s.measured_bubble}}},
        {"makespan", to_json(s.makespan_us)},
        {"bubble_fraction", to_json(s.bubble_fraction)}}},
      {"predicted", {{"makespan", s.predicted_makespan_us}, {"bubble_fraction", s.predicted_bubble}}},
      {"replay",
       {{"makespan", s.replay_makespan_us}, {"bubble_fraction", s.replay_bubble}, {"links", std::move(links)}}},
      {"analytic_bubble", s.analytic_bubble ? nlohmann::json(*s.analytic_bubble) : nlohmann::json(nullptr)},
      {"error",
       {{"makespan_rel", s.makespan_rel_error},
        {"bubble_pp", s.bubble_pp_error},
        {"replay_makespan_rel", s.replay_makespan_rel_error},
        {"replay_bubble_pp", s.replay_bubble_pp_error}}},
      {"stages", std::move(stages)},
      {"ranks", std::move(ranks)},
      {"harness_overhead",
       {{"median_us", number_or_null(s.overhead_median_us)},
        {"p99_us", number_or_null(s.overhead_p99_us)},
        {"ops", s.overhead_ops}}},
      {"context", context}};
}

}  // namespace ppb
