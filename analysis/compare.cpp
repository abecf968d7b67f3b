#include "analysis/compare.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "core/errors.h"

namespace ppb {
namespace {

double first_start(const Timeline& t) {
  double first = INFINITY;
  for (const auto& ops : t.ranks) {
    for (const OpRecord& rec : ops) first = std::min(first, rec.start_us);
  }
  return first;
}

std::string list(const std::vector<int>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + std::to_string(v[i]);
  return out + "]";
}

using OpKey = std::tuple<int, int, int>;  // kind, stage, microbatch
OpKey key_of(const Op& op) { return {static_cast<int>(op.kind), op.stage, op.microbatch}; }

void require_same_schedule(const Timeline& m, const Timeline& p, const std::string& what) {
  auto differ = [&](const std::string& field, const std::string& a, const std::string& b) {
    PPB_THROW(InputError, what, ": different ", field, " (", a, " measured, ", b, " predicted)");
  };
  // Two schedules read from files are labelled by their file names ("file a.csv"):
  // copies of one schedule under two names are the same schedule (the op sets are
  // checked below). Otherwise the generator, or for timelines without one the
  // label, must match.
  const auto from_file = [](const Timeline& t) { return t.generator.empty() && t.schedule.rfind("file", 0) == 0; };
  const bool both_from_files = from_file(m) && from_file(p);
  if (m.generator != p.generator || (m.generator.empty() && m.schedule != p.schedule && !both_from_files)) {
    differ("schedule", m.schedule, p.schedule);
  }
  if (m.num_ranks != p.num_ranks) differ("rank count P", std::to_string(m.num_ranks), std::to_string(p.num_ranks));
  if (m.num_microbatches != p.num_microbatches) {
    differ("microbatch count M", std::to_string(m.num_microbatches), std::to_string(p.num_microbatches));
  }
  if (m.chunks != p.chunks) differ("chunks", std::to_string(m.chunks), std::to_string(p.chunks));
  if (m.stage_rank != p.stage_rank) differ("placement (stage_rank)", list(m.stage_rank), list(p.stage_rank));
  if (m.split_backward != p.split_backward) {
    differ("split_backward", m.split_backward ? "true" : "false", p.split_backward ? "true" : "false");
  }
}

ResidualSummary summarise(const std::vector<OpResidual>& ops, ResidualKind kind) {
  ResidualSummary s;
  if (ops.empty()) return s;
  double sum = 0, squares = 0;
  for (const OpResidual& r : ops) {
    const double v = kind == ResidualKind::Start ? r.start_residual_us() : r.duration_residual_us();
    sum += v;
    squares += v * v;
    s.max_abs_us = std::max(s.max_abs_us, std::abs(v));
  }
  s.mean_us = sum / static_cast<double>(ops.size());
  s.rms_us = std::sqrt(squares / static_cast<double>(ops.size()));
  return s;
}

nlohmann::json op_json(const OpResidual& r) {
  return {{"rank", r.rank},
          {"kind", std::string(1, kind_letter(r.op.kind))},
          {"stage", r.op.stage},
          {"microbatch", r.op.microbatch},
          {"measured_start", r.measured_start_us},
          {"predicted_start", r.predicted_start_us},
          {"start_residual", r.start_residual_us()},
          {"measured_duration", r.measured_duration_us},
          {"predicted_duration", r.predicted_duration_us},
          {"duration_residual", r.duration_residual_us()}};
}

nlohmann::json summary_json(const ResidualSummary& s) {
  return {{"mean", s.mean_us}, {"rms", s.rms_us}, {"max_abs", s.max_abs_us}};
}

}  // namespace

Comparison compare_timelines(const Timeline& m, const Timeline& p, const std::string& measured_source,
                             const std::string& predicted_source) {
  const std::string what = measured_source + " and " + predicted_source + " are not the same schedule";
  require_same_schedule(m, p, what);

  Comparison c;
  const double m0 = first_start(m), p0 = first_start(p);
  for (int r = 0; r < m.num_ranks; ++r) {
    const auto& mops = m.ranks[static_cast<std::size_t>(r)];
    const auto& pops = p.ranks[static_cast<std::size_t>(r)];
    std::map<OpKey, const OpRecord*> predicted;
    for (const OpRecord& rec : pops) {
      PPB_REQUIRE_INPUT(predicted.emplace(key_of(rec.op), &rec).second, predicted_source, ": rank ", r, " runs ",
                        describe(rec.op), " twice");
    }
    std::map<OpKey, bool> seen;
    for (const OpRecord& rec : mops) {
      PPB_REQUIRE_INPUT(seen.emplace(key_of(rec.op), true).second, measured_source, ": rank ", r, " runs ",
                        describe(rec.op), " twice");
      const auto it = predicted.find(key_of(rec.op));
      PPB_REQUIRE_INPUT(it != predicted.end(), what, ": rank ", r, " has ", describe(rec.op),
                        " only in the measured timeline");
      OpResidual res;
      res.rank = r;
      res.op = rec.op;
      res.measured_start_us = rec.start_us - m0;
      res.predicted_start_us = it->second->start_us - p0;
      res.measured_duration_us = rec.end_us - rec.start_us;
      res.predicted_duration_us = it->second->end_us - it->second->start_us;
      c.ops.push_back(res);
    }
    for (const OpRecord& rec : pops) {
      PPB_REQUIRE_INPUT(seen.count(key_of(rec.op)) != 0, what, ": rank ", r, " has ", describe(rec.op),
                        " only in the predicted timeline");
    }
  }

  c.measured = compute_metrics(m);
  c.predicted = compute_metrics(p);
  PPB_REQUIRE_INPUT(c.measured.makespan_us > 0, measured_source, ": the makespan is zero");
  c.makespan_error = (c.measured.makespan_us - c.predicted.makespan_us) / c.measured.makespan_us;
  c.bubble_error_points = 100.0 * (c.measured.bubble_fraction - c.predicted.bubble_fraction);
  c.start = summarise(c.ops, ResidualKind::Start);
  c.duration = summarise(c.ops, ResidualKind::Duration);
  c.measured_idle = idle_breakdown(m);
  c.predicted_idle = idle_breakdown(p);
  return c;
}

std::vector<OpResidual> worst_ops(const std::vector<OpResidual>& ops, ResidualKind kind, int n) {
  auto size = [kind](const OpResidual& r) {
    return std::abs(kind == ResidualKind::Start ? r.start_residual_us() : r.duration_residual_us());
  };
  std::vector<OpResidual> sorted = ops;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const OpResidual& a, const OpResidual& b) { return size(a) > size(b); });
  if (n >= 0 && sorted.size() > static_cast<std::size_t>(n)) sorted.resize(static_cast<std::size_t>(n));
  return sorted;
}

