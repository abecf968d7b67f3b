// Timelines and metrics as JSON documents (schemas "ppbench.timeline/1" and
// "ppbench.metrics/1"). Times are microseconds from the iteration start.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "analysis/metrics.h"
#include "core/timeline.h"

namespace ppb {

// The timeline's fields without "schema" and "context": the body shared by the
// timeline document and by documents holding several timelines (measured runs).
nlohmann::json timeline_body_to_json(const Timeline& timeline);
nlohmann::json timeline_to_json(const Timeline& timeline, const nlohmann::json& context);

// Accepts a ppbench.timeline/1 document or a body; errors name `source`.
Timeline timeline_from_json(const nlohmann::json& doc, const std::string& source);

nlohmann::json metrics_to_json(const Metrics& metrics, const Timeline& timeline, const nlohmann::json& context);

}  // namespace ppb
