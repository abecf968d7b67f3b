// Line charts (the sweep's bubble against M): panels side by side sharing the y
// axis, a log2 x axis, dashed series for references, one legend for all panels.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "io/atomic_file.h"
#include "render/image.h"
#include "render/image/cairo_canvas.h"

namespace ppb {
namespace {

using image::Align;

constexpr double kMargin = 24;
constexpr double kTitleHeight = 58;
constexpr double kLegendRow = 22;
constexpr double kPanelWidth = 440;
constexpr double kPanelHeight = 320;
constexpr double kPanelGap = 56;
constexpr double kYAxisWidth = 64;
constexpr double kXAxisHeight = 52;

struct Range {
  double lo = 0, hi = 1;
};

// The y range: from 0 to a round percentage above every value.
Range y_range(const LineChart& chart) {
  double hi = 0;
  for (const ChartPanel& p : chart.panels) {
    for (const LineSeries& s : p.series) {
      for (double y : s.y) hi = std::max(hi, y);
    }
  }
  const double step = hi > 0.5 ? 0.2 : hi > 0.2 ? 0.1 : 0.05;
  return {0, std::max(step, std::ceil(hi / step - 1e-9) * step)};
}

Range x_range(const LineChart& chart) {
  Range r{1e300, -1e300};
  for (const ChartPanel& p : chart.panels) {
    for (const LineSeries& s : p.series) {
      for (double x : s.x) {
        if (chart.log_x && x <= 0) continue;
        r.lo = std::min(r.lo, x);
        r.hi = std::max(r.hi, x);
      }
    }
  }
  if (r.lo > r.hi) return {1, 2};
  if (r.lo == r.hi) r.hi = chart.log_x ? r.lo * 2 : r.lo + 1;
  return r;
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

struct Legend {
  std::string label;
  int colour;
  bool dashed, markers, line;
  double width, marker_scale;
};

std::vector<Legend> legend_of(const LineChart& chart) {
  std::vector<Legend> entries;
  for (const ChartPanel& p : chart.panels) {
    for (const LineSeries& s : p.series) {
      const bool known = std::any_of(entries.begin(), entries.end(), [&](const Legend& e) { return e.label == s.label; });
      if (!known) entries.push_back({s.label, s.colour, s.dashed, s.markers, s.line, s.line_width, s.marker_scale});
    }
  }
  return entries;
}

void marker(cairo_t* cr, int colour, double x, double y, double scale) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, scale, scale);
  x = 0;
  y = 0;
  // Shapes as well as colours, so overlapping series stay apart.
  switch (colour % 4) {
    case 0: cairo_arc(cr, x, y, 3.5, 0, 2 * M_PI); break;
    case 1: cairo_rectangle(cr, x - 3.2, y - 3.2, 6.4, 6.4); break;
    case 2:
      cairo_move_to(cr, x, y - 4.5);
      cairo_line_to(cr, x + 4, y + 3);
      cairo_line_to(cr, x - 4, y + 3);
      cairo_close_path(cr);
      break;
    default:
      cairo_move_to(cr, x, y - 4.5);
      cairo_line_to(cr, x + 4.5, y);
      cairo_line_to(cr, x, y + 4.5);
      cairo_line_to(cr, x - 4.5, y);
      cairo_close_path(cr);
  }
  cairo_fill(cr);
  cairo_restore(cr);
}

void stroke_style(cairo_t* cr, const image::Rgb& colour, bool dashed, double width) {
  image::set_colour(cr, colour);
  cairo_set_line_width(cr, width);
  const double dash[] = {5, 5};  // open enough to show a solid curve underneath
  cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
}

}  // namespace

