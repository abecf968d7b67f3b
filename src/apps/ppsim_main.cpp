// ppsim: the simulator and renderers on their own (no MPI, no GPU).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "analysis/metrics.h"
#include "apps/ppsim_compare.h"
#include "apps/ppsim_sweep.h"
#include "cli/config_file.h"
#include "cli/sim_options.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "io/context.h"
#include "io/schedule_io.h"
#include "io/timeline_io.h"
#include "render/ascii.h"
#include "render/chrome_trace.h"
#include "render/image.h"
#include "render/metrics_table.h"
#include "sim/simulator.h"

namespace ppb {
namespace {

struct PpsimOptions {
  ScheduleOptions schedule;
  CostInputs costs;
  std::string output;         // rendered timeline; renderer by extension
  bool no_visualization = false;
  std::string metrics_json;   // "-" for stdout
  std::string timeline_json;  // "-" for stdout
  int width = 0;              // 0: terminal width
  bool transfers = false;     // transfer arrows in image output
};

// The picture for --output, by the file's extension: .txt (ASCII timeline),
// .json (Chrome trace for Perfetto), .svg/.png/.pdf (Gantt chart).
std::string render_output(const Timeline& timeline, const std::string& path, const PpsimOptions& o, int width,
                          const nlohmann::json& context) {
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot);
  if (ext == ".txt") {
    AsciiOptions ascii;
    ascii.width = width;
    return render_ascii(timeline, ascii);
  }
  if (ext == ".json") return chrome_trace(nullptr, &timeline, context).dump(1) + "\n";
  if (const auto format = image_format_for(path)) {
    PPB_REQUIRE_INPUT(image_output_available(), "--output: cannot write '", path,
                      "': this ppsim was built without cairo (install libcairo2-dev and reconfigure; .txt and .json "
                      "work)");
    GanttOptions gantt;
    gantt.transfers = o.transfers;
    return draw_gantt(*format, nullptr, &timeline, gantt);
  }
  PPB_THROW(InputError, "--output: cannot write '", path, "': unsupported extension '", ext,
            "' (supported: .txt, .json, .svg, .png, .pdf)");
}

int run_simulation(const PpsimOptions& o, const std::vector<std::string>& argv) {
  // Everything that can fail on input is checked before anything is written.
  const Schedule schedule = build_schedule(o.schedule);
  const CostModel costs = make_cost_model(o.costs, schedule);
  PPB_REQUIRE_INPUT(o.width == 0 || o.width >= 10, "--width: must be at least 10 columns (got ", o.width, ")");
  const int width = o.width > 0 ? o.width : ascii_terminal_width();
  std::map<std::string, const char*> outputs;  // file -> the flag that names it
  for (const auto& [path, flag] : {std::pair{o.schedule.dump_schedule, "--dump-schedule"},
                                   std::pair{o.metrics_json, "--metrics-json"},
                                   std::pair{o.timeline_json, "--timeline-json"}, std::pair{o.output, "--output"}}) {
    if (path.empty()) continue;
    check_output_file(path, flag);
    const auto [earlier, fresh] = outputs.emplace(path, flag);
    PPB_REQUIRE_INPUT(fresh || path == "-", flag, ": '", path, "' is also ", earlier->second,
                      "'s file: one would overwrite the other");
  }

  const Timeline timeline = simulate(schedule, costs);
  const Metrics metrics = compute_metrics(timeline);
  const nlohmann::json context = make_context(argv, "simulator");
  std::string rendered;
  if (!o.output.empty() && !o.no_visualization) rendered = render_output(timeline, o.output, o, width, context);

  if (!o.schedule.dump_schedule.empty()) save_schedule_file(schedule, o.schedule.dump_schedule);
  if (!o.metrics_json.empty()) {
    write_file_atomically(o.metrics_json, metrics_to_json(metrics, timeline, context).dump(2) + "\n");
  }
  if (!o.timeline_json.empty()) {
    write_file_atomically(o.timeline_json, timeline_to_json(timeline, context).dump(1) + "\n");
  }
  if (!rendered.empty()) write_file_atomically(o.output, rendered);

  // Standard output stays machine-readable when a JSON document goes there.
  if (o.metrics_json == "-" || o.timeline_json == "-") return kExitOk;
  std::cout << "ppsim: " << schedule.name << ", P=" << schedule.num_ranks << ", M=" << schedule.num_microbatches;
  if (schedule.chunks > 1) std::cout << ", v=" << schedule.chunks;
  std::cout << " (simulated";
  if (!o.costs.calibration_file.empty()) std::cout << ", costs from " << o.costs.calibration_file;
  std::cout << ")\n";
  if (!o.no_visualization) {
    AsciiOptions ascii;
    ascii.width = width;
    ascii.color = ascii_color_wanted(STDOUT_FILENO);
    ascii.title = false;    // the line above says it
    ascii.metrics = false;  // the table below says it
    std::cout << render_ascii(timeline, ascii);
  }
  std::cout << format_metrics_table(metrics, timeline);
  return kExitOk;
}

}  // namespace
}  // namespace ppb

int main(int argc, char** argv) {
  using namespace ppb;
  PpsimOptions options;
  CLI::App app{"ppsim: simulate and draw pipeline-parallel schedules", "ppsim"};
  add_schedule_options(app, options.schedule);
  add_cost_options(app, options.costs);
  app.add_option("--output,-o", options.output,
                 "write the timeline: .txt (ASCII), .json (Chrome trace for Perfetto), .svg/.png/.pdf (Gantt chart)");
  app.add_flag("--transfers", options.transfers, "draw transfer arrows in .svg/.png/.pdf output");
  app.add_flag("--no-visualization", options.no_visualization, "draw no timeline");
  app.add_option("--metrics-json", options.metrics_json, "write metrics JSON (- for stdout)");
  app.add_option("--timeline-json", options.timeline_json, "write the timeline JSON (- for stdout)");
  app.add_option("--width", options.width, "columns of the ASCII timeline (default: terminal width)");
  add_config_option(app, config_key_aliases(), command_line_overrides(), ppbench_only_config_keys());
  const SweepCommand sweep(app);
  const CompareCommand compare(app);

  const int parsed = parse_command_line(app, argc, argv);
  if (parsed >= 0) return parsed;
  // On standard error: standard output may be --metrics-json -.
  if (const std::string note = unused_config_keys_note(app, "ppbench"); !note.empty()) std::cerr << note << "\n";
  try {
    if (sweep.selected()) {
      reject_flags_before(app, "sweep", "a single simulation");
      return sweep.run();
    }
    if (compare.selected()) {
      reject_flags_before(app, "compare", "a single simulation");
      return compare.run(std::vector<std::string>(argv, argv + argc));
    }
    return run_simulation(options, std::vector<std::string>(argv, argv + argc));
  } catch (const std::exception& e) {
    return report_error("ppsim", e);
  }
}
