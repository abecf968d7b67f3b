#include "analysis/timeline_source.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/metrics.h"
#include "core/errors.h"
#include "io/json_file.h"
#include "io/timeline_io.h"

namespace ppb {

int median_index(const std::vector<double>& makespans) {
  std::vector<int> order(makespans.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return makespans[static_cast<std::size_t>(a)] < makespans[static_cast<std::size_t>(b)];
  });
  return order.empty() ? -1 : order[(order.size() - 1) / 2];
}

void check_timeline(const Timeline& t, const std::string& source) {
  PPB_REQUIRE_INPUT(t.num_ranks > 0, source, ": \"num_ranks\" must be positive (got ", t.num_ranks, ")");
  PPB_REQUIRE_INPUT(t.num_microbatches > 0, source, ": \"num_microbatches\" must be positive (got ",
                    t.num_microbatches, ")");
  PPB_REQUIRE_INPUT(!t.stage_rank.empty(), source, ": \"stage_rank\" is empty");
  for (int r : t.stage_rank) {
    PPB_REQUIRE_INPUT(r >= 0 && r < t.num_ranks, source, ": \"stage_rank\" names rank ", r, " of ", t.num_ranks);
  }
  std::size_t ops = 0;
  for (std::size_t r = 0; r < t.ranks.size(); ++r) {
    for (const OpRecord& rec : t.ranks[r]) {
      ++ops;
      const std::string where = source + ": rank " + std::to_string(r) + " op " + describe(rec.op);
      if (rec.op.kind != OpKind::Optimizer) {
        PPB_REQUIRE_INPUT(rec.op.stage >= 0 && rec.op.stage < t.num_stages(), where, ": stage out of range");
        PPB_REQUIRE_INPUT(rec.op.microbatch >= 0 && rec.op.microbatch < t.num_microbatches, where,
                          ": microbatch out of range");
      }
      PPB_REQUIRE_INPUT(std::isfinite(rec.start_us) && std::isfinite(rec.end_us), where, ": times must be finite");
      PPB_REQUIRE_INPUT(rec.end_us >= rec.start_us, where, ": ends (", rec.end_us, ") before it starts (",
                        rec.start_us, ")");
    }
  }
  PPB_REQUIRE_INPUT(ops > 0, source, ": the timeline has no ops");
  for (const TransferRecord& x : t.transfers) {
    PPB_REQUIRE_INPUT(x.src_rank >= 0 && x.src_rank < t.num_ranks && x.dst_rank >= 0 && x.dst_rank < t.num_ranks,
                      source, ": transfer of ", describe(x.producer), " names a rank out of range");
    PPB_REQUIRE_INPUT(std::isfinite(x.send_us) && std::isfinite(x.arrive_us), source, ": transfer of ",
                      describe(x.producer), ": times must be finite");
  }
}

namespace {

// timeline_from_json reports missing keys itself; anything it lets through as a
// JSON library exception (a wrong type deep inside) still names the file here.
Timeline parse_timeline(const nlohmann::json& body, const std::string& source) {
  Timeline t;
  try {
    PPB_REQUIRE_INPUT(body.is_object() && body.contains("ranks"), source, ": missing \"ranks\"");
    t = timeline_from_json(body, source);
  } catch (const nlohmann::json::exception& e) {
    PPB_THROW(InputError, source, ": not a valid timeline (", e.what(), ")");
  }
  check_timeline(t, source);
  return t;
}

}  // namespace

TimelineSource timeline_source_from_json(const nlohmann::json& doc, const std::string& path,
                                         std::optional<int> iteration) {
  PPB_REQUIRE_INPUT(doc.is_object(), path, ": expected a JSON object");
  PPB_REQUIRE_INPUT(doc.contains("schema"), path,
                    ": missing \"schema\" (expected \"ppbench.timeline/1\" or \"ppbench.measured/1\")");
  TimelineSource out;
  out.path = path;
  out.schema = doc["schema"].is_string() ? doc["schema"].get<std::string>() : doc["schema"].dump();
  if (doc.contains("context")) out.context = doc["context"];
  if (out.schema == "ppbench.timeline/1") {
    out.timeline = parse_timeline(doc, path);
    return out;
  }
  PPB_REQUIRE_INPUT(out.schema == "ppbench.measured/1", path, ": \"schema\" is ", doc["schema"].dump(),
                    ", expected \"ppbench.timeline/1\" or \"ppbench.measured/1\"");
  PPB_REQUIRE_INPUT(doc.contains("iterations") && doc["iterations"].is_array(), path,
                    ": missing \"iterations\" (a list of timelines)");
  const auto& list = doc["iterations"];
  PPB_REQUIRE_INPUT(!list.empty(), path, ": \"iterations\" is empty");
  out.iterations = static_cast<int>(list.size());
  std::vector<Timeline> timelines;
  for (std::size_t i = 0; i < list.size(); ++i) {
    timelines.push_back(parse_timeline(list[i], path + ": iterations[" + std::to_string(i) + "]"));
  }
  if (iteration) {
    PPB_REQUIRE_INPUT(*iteration >= 0 && *iteration < out.iterations, "--iteration: ", *iteration,
                      " is out of range: ", path, " holds ", out.iterations, " iterations (0..", out.iterations - 1,
                      ")");
    out.iteration = *iteration;
  } else {
    std::vector<double> makespans;
    for (const Timeline& t : timelines) makespans.push_back(compute_metrics(t).makespan_us);
    out.iteration = median_index(makespans);
    out.median = true;
  }
  out.timeline = std::move(timelines[static_cast<std::size_t>(out.iteration)]);
  return out;
}

TimelineSource load_timeline_source(const std::string& path, std::optional<int> iteration) {
  return timeline_source_from_json(read_json_file(path), path, iteration);
}

}  // namespace ppb
