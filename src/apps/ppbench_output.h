// What rank 0 makes of a finished run: the run directory (written into
// DIR.tmp.<pid>, then renamed, so a failed run leaves no half-written
// directory) and the console report.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/run_summary.h"
#include "core/schedule.h"
#include "core/timeline.h"

namespace ppb {

struct RunResults {
  std::vector<Timeline> measured;  // every measured iteration
  int warmup = 0;
  Timeline predicted;
  Timeline replay;
  RunSummary summary;
  nlohmann::json context;
};

// The run directory to use: `out` when given (InputError naming --out when it
// exists), else runs/<date>-<schedule>-P<P>-M<M> with -2, -3, ... appended
// until it does not exist.
std::string choose_run_directory(const std::string& out, const Schedule& schedule);
// The same for any kind of directory: `out` when given and new, else
// runs/<date>-<name> with -2, -3, ... appended until it does not exist. Either
// way an InputError naming --out when the directory could not be created (its
// nearest existing ancestor is not a writable directory).
std::string choose_output_directory(const std::string& out, const std::string& name);

// Creates DIR.tmp.<pid> (and DIR's parents), lets `fill` write into it, then
// renames it to `dir`; when `fill` throws, the temporary directory is removed
// and the exception goes on. InputError naming --out when it cannot be created.
void write_directory_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& fill);

// measured.json, predicted.json, replay.json, summary.json, then the views:
// trace.json, timeline.txt and, with image output built, gantt.png.
void write_run_directory(const std::string& dir, const RunResults& results);

// A view of the measurements (trace.json, timeline.txt, gantt.png, sweep.png)
// is optional: one that cannot be drawn or written (a cairo failure, a
// renderer's limit, a full disk after the measurements went in) is a warning
// on standard error, `ppbench: warning: gantt.png left out (REASON); the
// measurements are written`, and is left out. draw_view returns the view's
// bytes, or nullopt after that warning; write_view also writes them into
// `dir`. PPB_FAIL_VIEWS (a test hook: comma-separated view names) makes the
// named views fail as a broken renderer would.
std::optional<std::string> draw_view(const std::string& name, const std::function<std::string()>& draw);
void write_view(const std::string& dir, const std::string& name, const std::function<std::string()>& draw);

// The configuration line, the measured and predicted timelines, the table of
// measured vs predicted vs replay vs analytic, and the harness overhead.
std::string format_run_report(const RunResults& results, const std::string& configuration, int width, bool color);

}  // namespace ppb
