#include "analysis/calibration.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/errors.h"
#include "io/atomic_file.h"

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
  const double n = static_cast<double>(samples.size());
  double mean_x = 0, mean_y = 0;
  std::set<std::uint64_t> sizes;
  for (const LinkSample& s : samples) {
    PPB_REQUIRE_INPUT(std::isfinite(s.us), "calibration: a link sample is not finite (", s.us, ")");
    mean_x += static_cast<double>(s.bytes) / n;
    mean_y += s.us / n;
    sizes.insert(s.bytes);
  }
  LinkFit fit;
  fit.points = samples.size();
  double slope = 0, intercept = mean_y;
  if (sizes.size() == 1) {
    fit.note = "one message size (" + std::to_string(*sizes.begin()) + " bytes): latency only, no bandwidth term";
  } else {
    // Centred sums: the sizes span many orders of magnitude.
    double sxx = 0, sxy = 0;
    for (const LinkSample& s : samples) {
      const double dx = static_cast<double>(s.bytes) - mean_x;
      sxx += dx * dx;
      sxy += dx * (s.us - mean_y);
    }
    slope = sxy / sxx;
    intercept = mean_y - slope * mean_x;
    if (slope < 0) {
      fit.note = "time fell as messages grew (slope " + number(slope) +
                 " us/byte): clamped to no bandwidth term, latency is the mean time";
      slope = 0;
      intercept = mean_y;
    } else if (intercept < 0) {
      double xx = 0, xy = 0;
      for (const LinkSample& s : samples) {
        const double x = static_cast<double>(s.bytes);
        xx += x * x;
        xy += x * s.us;
      }
      fit.note = "negative latency (" + number(intercept) + " us) clamped to 0, slope refitted through the origin";
      intercept = 0;
      slope = xy / xx;
    }
  }
  fit.latency_us = intercept;
  fit.bytes_per_us = slope > 0 ? 1.0 / slope : 0.0;
  double ss_res = 0, ss_tot = 0;
  for (const LinkSample& s : samples) {
    const double r = s.us - (intercept + slope * static_cast<double>(s.bytes));
    ss_res += r * r;
    ss_tot += (s.us - mean_y) * (s.us - mean_y);
  }
  fit.rms_residual_us = std::sqrt(ss_res / n);
  // Relative to the data's own spread, so an exact fit of noise-free data gives 1
  // despite rounding.
  if (ss_tot > 0) {
    fit.r_squared = 1 - ss_res / ss_tot;
  } else {
    fit.r_squared = ss_res <= 1e-18 * (mean_y * mean_y + 1) ? 1.0 : 0.0;
  }
  return fit;
}

// --- builder ------------------------------------------------------------------

CalibrationBuilder::CalibrationBuilder(int num_ranks, int num_stages)
    : num_ranks_(num_ranks), op_samples_(static_cast<std::size_t>(std::max(0, num_stages)) * kNumComputeKinds) {
  PPB_REQUIRE_INPUT(num_ranks > 0 && num_stages > 0, "calibration: needs at least one rank and one stage (got ",
                    num_ranks, " ranks, ", num_stages, " stages)");
}

void CalibrationBuilder::add_op_sample(int stage, OpKind kind, double us) {
  const int stages = static_cast<int>(op_samples_.size()) / kNumComputeKinds;
  PPB_REQUIRE_INPUT(stage >= 0 && stage < stages, "calibration: stage ", stage, " out of range (", stages, " stages)");
  PPB_REQUIRE_INPUT(kind != OpKind::Optimizer, "calibration: optimizer steps are not calibrated");
  PPB_REQUIRE_INPUT(std::isfinite(us) && us >= 0, "calibration: ", kind_name(kind), " time of stage ", stage,
                    " must be a finite non-negative number (got ", us, ")");
  op_samples_[static_cast<std::size_t>(stage) * kNumComputeKinds + static_cast<std::size_t>(kind)].push_back(us);
}

