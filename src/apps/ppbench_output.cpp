#include "apps/ppbench_output.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <system_error>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/timeline_io.h"
#include "render/ascii.h"
#include "render/chrome_trace.h"
#include "render/image.h"
#include "render/metrics_table.h"

namespace fs = std::filesystem;

namespace ppb {

namespace {

// The directory is created only once everything was measured
// (write_directory_atomically); a path that can never be created must fail
// now, before a run or a long sweep, not after it with the results lost. The
// nearest existing ancestor must be a directory we may write into.
void check_directory_can_be_created(const std::string& dir) {
  std::error_code ec;
  fs::path ancestor = fs::path(dir).parent_path();
  while (!ancestor.empty() && !fs::exists(ancestor, ec)) ancestor = ancestor.parent_path();
  if (ancestor.empty()) ancestor = ".";
  PPB_REQUIRE_INPUT(fs::is_directory(ancestor, ec), "--out: cannot create '", dir, "': '", ancestor.string(),
                    "' is not a directory");
  PPB_REQUIRE_INPUT(::access(ancestor.c_str(), W_OK | X_OK) == 0, "--out: cannot create '", dir, "': '",
                    ancestor.string(), "' is not writable");
}

}  // namespace

std::string choose_output_directory(const std::string& out, const std::string& name) {
  if (!out.empty()) {
    std::error_code ec;
    PPB_REQUIRE_INPUT(!fs::exists(out, ec), "--out: '", out,
                      "' already exists (ppbench never overwrites a run: choose another directory)");
    check_directory_can_be_created(out);
    return out;
  }
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::ostringstream stem;
  stem << "runs/" << std::put_time(&local, "%Y%m%d-%H%M%S") << "-" << name;
  std::string dir = stem.str();
  for (int n = 2; fs::exists(dir); ++n) dir = stem.str() + "-" + std::to_string(n);
  check_directory_can_be_created(dir);
  return dir;
}

std::string choose_run_directory(const std::string& out, const Schedule& schedule) {
  // The generator, not the label: a file schedule's label holds the file name
  // (spaces, dots), which has no place in a directory name.
  const std::string kind = schedule.generator.empty() ? "file" : schedule.generator;
  return choose_output_directory(out, kind + "-P" + std::to_string(schedule.num_ranks) + "-M" +
                                          std::to_string(schedule.num_microbatches));
}

void write_directory_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& fill) {
  const std::string tmp = dir + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  PPB_REQUIRE_INPUT(fs::create_directory(tmp, ec), "--out: cannot create '", tmp, "': ",
                    ec ? ec.message() : "it exists");
  try {
    fill(tmp);
    fs::rename(tmp, dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

void write_run_directory(const std::string& dir, const RunResults& r) {
  write_directory_atomically(dir, [&](const std::string& tmp) {
    nlohmann::json iterations = nlohmann::json::array();
    for (const Timeline& t : r.measured) iterations.push_back(timeline_body_to_json(t));
    const nlohmann::json measured{{"schema", "ppbench.measured/1"},
                                  {"warmup", r.warmup},
                                  {"median_iteration", r.summary.median_iteration},
                                  {"iterations", std::move(iterations)},
                                  {"context", r.context}};
    const Timeline& median = r.measured[r.summary.median_iteration];
    write_file_atomically(tmp + "/measured.json", measured.dump(1) + "\n");
    write_file_atomically(tmp + "/predicted.json", timeline_to_json(r.predicted, r.context).dump(1) + "\n");
    write_file_atomically(tmp + "/replay.json", timeline_to_json(r.replay, r.context).dump(1) + "\n");
    write_file_atomically(tmp + "/summary.json", summary_to_json(r.summary, r.context).dump(2) + "\n");
    write_view(tmp, "trace.json", [&] { return chrome_trace(&median, &r.predicted, r.context).dump(1) + "\n"; });
    write_view(tmp, "timeline.txt", [&] {
      AsciiOptions ascii;
      ascii.width = 120;
      return render_ascii(&median, &r.predicted, ascii);
    });
    if (image_output_available()) {
      write_view(tmp, "gantt.png", [&] { return draw_gantt(ImageFormat::Png, &median, &r.predicted, GanttOptions{}); });
    }
  });
}

namespace {

// PPB_FAIL_VIEWS names `view` (a comma-separated list).
bool view_fails_on_purpose(const std::string& view) {
  const char* list = std::getenv("PPB_FAIL_VIEWS");
  return list != nullptr && ("," + std::string(list) + ",").find("," + view + ",") != std::string::npos;
}

// Runs `make` for the view `name`; false after the warning when it throws.
bool view_or_warning(const std::string& name, const std::function<void()>& make) {
  try {
    if (view_fails_on_purpose(name)) PPB_THROW(Error, "PPB_FAIL_VIEWS names it");
    make();
    return true;
  } catch (const std::exception& e) {
    std::cerr << "ppbench: warning: " << name << " left out (" << e.what() << "); the measurements are written\n";
    return false;
  }
}

}  // namespace

std::optional<std::string> draw_view(const std::string& name, const std::function<std::string()>& draw) {
  std::string bytes;
  if (!view_or_warning(name, [&] { bytes = draw(); })) return std::nullopt;
  return bytes;
}

void write_view(const std::string& dir, const std::string& name, const std::function<std::string()>& draw) {
  view_or_warning(name, [&] { write_file_atomically(dir + "/" + name, draw()); });
}

namespace {

std::string percent(double fraction) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << 100.0 * fraction << "%";
  return s.str();
}

std::string signed_value(double v, const char* unit, int digits = 1) {
  std::ostringstream s;
  s << std::showpos << std::fixed << std::setprecision(digits) << v << unit;
  return s.str();
}

}  // namespace

std::string format_run_report(const RunResults& r, const std::string& configuration, int width, bool color) {
  const RunSummary& s = r.summary;
  std::ostringstream out;
  out << configuration << "\n";
  AsciiOptions ascii;
  ascii.width = width;
  ascii.color = color;
  ascii.metrics = false;
  out << render_ascii(&r.measured[r.summary.median_iteration], &r.predicted, ascii);
  out << "\n";
  auto row = [&](const std::string& name, const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d) {
    out << std::left << std::setw(12) << name << std::right << std::setw(18) << a << std::setw(14) << b
        << std::setw(14) << c << std::setw(14) << d << "\n";
  };
  row("", "measured", "predicted", "replay", "analytic");
  row("makespan", format_duration(s.measured_makespan_us), format_duration(s.predicted_makespan_us),
      format_duration(s.replay_makespan_us), "-");
  row("bubble", percent(s.measured_bubble), percent(s.predicted_bubble), percent(s.replay_bubble),
      s.analytic_bubble ? percent(*s.analytic_bubble) : "-");
  row("error", "", signed_value(100 * s.makespan_rel_error, "%"), signed_value(100 * s.replay_makespan_rel_error, "%"),
      "");
  row("bubble err", "", signed_value(s.bubble_pp_error, " pp"), signed_value(s.replay_bubble_pp_error, " pp"), "");
  out << "measured: the median iteration of " << s.iterations << " (makespan min " << format_duration(s.makespan_us.min)
      << ", max " << format_duration(s.makespan_us.max) << "); error = (measured - model) / measured; analytic = "
      << "uniform-stage, zero-communication formula\n";
  out << "harness overhead (op start - inputs ready): median " << std::fixed << std::setprecision(1)
      << s.overhead_median_us << " us, p99 " << s.overhead_p99_us << " us over " << s.overhead_ops << " ops\n";
  return out.str();
}

}  // namespace ppb
