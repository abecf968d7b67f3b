// Reads the timeline to compare from a file: a ppbench.timeline/1 document
// (ppsim --timeline-json, a run's predicted.json) or a ppbench.measured/1
// document (a run's measured.json: several measured iterations), from which
// one iteration is picked. Errors name the file (and the flag) and the reason.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/timeline.h"

namespace ppb {

struct TimelineSource {
  Timeline timeline;
  std::string path;
  std::string schema;             // "ppbench.timeline/1" or "ppbench.measured/1"
  int iteration = -1;             // measured: the index picked in "iterations"; else -1
  int iterations = 0;             // measured: how many there are
  bool median = false;            // measured: picked as the median-makespan iteration
  nlohmann::json context;         // the document's context block (null when absent)
};

// `iteration`: index into a measured document's "iterations" (0-based; warm-up
// iterations are not in the list). Without it the iteration with the median
// makespan is taken (the lower median for an even count; the earliest on ties).
// A timeline document ignores it.
TimelineSource load_timeline_source(const std::string& path, std::optional<int> iteration);
TimelineSource timeline_source_from_json(const nlohmann::json& doc, const std::string& path,
                                         std::optional<int> iteration);

// The index of the median-makespan timeline among `makespans` (see above).
int median_index(const std::vector<double>& makespans);

// Rejects, naming `source`, a timeline the analyses cannot use: no ops, an op
// out of range (stage, microbatch, kind), a time that is not finite, an op that
// ends before it starts, a placement that names a rank out of range.
void check_timeline(const Timeline& timeline, const std::string& source);

}  // namespace ppb
