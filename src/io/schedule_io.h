// Schedules to and from files:
//  - the project's JSON (schema "ppbench.schedule/1"): ops as action strings;
//  - PyTorch pipelining's compute-only action CSV: one row per rank, one cell per
//    time step, cells "{stage}{kind}{microbatch}" (0F1, 1I0, 2W3, 1B0), blank
//    cells idle. PyTorch writes the input-gradient backward as "I" and the full
//    backward as "B"; both are read, and a schedule that splits W is written
//    with "I". A W after a B (full backward) of the same op is refused.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/schedule.h"

namespace ppb {

std::string action_string(const Op& op, bool split_backward);  // "0F1", "1I0"

nlohmann::json schedule_to_json(const Schedule& schedule);
std::string schedule_to_csv(const Schedule& schedule);

// Parse and validate; errors name `source` (the file) and the reason. The format
// is taken from the extension (.json or .csv). The schedule is labelled
// "file F" (F: the file name without directories), plus " (NAME)" for a JSON
// file's "name"; its `generator` stays empty, so it never gets a generator's
// analytic bubble whatever its name says.
Schedule load_schedule_file(const std::string& path);
Schedule schedule_from_json(const nlohmann::json& doc, const std::string& source);
Schedule schedule_from_csv(const std::string& text, const std::string& source);
void save_schedule_file(const Schedule& schedule, const std::string& path);

}  // namespace ppb
