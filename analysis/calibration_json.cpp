// The ppbench.calibration/1 file: writing it, and reading it back with errors
// that name the file and the key (docs/calibration.md lists every key).
#include <climits>
#include <cmath>
#include <set>

#include "analysis/calibration.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/json_file.h"

namespace ppb {

namespace {

constexpr const char* kSchema = "ppbench.calibration/1";

nlohmann::json stats_json(const SampleStats& s) {
  return {{"samples", s.samples}, {"median_us", s.median_us}, {"p5_us", s.p5_us}, {"p95_us", s.p95_us}};
}

// Typed reads; every error is "<file>: \"<key path>\" <reason>".
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  const nlohmann::json& at(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    PPB_REQUIRE_INPUT(obj.contains(key), source_, ": \"", path, "\" is missing");
    return obj.at(key);
  }
  const nlohmann::json& object(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    const nlohmann::json& v = at(obj, key, path);
    PPB_REQUIRE_INPUT(v.is_object(), source_, ": \"", path, "\" must be an object");
    return v;
  }
  const nlohmann::json& array(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    const nlohmann::json& v = at(obj, key, path);
    PPB_REQUIRE_INPUT(v.is_array(), source_, ": \"", path, "\" must be a list");
    return v;
  }
  long long integer(const nlohmann::json& obj, const std::string& key, const std::string& path, long long min) const {
    const nlohmann::json& v = at(obj, key, path);
    PPB_REQUIRE_INPUT(v.is_number_integer(), source_, ": \"", path, "\" must be an integer");
    const long long n = v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(LLONG_MAX)
                            ? LLONG_MAX
                            : v.get<long long>();
    PPB_REQUIRE_INPUT(n >= min, source_, ": \"", path, "\" must be at least ", min, " (got ", n, ")");
    return n;
  }
  double number(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    const nlohmann::json& v = at(obj, key, path);
    PPB_REQUIRE_INPUT(v.is_number(), source_, ": \"", path, "\" must be a number");
    const double d = v.get<double>();
    PPB_REQUIRE_INPUT(std::isfinite(d), source_, ": \"", path, "\" must be finite");
    return d;
  }
  double time(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    const double d = number(obj, key, path);
    PPB_REQUIRE_INPUT(d >= 0, source_, ": \"", path, "\" must not be negative (got ", d, ")");
    return d;
  }
  SampleStats stats(const nlohmann::json& j, const std::string& path) const {
    SampleStats s;
    s.samples = static_cast<std::size_t>(integer(j, "samples", path + ".samples", 1));
    s.median_us = time(j, "median_us", path + ".median_us");
    s.p5_us = time(j, "p5_us", path + ".p5_us");
    s.p95_us = time(j, "p95_us", path + ".p95_us");
    return s;
  }
  SampleStats stats(const nlohmann::json& obj, const std::string& key, const std::string& path) const {
    return stats(object(obj, key, path), path);
  }

 private:
  std::string source_;
};

StageCalibration read_stage(const Reader& in, const nlohmann::json& j, const std::string& path,
                            const std::string& source) {
  PPB_REQUIRE_INPUT(j.is_object(), source, ": \"", path, "\" must be an object");
  StageCalibration sc;
  sc.forward = in.stats(j, "forward", path + ".forward");
  sc.backward = in.stats(j, "backward", path + ".backward");
  // A zero-time op would make every schedule's prediction degenerate.
  PPB_REQUIRE_INPUT(sc.forward.median_us > 0, source, ": \"", path, ".forward.median_us\" must be positive");
  PPB_REQUIRE_INPUT(sc.backward.median_us > 0, source, ": \"", path, ".backward.median_us\" must be positive");
  if (j.contains("weight") && !j["weight"].is_null()) sc.weight = in.stats(j, "weight", path + ".weight");
  return sc;
}

LinkCalibration read_link(const Reader& in, const nlohmann::json& j, const std::string& path, int num_ranks,
                          const std::string& source) {
  PPB_REQUIRE_INPUT(j.is_object(), source, ": \"", path, "\" must be an object");
  LinkCalibration l;
  l.src_rank = static_cast<int>(in.integer(j, "src_rank", path + ".src_rank", 0));
  l.dst_rank = static_cast<int>(in.integer(j, "dst_rank", path + ".dst_rank", 0));
  PPB_REQUIRE_INPUT(l.src_rank < num_ranks && l.dst_rank < num_ranks && l.src_rank != l.dst_rank, source, ": \"",
                    path, "\": ", l.src_rank, " -> ", l.dst_rank, " is not a link between two of ", num_ranks,
                    " ranks");
  const nlohmann::json& sizes = in.array(j, "sizes", path + ".sizes");
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const std::string sp = path + ".sizes[" + std::to_string(k) + "]";
    PPB_REQUIRE_INPUT(sizes[k].is_object(), source, ": \"", sp, "\" must be an object");
    LinkSizeStats st;
    st.bytes = static_cast<std::uint64_t>(in.integer(sizes[k], "bytes", sp + ".bytes", 0));
    st.time = in.stats(sizes[k], sp);
    l.sizes.push_back(st);
  }
  const std::string fp = path + ".fit";
  const nlohmann::json& fit = in.object(j, "fit", fp);
  l.fit.latency_us = in.time(fit, "latency_us", fp + ".latency_us");
  l.fit.bytes_per_us = in.time(fit, "bytes_per_us", fp + ".bytes_per_us");
  // Descriptive keys: optional, checked when present.
  if (fit.contains("points")) l.fit.points = static_cast<std::size_t>(in.integer(fit, "points", fp + ".points", 0));
  if (fit.contains("r_squared")) l.fit.r_squared = in.number(fit, "r_squared", fp + ".r_squared");
  if (fit.contains("max_rel_residual")) {
    l.fit.max_rel_residual = in.time(fit, "max_rel_residual", fp + ".max_rel_residual");
  }
  if (fit.contains("note")) {
    PPB_REQUIRE_INPUT(fit["note"].is_string(), source, ": \"", fp, ".note\" must be a string");
    l.fit.note = fit["note"].get<std::string>();
  }
  return l;
}

}  // namespace

