#include "analysis/metrics.h"

#include <algorithm>
#include <limits>

namespace ppb {

std::optional<double> analytic_bubble(const std::string& generator, int num_ranks, int num_microbatches, int chunks) {
  const double p = num_ranks, m = num_microbatches;
  if (generator == "gpipe" || generator == "1f1b") return (p - 1) / (m + p - 1);
  if (generator == "interleaved") return (p - 1) / (chunks * m + p - 1);
  return std::nullopt;
}

int peak_activations(const std::vector<OpRecord>& ops, bool split_backward) {
  const OpKind release = split_backward ? OpKind::W : OpKind::B;
  int live = 0, peak = 0;
  for (const OpRecord& rec : ops) {
    if (rec.op.kind == OpKind::F) peak = std::max(peak, ++live);
    else if (rec.op.kind == release) --live;
  }
  return peak;
}

OpSpan op_span(const Timeline& t) {
  double first = std::numeric_limits<double>::infinity();
  double last = -std::numeric_limits<double>::infinity();
  for (const auto& ops : t.ranks) {
    for (const OpRecord& rec : ops) {
      first = std::min(first, rec.start_us);
      last = std::max(last, rec.end_us);
    }
  }
  return first <= last ? OpSpan{first, last} : OpSpan{};  // no ops: both 0
}

Metrics compute_metrics(const Timeline& t) {
  Metrics m;
  m.makespan_us = op_span(t).length_us();
  double total_busy = 0;
  for (int r = 0; r < t.num_ranks; ++r) {
    RankMetrics rm;
    rm.rank = r;
    for (const OpRecord& rec : t.ranks[static_cast<std::size_t>(r)]) rm.busy_us += rec.end_us - rec.start_us;
    rm.idle_us = m.makespan_us - rm.busy_us;
    rm.bubble_fraction = m.makespan_us > 0 ? 1.0 - rm.busy_us / m.makespan_us : 0.0;
    rm.peak_activations = peak_activations(t.ranks[static_cast<std::size_t>(r)], t.split_backward);
    total_busy += rm.busy_us;
    m.ranks.push_back(rm);
  }
  m.bubble_fraction = m.makespan_us > 0 ? 1.0 - total_busy / (t.num_ranks * m.makespan_us) : 0.0;
  // By how the schedule was made: a file's schedule has no formula, whatever its name.
  m.analytic_bubble = analytic_bubble(t.generator, t.num_ranks, t.num_microbatches, t.chunks);
  return m;
}

}  // namespace ppb