void CalibrationBuilder::add_link_sample(int src, int dst, std::uint64_t bytes, double us) {
  PPB_REQUIRE_INPUT(src >= 0 && src < num_ranks_ && dst >= 0 && dst < num_ranks_ && src != dst,
                    "calibration: link ", src, " -> ", dst, " is not a link between two of ", num_ranks_, " ranks");
  PPB_REQUIRE_INPUT(std::isfinite(us) && us >= 0, "calibration: link ", src, " -> ", dst,
                    " time must be a finite non-negative number (got ", us, ")");
  link_samples_[{src, dst}][bytes].push_back(us);
}

Calibration CalibrationBuilder::build() const {
  Calibration c;
  c.num_ranks = num_ranks_;
  c.activation_bytes = activation_bytes_;
  c.context = context_;
  const std::size_t stages = op_samples_.size() / kNumComputeKinds;
  std::size_t with_weight = 0;
  for (std::size_t s = 0; s < stages; ++s) {
    const auto& f = op_samples_[s * kNumComputeKinds + 0];
    const auto& b = op_samples_[s * kNumComputeKinds + 1];
    const auto& w = op_samples_[s * kNumComputeKinds + 2];
    PPB_REQUIRE_INPUT(!f.empty() && !b.empty(), "calibration: stage ", s, " has no ", f.empty() ? "forward" : "backward",
                      " samples");
    StageCalibration sc;
    sc.forward = summarise_samples(f);
    sc.backward = summarise_samples(b);
    if (!w.empty()) {
      sc.weight = summarise_samples(w);
      ++with_weight;
    }
    c.stages.push_back(sc);
  }
  PPB_REQUIRE_INPUT(with_weight == 0 || with_weight == stages, "calibration: weight-gradient samples on ", with_weight,
                    " of ", stages, " stages (all or none)");
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

// --- JSON ---------------------------------------------------------------------

namespace {

nlohmann::json stats_json(const SampleStats& s) {
  return {{"samples", s.samples}, {"median", s.median_us}, {"p5", s.p5_us}, {"p95", s.p95_us}};
}

// Reads values with errors naming the file and the key path ("stages[1].forward.median").
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  const nlohmann::json& at(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    PPB_REQUIRE_INPUT(obj.is_object() && obj.contains(key), source_, ": missing \"", path, "\"");
    return obj.at(key);
  }
  template <typename T>
  T get(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    const nlohmann::json& v = at(obj, key, path);
    try {
      if constexpr (std::is_unsigned_v<T> || std::is_same_v<T, int>) {
        PPB_REQUIRE_INPUT(v.is_number_integer(), source_, ": \"", path, "\" must be an integer");
        if constexpr (std::is_unsigned_v<T>) {
          PPB_REQUIRE_INPUT(v.is_number_unsigned(), source_, ": \"", path, "\" must not be negative");
        }
      }
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      PPB_THROW(InputError, source_, ": \"", path, "\" has the wrong type");
    }
  }
  double time(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    const double v = get<double>(obj, key, path);
    PPB_REQUIRE_INPUT(std::isfinite(v) && v >= 0, source_, ": \"", path, "\" must be a finite non-negative number");
    return v;
  }
  SampleStats stats(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    const nlohmann::json& j = at(obj, key, path);
    SampleStats s;
    s.samples = get<std::size_t>(j, "samples", path + ".samples");
    s.median_us = time(j, "median", path + ".median");
    s.p5_us = time(j, "p5", path + ".p5");
    s.p95_us = time(j, "p95", path + ".p95");
    return s;
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

}  // namespace

nlohmann::json calibration_to_json(const Calibration& c) {
  nlohmann::json stages = nlohmann::json::array();
  for (std::size_t s = 0; s < c.stages.size(); ++s) {
    nlohmann::json j{{"stage", s}, {"forward", stats_json(c.stages[s].forward)},
                     {"backward", stats_json(c.stages[s].backward)}};
    if (c.stages[s].weight) j["weight"] = stats_json(*c.stages[s].weight);
    stages.push_back(std::move(j));
  }
  nlohmann::json links = nlohmann::json::array();
  for (const LinkCalibration& l : c.links) {
    nlohmann::json sizes = nlohmann::json::array();
    for (const LinkSizeStats& s : l.sizes) {
      nlohmann::json j = stats_json(s.time);
      j["bytes"] = s.bytes;
      sizes.push_back(std::move(j));
    }
    links.push_back({{"src_rank", l.src_rank},
                     {"dst_rank", l.dst_rank},
                     {"sizes", std::move(sizes)},
                     {"fit",
                      {{"latency", l.fit.latency_us},
                       {"bytes_per_us", l.fit.bytes_per_us},
                       {"points", l.fit.points},
                       {"r_squared", l.fit.r_squared},
                       {"rms_residual", l.fit.rms_residual_us},
                       {"note", l.fit.note}}}});
  }
  return {{"schema", "ppbench.calibration/1"},
          {"time_unit", "us"},
          {"percentiles", "linear interpolation between closest ranks (type 7)"},
          {"num_ranks", c.num_ranks},
          {"num_stages", c.num_stages()},
          {"activation_bytes", c.activation_bytes},
          {"stages", std::move(stages)},
          {"links", std::move(links)},
          {"context", c.context}};
}

Calibration calibration_from_json(const nlohmann::json& doc, const std::string& source) {
  const Reader in(source);
  PPB_REQUIRE_INPUT(doc.is_object(), source, ": expected a JSON object");
  const nlohmann::json& schema = in.at(doc, "schema", "schema");
  PPB_REQUIRE_INPUT(schema == "ppbench.calibration/1", source, ": \"schema\" is ", schema.dump(),
                    ", expected \"ppbench.calibration/1\"");
  if (doc.contains("time_unit")) {
    PPB_REQUIRE_INPUT(doc["time_unit"] == "us", source, ": \"time_unit\" is ", doc["time_unit"].dump(),
                      ", expected \"us\"");
  }
  Calibration c;
  c.num_ranks = in.get<int>(doc, "num_ranks", "num_ranks");
  PPB_REQUIRE_INPUT(c.num_ranks > 0, source, ": \"num_ranks\" must be positive");
  const int num_stages = in.get<int>(doc, "num_stages", "num_stages");
  c.activation_bytes = doc.contains("activation_bytes") ? in.get<std::uint64_t>(doc, "activation_bytes", "activation_bytes") : 0;
  if (doc.contains("context")) c.context = doc["context"];

  const nlohmann::json& stages = in.at(doc, "stages", "stages");
  PPB_REQUIRE_INPUT(stages.is_array() && static_cast<int>(stages.size()) == num_stages, source,
                    ": \"stages\" must be a list of num_stages (", num_stages, ") entries");
  std::size_t with_weight = 0;
  for (std::size_t s = 0; s < stages.size(); ++s) {
    const std::string path = "stages[" + std::to_string(s) + "]";
    PPB_REQUIRE_INPUT(in.get<int>(stages[s], "stage", path + ".stage") == static_cast<int>(s), source, ": \"", path,
                      ".stage\" must be ", s, " (stages in order)");
    StageCalibration sc;
    sc.forward = in.stats(stages[s], "forward", path + ".forward");
    sc.backward = in.stats(stages[s], "backward", path + ".backward");
    PPB_REQUIRE_INPUT(sc.forward.median_us > 0, source, ": \"", path, ".forward.median\" must be positive");
    PPB_REQUIRE_INPUT(sc.backward.median_us > 0, source, ": \"", path, ".backward.median\" must be positive");
    if (stages[s].contains("weight") && !stages[s]["weight"].is_null()) {
      sc.weight = in.stats(stages[s], "weight", path + ".weight");
      ++with_weight;
    }
    c.stages.push_back(sc);
  }
  PPB_REQUIRE_INPUT(with_weight == 0 || with_weight == c.stages.size(), source, ": \"weight\" on ", with_weight,
                    " of ", c.stages.size(), " stages (all or none)");

  const nlohmann::json& links = in.at(doc, "links", "links");
  PPB_REQUIRE_INPUT(links.is_array(), source, ": \"links\" must be a list");
  std::set<std::pair<int, int>> seen;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string path = "links[" + std::to_string(i) + "]";
    LinkCalibration l;
    l.src_rank = in.get<int>(links[i], "src_rank", path + ".src_rank");
    l.dst_rank = in.get<int>(links[i], "dst_rank", path + ".dst_rank");
    PPB_REQUIRE_INPUT(l.src_rank >= 0 && l.src_rank < c.num_ranks && l.dst_rank >= 0 && l.dst_rank < c.num_ranks &&
                          l.src_rank != l.dst_rank,
                      source, ": \"", path, "\": ", l.src_rank, " -> ", l.dst_rank, " is not a link between two of ",
                      c.num_ranks, " ranks");
    PPB_REQUIRE_INPUT(seen.insert({l.src_rank, l.dst_rank}).second, source, ": \"", path, "\": link ", l.src_rank,
                      " -> ", l.dst_rank, " appears twice");
    const nlohmann::json& sizes = in.at(links[i], "sizes", path + ".sizes");
    PPB_REQUIRE_INPUT(sizes.is_array(), source, ": \"", path, ".sizes\" must be a list");
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      const std::string sp = path + ".sizes[" + std::to_string(k) + "]";
      LinkSizeStats st;
      st.bytes = in.get<std::uint64_t>(sizes[k], "bytes", sp + ".bytes");
      st.time.samples = in.get<std::size_t>(sizes[k], "samples", sp + ".samples");
      st.time.median_us = in.time(sizes[k], "median", sp + ".median");
      st.time.p5_us = in.time(sizes[k], "p5", sp + ".p5");
      st.time.p95_us = in.time(sizes[k], "p95", sp + ".p95");
      l.sizes.push_back(st);
    }
    const nlohmann::json& fit = in.at(links[i], "fit", path + ".fit");
    l.fit.latency_us = in.time(fit, "latency", path + ".fit.latency");
    l.fit.bytes_per_us = in.time(fit, "bytes_per_us", path + ".fit.bytes_per_us");
    l.fit.points = fit.contains("points") ? in.get<std::size_t>(fit, "points", path + ".fit.points") : 0;
    l.fit.r_squared = fit.contains("r_squared") ? in.get<double>(fit, "r_squared", path + ".fit.r_squared") : 1.0;
    l.fit.rms_residual_us =
        fit.contains("rms_residual") ? in.get<double>(fit, "rms_residual", path + ".fit.rms_residual") : 0.0;
    l.fit.note = fit.contains("note") ? in.get<std::string>(fit, "note", path + ".fit.note") : "";
    c.links.push_back(std::move(l));
  }
  return c;
}

