// Calibration statistics, the link fit, the builder and the cost model a
// calibration gives a schedule. The file format is in calibration_json.cpp.
#include "analysis/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/errors.h"
#include "schedules/generators.h"

namespace ppb {

double percentile_of_sorted(const std::vector<double>& sorted, double p) {
  PPB_ASSERT(!sorted.empty(), "percentile of no values");
  const double h = (static_cast<double>(sorted.size()) - 1) * std::clamp(p, 0.0, 1.0);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

SampleStats summarise_samples(std::vector<double> values) {
  PPB_REQUIRE_INPUT(!values.empty(), "calibration: no samples to summarise");
  for (double v : values) PPB_REQUIRE_INPUT(std::isfinite(v), "calibration: a sample is not finite (", v, ")");
  std::sort(values.begin(), values.end());
  SampleStats s;
  s.samples = values.size();
  s.median_us = percentile_of_sorted(values, 0.5);
  s.p5_us = percentile_of_sorted(values, 0.05);
  s.p95_us = percentile_of_sorted(values, 0.95);
  return s;
}

LinkCost LinkFit::cost() const {
  LinkCost c;
  c.latency_us = latency_us;
  c.bytes_per_us = bytes_per_us;
  return c;
}

namespace {

std::string number(double v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

}  // namespace

LinkFit fit_link(const std::vector<LinkSample>& samples) {
  PPB_REQUIRE_INPUT(!samples.empty(), "calibration: a link has no samples to fit");
  double max_y = 0;
  std::set<std::uint64_t> sizes;
  for (const LinkSample& s : samples) {
    PPB_REQUIRE_INPUT(std::isfinite(s.us), "calibration: a link sample is not finite (", s.us, ")");
    max_y = std::max(max_y, std::abs(s.us));
    sizes.insert(s.bytes);
  }
  // Relative residuals: w = 1 / time^2, so a 4 KiB message's 20 us weighs as
  // much as a 16 MiB message's 4 ms. Plain least squares would let the largest
  // size decide the line and leave the latency to its noise. The floor keeps a
  // zero time from taking all the weight.
  const double floor_us = std::max(1e-3, 1e-2 * max_y);
  std::vector<double> w;
  double sw = 0, mean_x = 0, mean_y = 0;
  for (const LinkSample& s : samples) {
    const double y = std::max(std::abs(s.us), floor_us);
    w.push_back(1 / (y * y));
    sw += w.back();
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    mean_x += w[i] / sw * static_cast<double>(samples[i].bytes);
    mean_y += w[i] / sw * samples[i].us;
  }
  LinkFit fit;
  fit.points = samples.size();
  double slope = 0, intercept = mean_y;
  if (sizes.size() == 1) {
    fit.note = "one message size (" + std::to_string(*sizes.begin()) + " bytes): latency only, no bandwidth term";
  } else {
    // Centred sums: the sizes span several orders of magnitude.
    double sxx = 0, sxy = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const double dx = static_cast<double>(samples[i].bytes) - mean_x;
      sxx += w[i] * dx * dx;
      sxy += w[i] * dx * (samples[i].us - mean_y);
    }
    slope = sxy / sxx;
    // Rounding noise on constant times is no bandwidth term.
    double max_x = 0;
    for (const LinkSample& s : samples) max_x = std::max(max_x, static_cast<double>(s.bytes));
    if (std::abs(slope) * max_x <= 1e-12 * max_y) slope = 0;
    intercept = mean_y - slope * mean_x;
    if (slope < 0) {
      fit.note = "time fell as messages grew (slope " + number(slope) +
                 " us/byte): clamped to no bandwidth term, latency is the weighted mean time";
      slope = 0;
      intercept = mean_y;
    } else if (intercept < 0) {
      double xx = 0, xy = 0;
      for (std::size_t i = 0; i < samples.size(); ++i) {
        const double x = static_cast<double>(samples[i].bytes);
        xx += w[i] * x * x;
        xy += w[i] * x * samples[i].us;
      }
      fit.note = "negative latency (" + number(intercept) + " us) clamped to 0, slope refitted through the origin";
      intercept = 0;
      slope = xy / xx;
    }
  }
  fit.latency_us = intercept;
  fit.bytes_per_us = slope > 0 ? 1.0 / slope : 0.0;
  double ss_res = 0, ss_tot = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const double y = samples[i].us;
    const double r = y - (intercept + slope * static_cast<double>(samples[i].bytes));
    ss_res += w[i] * r * r;
    ss_tot += w[i] * (y - mean_y) * (y - mean_y);
    fit.max_rel_residual = std::max(fit.max_rel_residual, std::abs(r) / std::max(std::abs(y), floor_us));
  }
  if (ss_tot > 1e-20 * sw * (mean_y * mean_y + 1e-12)) {
    fit.r_squared = 1 - ss_res / ss_tot;
  } else {
    // Constant times: "explained" only if the line goes through them (a
    // tolerance, so an exact fit survives rounding).
    fit.r_squared = fit.max_rel_residual <= 1e-9 ? 1.0 : 0.0;
  }
  return fit;
}

// --- what is measured -------------------------------------------------------------

std::vector<Schedule> calibration_schedules(int num_ranks, bool split_backward) {
  const Schedule plain = generate_schedule(split_backward ? "zb-h1" : "gpipe", num_ranks, 1, 1);
  validate(plain);
  std::vector<Schedule> schedules{plain};
  if (num_ranks > 2) {
    Schedule moved = plain;
    for (int stage = 0; stage < plain.num_stages(); ++stage) {
      const int rank = (plain.rank_of(stage) + 1) % num_ranks;
      moved.stage_rank[static_cast<std::size_t>(stage)] = rank;
      moved.ops[static_cast<std::size_t>(rank)] = plain.ops[static_cast<std::size_t>(plain.rank_of(stage))];
    }
    validate(moved);
    schedules.push_back(std::move(moved));
  }
  return schedules;
}

// --- builder ------------------------------------------------------------------

const LinkCalibration* Calibration::link(int src_rank, int dst_rank) const {
  for (const LinkCalibration& l : links) {
    if (l.src_rank == src_rank && l.dst_rank == dst_rank) return &l;
  }
  return nullptr;
}

CalibrationBuilder::CalibrationBuilder(int num_ranks)
    : num_ranks_(num_ranks), op_samples_(static_cast<std::size_t>(std::max(0, num_ranks)) * kNumComputeKinds) {
  PPB_REQUIRE_INPUT(num_ranks > 0, "calibration: needs at least one rank (got ", num_ranks, ")");
}

void CalibrationBuilder::add_op_sample(int rank, OpKind kind, double us) {
  PPB_REQUIRE_INPUT(rank >= 0 && rank < num_ranks_, "calibration: rank ", rank, " out of range (", num_ranks_,
                    " ranks)");
  PPB_REQUIRE_INPUT(kind != OpKind::Optimizer, "calibration: optimizer steps are not calibrated");
  PPB_REQUIRE_INPUT(std::isfinite(us) && us >= 0, "calibration: ", kind_name(kind), " time of rank ", rank,
                    " must be a finite non-negative number (got ", us, ")");
  op_samples_[static_cast<std::size_t>(rank) * kNumComputeKinds + static_cast<std::size_t>(kind)].push_back(us);
}

void CalibrationBuilder::add_link_sample(int src, int dst, std::uint64_t bytes, double us) {
  PPB_REQUIRE_INPUT(src >= 0 && src < num_ranks_ && dst >= 0 && dst < num_ranks_ && src != dst,
                    "calibration: link ", src, " -> ", dst, " is not a link between two of ", num_ranks_, " ranks");
  PPB_REQUIRE_INPUT(std::isfinite(us) && us >= 0, "calibration: link ", src, " -> ", dst,
                    " time must be a finite non-negative number (got ", us, ")");
  link_samples_[{src, dst}][bytes].push_back(us);
}

void CalibrationBuilder::add_iteration(const Timeline& measured) {
  for (std::size_t r = 0; r < measured.ranks.size(); ++r) {
    for (const OpRecord& rec : measured.ranks[r]) {
      if (rec.op.kind == OpKind::Optimizer) continue;
      add_op_sample(static_cast<int>(r), rec.op.kind, rec.end_us - rec.start_us);
    }
  }
  for (const TransferRecord& x : measured.transfers) {
    if (!std::isfinite(x.send_us) || !std::isfinite(x.arrive_us)) continue;
    add_link_sample(x.src_rank, x.dst_rank, x.bytes, std::max(0.0, x.arrive_us - x.send_us));
  }
}

Calibration CalibrationBuilder::build() const {
  Calibration c;
  c.num_ranks = num_ranks_;
  c.measurement = measurement_;
  c.context = context_;
  std::size_t with_weight = 0;
  for (int r = 0; r < num_ranks_; ++r) {
    const auto at = [&](OpKind k) -> const std::vector<double>& {
      return op_samples_[static_cast<std::size_t>(r) * kNumComputeKinds + static_cast<std::size_t>(k)];
    };
    const auto& f = at(OpKind::F);
    const auto& b = at(OpKind::B);
    const auto& w = at(OpKind::W);
    PPB_REQUIRE_INPUT(!f.empty() && !b.empty(), "calibration: rank ", r, " has no ",
                      f.empty() ? "forward" : "backward", " samples");
    StageCalibration sc;
    sc.forward = summarise_samples(f);
    sc.backward = summarise_samples(b);
    if (!w.empty()) {
      sc.weight = summarise_samples(w);
      ++with_weight;
    }
    c.stages.push_back(sc);
  }
  PPB_REQUIRE_INPUT(with_weight == 0 || with_weight == c.stages.size(), "calibration: weight-gradient samples on ",
                    with_weight, " of ", c.stages.size(), " ranks (all or none)");
  for (const auto& [pair, by_size] : link_samples_) {
    LinkCalibration link;
    link.src_rank = pair.first;
    link.dst_rank = pair.second;
    std::vector<LinkSample> medians;
    for (const auto& [bytes, times] : by_size) {
      link.sizes.push_back({bytes, summarise_samples(times)});
      medians.push_back({bytes, link.sizes.back().time.median_us});
    }
    link.fit = fit_link(medians);
    c.links.push_back(std::move(link));
  }
  return c;
}

// --- the cost model -------------------------------------------------------------

CostModel apply_calibration(const Calibration& c, const Schedule& schedule, std::uint64_t activation_bytes,
                            double optimizer_us, const std::string& source) {
  PPB_REQUIRE_INPUT(c.num_ranks == schedule.num_ranks, source, ": calibrated on ", c.num_ranks,
                    " ranks, the schedule has ", schedule.num_ranks, " (P must match the calibrated run)");
  PPB_ASSERT(static_cast<int>(c.stages.size()) == c.num_ranks, "a calibration with ", c.stages.size(),
             " stages for ", c.num_ranks, " ranks");
  const double chunks = schedule.chunks;
  const bool has_weight = c.has_weight();
  CostModel model;
  for (int stage = 0; stage < schedule.num_stages(); ++stage) {
    const StageCalibration& s = c.stages[static_cast<std::size_t>(schedule.rank_of(stage))];
    double backward = s.backward.median_us / chunks;
    double weight = has_weight ? s.weight->median_us / chunks : 0.0;
    if (schedule.split_backward && !has_weight) {
      backward /= 2;  // as make_cost_model without --weight-times
      weight = backward;
    } else if (!schedule.split_backward) {
      backward += weight;
      weight = 0;
    }
    model.forward_us.push_back(s.forward.median_us / chunks);
    model.backward_us.push_back(backward);
    model.weight_us.push_back(weight);
  }
  model.optimizer_us = optimizer_us;
  model.activation_bytes = activation_bytes;
  for (const LinkCalibration& l : c.links) model.link_by_pair[{l.src_rank, l.dst_rank}] = l.fit.cost();
  // Every cross-rank hand-off the schedule makes (activations forward, gradients
  // back) must have been measured: a default for the others would be a made-up number.
  for (int s = 0; s + 1 < schedule.num_stages(); ++s) {
    const int a = schedule.rank_of(s), b = schedule.rank_of(s + 1);
    if (a == b) continue;
    for (const auto& [src, dst] : {std::pair{a, b}, std::pair{b, a}}) {
      PPB_REQUIRE_INPUT(model.link_by_pair.count({src, dst}) != 0, source, ": no calibration of the link rank ", src,
                        " -> rank ", dst, ", which the schedule uses");
    }
  }
  return model;
}

CostModel calibrated_cost_model(const CostInputs& in, const Schedule& schedule) {
  // Finite in microseconds too: 1e306 ms is a finite double but not in us.
  PPB_REQUIRE_INPUT(std::isfinite(in.optimizer_ms * 1000.0) && in.optimizer_ms >= 0,
                    "--optimizer-time: must be a finite number >= 0 (got ", in.optimizer_ms, ")");
  PPB_REQUIRE_INPUT(in.activation_bytes > 0 || in.activation_bytes_known,
                    "--activation-bytes: give the message size with --calibration (", in.calibration_file,
                    "'s link costs are latency + bytes / bandwidth)");
  return apply_calibration(load_calibration_file(in.calibration_file), schedule, in.activation_bytes,
                           in.optimizer_ms * 1000.0, in.calibration_file);
}

}  // namespace ppb
