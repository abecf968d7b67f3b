// Pictures through cairo: SVG, PNG and PDF from one drawing code, the format
// chosen by the output file's extension. Part of the ppb_image library, which
// is built with cairo when found (PPB_HAVE_CAIRO) and otherwise reports that
// image output is unavailable, so callers never need to know which.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/timeline.h"

namespace ppb {

enum class ImageFormat { Svg, Png, Pdf };

// By extension (.svg, .png, .pdf; case-sensitive); nullopt for anything else.
std::optional<ImageFormat> image_format_for(const std::string& path);

// False when ppbench was built without cairo: every draw/render call below then
// throws InputError naming `flag` and the file.
bool image_output_available();

struct GanttOptions {
  bool transfers = false;  // draw an arrow per cross-rank transfer
  std::string flag = "--output";  // the flag named in error messages
};

// A Gantt chart of one timeline, or of a measured and a predicted one (either
// pointer may be null, not both; measured and predicted rows alternate per
// rank). Title: schedule, P, M, v, bubble fraction and the analytic formula.
// draw_gantt returns the file's bytes; render_gantt writes them atomically to
// `path`, whose extension picks the format.
std::string draw_gantt(ImageFormat format, const Timeline* measured, const Timeline* predicted,
                       const GanttOptions& options);
void render_gantt(const std::string& path, const Timeline* measured, const Timeline* predicted,
                  const GanttOptions& options);

// A line chart of one or more panels side by side sharing the y axis (a
// fraction, drawn in percent). x is drawn on a log2 scale when log_x is set.
struct LineSeries {
  std::string label;
  int colour = 0;      // index into the chart palette; same index, same colour
  bool dashed = false;
  bool markers = true;
  std::vector<double> x, y;
  double line_width = 2.0;
  double marker_scale = 1.0;  // a larger marker shows a series that another covers
  bool line = true;  // false: markers only (measured points beside a model's curve)
};
struct ChartPanel {
  std::string title;
  std::vector<LineSeries> series;
};
struct LineChart {
  std::string title;
  std::string subtitle;  // optional second line (the inputs behind the curves)
  std::string x_label;
  std::string y_label;
  bool log_x = true;
  std::vector<ChartPanel> panels;
  std::string flag = "--output";
};
std::string draw_line_chart(ImageFormat format, const LineChart& chart);
void render_line_chart(const std::string& path, const LineChart& chart);

}  // namespace ppb