nlohmann::json calibration_to_json(const Calibration& c) {
  nlohmann::json stages = nlohmann::json::array();
  for (std::size_t r = 0; r < c.stages.size(); ++r) {
    nlohmann::json j{{"rank", r}, {"forward", stats_json(c.stages[r].forward)},
                     {"backward", stats_json(c.stages[r].backward)}};
    if (c.stages[r].weight) j["weight"] = stats_json(*c.stages[r].weight);
    stages.push_back(std::move(j));
  }
  nlohmann::json links = nlohmann::json::array();
  for (const LinkCalibration& l : c.links) {
    nlohmann::json sizes = nlohmann::json::array();
    for (const LinkSizeStats& s : l.sizes) {
      nlohmann::json j{{"bytes", s.bytes}};
      j.update(stats_json(s.time));
      sizes.push_back(std::move(j));
    }
    links.push_back({{"src_rank", l.src_rank},
                     {"dst_rank", l.dst_rank},
                     {"sizes", std::move(sizes)},
                     {"fit",
                      {{"latency_us", l.fit.latency_us},
                       {"bytes_per_us", l.fit.bytes_per_us},
                       {"points", l.fit.points},
                       {"r_squared", l.fit.r_squared},
                       {"max_rel_residual", l.fit.max_rel_residual},
                       {"note", l.fit.note}}}});
  }
  return {{"schema", kSchema},
          {"time_unit", "us"},
          {"percentiles", "linear interpolation between closest ranks (type 7)"},
          {"num_ranks", c.num_ranks},
          {"stages", std::move(stages)},
          {"links", std::move(links)},
          {"measurement", c.measurement},
          {"context", c.context}};
}

Calibration calibration_from_json(const nlohmann::json& doc, const std::string& source) {
  const Reader in(source);
  PPB_REQUIRE_INPUT(doc.is_object(), source, ": expected a JSON object");
  const nlohmann::json& schema = in.at(doc, "schema", "schema");
  PPB_REQUIRE_INPUT(schema == kSchema, source, ": \"schema\" is ", schema.dump(), ", expected \"", kSchema, "\"");
  if (doc.contains("time_unit")) {
    PPB_REQUIRE_INPUT(doc["time_unit"] == "us", source, ": \"time_unit\" is ", doc["time_unit"].dump(),
                      ", expected \"us\"");
  }
  Calibration c;
  c.num_ranks = static_cast<int>(in.integer(doc, "num_ranks", "num_ranks", 1));
  if (doc.contains("measurement")) c.measurement = doc["measurement"];
  if (doc.contains("context")) c.context = doc["context"];

  const nlohmann::json& stages = in.array(doc, "stages", "stages");
  PPB_REQUIRE_INPUT(static_cast<int>(stages.size()) == c.num_ranks, source, ": \"stages\" has ", stages.size(),
                    " entries, expected one per rank (num_ranks = ", c.num_ranks, ")");
  std::size_t with_weight = 0;
  for (std::size_t r = 0; r < stages.size(); ++r) {
    const std::string path = "stages[" + std::to_string(r) + "]";
    if (stages[r].is_object() && stages[r].contains("rank")) {
      PPB_REQUIRE_INPUT(in.integer(stages[r], "rank", path + ".rank", 0) == static_cast<long long>(r), source, ": \"",
                        path, ".rank\" must be ", r, " (stages in rank order)");
    }
    c.stages.push_back(read_stage(in, stages[r], path, source));
    if (c.stages.back().weight) ++with_weight;
  }
  PPB_REQUIRE_INPUT(with_weight == 0 || with_weight == c.stages.size(), source, ": \"weight\" on ", with_weight,
                    " of ", c.stages.size(), " stages (all or none)");

  const nlohmann::json& links = in.array(doc, "links", "links");
  std::set<std::pair<int, int>> seen;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string path = "links[" + std::to_string(i) + "]";
    LinkCalibration l = read_link(in, links[i], path, c.num_ranks, source);
    PPB_REQUIRE_INPUT(seen.insert({l.src_rank, l.dst_rank}).second, source, ": \"", path, "\": link ", l.src_rank,
                      " -> ", l.dst_rank, " appears twice");
    c.links.push_back(std::move(l));
  }
  return c;
}

Calibration load_calibration_file(const std::string& path) {
  return calibration_from_json(read_json_file(path), path);
}

void save_calibration_file(const Calibration& calibration, const std::string& path) {
  write_file_atomically(path, calibration_to_json(calibration).dump(2) + "\n");
}

}  // namespace ppb