Calibration load_calibration_file(const std::string& path) {
  const std::string text = read_file(path);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    PPB_THROW(InputError, path, ": not valid JSON (", e.what(), ")");
  }
  return calibration_from_json(doc, path);
}

void save_calibration_file(const Calibration& calibration, const std::string& path) {
  write_file_atomically(path, calibration_to_json(calibration).dump(2) + "\n");
}

// --- the cost model -------------------------------------------------------------

CostModel apply_calibration(const Calibration& c, const Schedule& schedule, std::uint64_t activation_bytes,
                            double optimizer_us, const std::string& source) {
  PPB_REQUIRE_INPUT(c.num_stages() == schedule.num_stages(), source, ": calibrated for ", c.num_stages(),
                    " stages, the schedule has ", schedule.num_stages(), " (P x chunks must match the calibrated run)");
  PPB_REQUIRE_INPUT(c.num_ranks == schedule.num_ranks, source, ": calibrated on ", c.num_ranks,
                    " ranks, the schedule has ", schedule.num_ranks);
  CostModel model;
  const bool has_weight = !c.stages.empty() && c.stages.front().weight.has_value();
  for (const StageCalibration& s : c.stages) {
    model.forward_us.push_back(s.forward.median_us);
    double backward = s.backward.median_us;
    double weight = has_weight ? s.weight->median_us : 0.0;
    if (schedule.split_backward && !has_weight) {
      backward /= 2;  // as make_cost_model without --weight-times
      weight = backward;
    } else if (!schedule.split_backward) {
      backward += weight;
      weight = 0;
    }
    model.backward_us.push_back(backward);
    model.weight_us.push_back(weight);
  }
  model.optimizer_us = optimizer_us;
  model.activation_bytes = activation_bytes > 0 ? activation_bytes : c.activation_bytes;
  for (const LinkCalibration& l : c.links) model.link_by_pair[{l.src_rank, l.dst_rank}] = l.fit.cost();
  // Every cross-rank hand-off the schedule makes (activations forward, gradients
  // back) must have been measured: a silent default would be a made-up number.
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

}  // namespace ppb