std::string draw_line_chart(ImageFormat format, const LineChart& chart) {
  PPB_ASSERT(!chart.panels.empty(), "a line chart needs a panel");
  const Range xr = x_range(chart), yr = y_range(chart);
  const std::vector<Legend> legend = legend_of(chart);
  const int panels = static_cast<int>(chart.panels.size());
  const double width = 2 * kMargin + panels * (kYAxisWidth + kPanelWidth) + (panels - 1) * kPanelGap;
  const int legend_per_row = std::max(1, static_cast<int>((width - 2 * kMargin) / 230));
  const int legend_rows = (static_cast<int>(legend.size()) + legend_per_row - 1) / legend_per_row;
  const double plot_top = kMargin + kTitleHeight + legend_rows * kLegendRow + 30;
  const double height = plot_top + kPanelHeight + kXAxisHeight + kMargin;

  auto x_of = [&](double left, double x) {
    const double t = chart.log_x ? (std::log2(x) - std::log2(xr.lo)) / (std::log2(xr.hi) - std::log2(xr.lo))
                                 : (x - xr.lo) / (xr.hi - xr.lo);
    return left + 10 + t * (kPanelWidth - 20);
  };
  auto y_of = [&](double y) { return plot_top + kPanelHeight - (y - yr.lo) / (yr.hi - yr.lo) * kPanelHeight; };

  return image::render_page(format, width, height, [&](cairo_t* cr) {
    image::set_colour(cr, image::hex(0x202020));
    image::draw_text(cr, kMargin, kMargin + 12, chart.title, 18, Align::Left, true);
    image::set_colour(cr, image::hex(0x404040));
    image::draw_text(cr, kMargin, kMargin + 36, chart.subtitle, 12, Align::Left);

    for (std::size_t i = 0; i < legend.size(); ++i) {
      const double x = kMargin + static_cast<double>(i % legend_per_row) * 230;
      const double y = kMargin + kTitleHeight + static_cast<double>(i / legend_per_row) * kLegendRow + 8;
      if (legend[i].line) {
        stroke_style(cr, image::palette(legend[i].colour), legend[i].dashed, legend[i].width);
        cairo_move_to(cr, x, y);
        cairo_line_to(cr, x + 30, y);
        cairo_stroke(cr);
      } else {
        image::set_colour(cr, image::palette(legend[i].colour));
      }
      if (legend[i].markers) marker(cr, legend[i].colour, x + 15, y, legend[i].marker_scale);
      image::set_colour(cr, image::hex(0x202020));
      image::draw_text(cr, x + 38, y, legend[i].label, 12, Align::Left);
    }

    for (int p = 0; p < panels; ++p) {
      const ChartPanel& panel = chart.panels[static_cast<std::size_t>(p)];
      const double left = kMargin + kYAxisWidth + p * (kYAxisWidth + kPanelWidth + kPanelGap);
      cairo_set_dash(cr, nullptr, 0, 0);
      image::set_colour(cr, image::hex(0x202020));
      image::draw_text(cr, left + kPanelWidth / 2, plot_top - 14, panel.title, 13, Align::Centre, true);

      // Grid and y axis (percent).
      cairo_set_line_width(cr, 0.6);
      const double y_step = (yr.hi - yr.lo) > 0.5 ? 0.2 : (yr.hi - yr.lo) > 0.2 ? 0.1 : 0.05;
      for (double y = yr.lo; y <= yr.hi + 1e-9; y += y_step) {
        image::set_colour(cr, image::hex(0xDDDDDD));
        cairo_move_to(cr, left, y_of(y));
        cairo_line_to(cr, left + kPanelWidth, y_of(y));
        cairo_stroke(cr);
        image::set_colour(cr, image::hex(0x303030));
        image::draw_text(cr, left - 6, y_of(y), format_number(std::round(y * 1000) / 10) + " %", 11, Align::Right);
      }
      // x ticks: powers of two on a log axis, else five even steps.
      std::vector<double> ticks;
      if (chart.log_x) {
        for (double x = std::exp2(std::ceil(std::log2(xr.lo) - 1e-9)); x <= xr.hi * (1 + 1e-9); x *= 2) ticks.push_back(x);
      } else {
        for (int i = 0; i <= 5; ++i) ticks.push_back(xr.lo + i * (xr.hi - xr.lo) / 5);
      }
      for (double x : ticks) {
        image::set_colour(cr, image::hex(0xDDDDDD));
        cairo_move_to(cr, x_of(left, x), plot_top);
        cairo_line_to(cr, x_of(left, x), plot_top + kPanelHeight);
        cairo_stroke(cr);
        image::set_colour(cr, image::hex(0x303030));
        image::draw_text(cr, x_of(left, x), plot_top + kPanelHeight + 14, format_number(x), 11, Align::Centre);
      }
      image::set_colour(cr, image::hex(0x202020));
      cairo_set_line_width(cr, 1);
      cairo_rectangle(cr, left, plot_top, kPanelWidth, kPanelHeight);
      cairo_stroke(cr);
      image::draw_text(cr, left + kPanelWidth / 2, plot_top + kPanelHeight + 36, chart.x_label, 12, Align::Centre, true);
      if (p == 0) {
        cairo_save(cr);
        cairo_translate(cr, left - 50, plot_top + kPanelHeight / 2);
        cairo_rotate(cr, -M_PI / 2);
        image::draw_text(cr, 0, 0, chart.y_label, 12, Align::Centre, true);
        cairo_restore(cr);
      }

      cairo_save(cr);
      cairo_rectangle(cr, left, plot_top - 6, kPanelWidth, kPanelHeight + 12);
      cairo_clip(cr);
      std::vector<const LineSeries*> order;
      for (const LineSeries& s : panel.series) order.push_back(&s);
      std::stable_partition(order.begin(), order.end(), [](const LineSeries* s) { return !s->dashed; });
      for (const LineSeries* series : order) {
        const LineSeries& s = *series;
        stroke_style(cr, image::palette(s.colour), s.dashed, s.line_width);
        bool started = false;
        for (std::size_t i = 0; i < s.x.size() && i < s.y.size() && s.line; ++i) {
          if (chart.log_x && s.x[i] <= 0) continue;
          const double px = x_of(left, s.x[i]), py = y_of(s.y[i]);
          if (started) cairo_line_to(cr, px, py);
          else cairo_move_to(cr, px, py);
          started = true;
        }
        cairo_stroke(cr);
        if (s.markers) {
          for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!chart.log_x || s.x[i] > 0) marker(cr, s.colour, x_of(left, s.x[i]), y_of(s.y[i]), s.marker_scale);
          }
        }
      }
      cairo_restore(cr);
    }
  });
}

void render_line_chart(const std::string& path, const LineChart& chart) {
  const auto format = image_format_for(path);
  PPB_REQUIRE_INPUT(format.has_value(), chart.flag, ": cannot write '", path,
                    "': a chart needs the extension .svg, .png or .pdf");
  write_file_atomically(path, draw_line_chart(*format, chart));
}

}  // namespace ppb