nlohmann::json idle_breakdown_to_json(const std::vector<IdleBreakdown>& ranks) {
  nlohmann::json out = nlohmann::json::array();
  for (const IdleBreakdown& b : ranks) {
    out.push_back({{"rank", b.rank},
                   {"idle", b.idle_us},
                   {"warmup_cooldown", b.warmup_cooldown_us()},
                   {"warmup", b.warmup_us},
                   {"cooldown", b.cooldown_us},
                   {"transfer_wait", b.transfer_wait_us},
                   {"imbalance", b.imbalance_us}});
  }
  return out;
}

nlohmann::json comparison_to_json(const Comparison& c, int top) {
  nlohmann::json ops = nlohmann::json::array();
  for (const OpResidual& r : c.ops) ops.push_back(op_json(r));
  auto worst = [&](ResidualKind kind) {
    nlohmann::json out = nlohmann::json::array();
    for (const OpResidual& r : worst_ops(c.ops, kind, top)) out.push_back(op_json(r));
    return out;
  };
  return {{"time_unit", "us"},
          {"makespan",
           {{"measured", c.measured.makespan_us}, {"predicted", c.predicted.makespan_us}, {"error", c.makespan_error}}},
          {"bubble",
           {{"measured", c.measured.bubble_fraction},
            {"predicted", c.predicted.bubble_fraction},
            {"error_points", c.bubble_error_points}}},
          {"residuals", {{"start", summary_json(c.start)}, {"duration", summary_json(c.duration)}}},
          {"worst_start", worst(ResidualKind::Start)},
          {"worst_duration", worst(ResidualKind::Duration)},
          {"idle_breakdown",
           {{"measured", idle_breakdown_to_json(c.measured_idle)},
            {"predicted", idle_breakdown_to_json(c.predicted_idle)}}},
          {"ops", std::move(ops)}};
}

}  // namespace ppb
