// The Gantt chart: rows per rank (measured and predicted rows alternating when
// both are given), op boxes coloured by kind with their microbatch, idle time
// hatched as bubble, a legend, a time axis with its unit and a title carrying
// the bubble fraction and the analytic formula.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "analysis/metrics.h"
#include "core/errors.h"
#include "io/atomic_file.h"
#include "render/image.h"
#include "render/image/cairo_canvas.h"
#include "render/metrics_table.h"
#include "render/time_axis.h"
#include "render/timeline_labels.h"

namespace ppb {
namespace {

using image::Align;
using image::Rgb;

constexpr double kMargin = 24;
constexpr double kTitleHeight = 58;
constexpr double kLegendHeight = 28;
constexpr double kAxisHeight = 46;
constexpr double kRankGap = 8;
constexpr double kMinPlotWidth = 900;
constexpr double kMaxPlotWidth = 3600;
constexpr double kShortestOpPx = 26;  // room for a two-digit label in the shortest op

struct Source {
  const Timeline* timeline;
  const char* name;  // "measured" / "predicted", or "" when alone
};

Rgb kind_colour(OpKind kind) {
  switch (kind) {
    case OpKind::F: return image::hex(0x3A6FB0);          // blue
    case OpKind::B: return image::hex(0x3E9A57);          // green
    case OpKind::W: return image::hex(0xE08A2E);          // orange
    case OpKind::Optimizer: return image::hex(0x8E63B5);  // purple
  }
  return image::hex(0x777777);
}

// Later chunks of an interleaved schedule are lighter shades of the same hue.
Rgb op_colour(const Timeline& t, const Op& op) {
  const Rgb base = kind_colour(op.kind);
  if (t.chunks <= 1 || op.stage < 0) return base;
  const int chunk = op.stage / std::max(t.num_ranks, 1);
  return image::mix(base, image::hex(0xFFFFFF), 0.45 * chunk / (t.chunks - 1));
}

const Rgb kBubble = image::hex(0xF1E4E4);
const Rgb kBubbleHatch = image::hex(0xD9B8B8);

std::string display_name(const std::string& schedule) {
  if (schedule == "gpipe") return "GPipe";
  if (schedule == "1f1b") return "1F1B";
  if (schedule == "interleaved") return "Interleaved 1F1B";
  if (schedule == "zb-h1") return "ZB-H1";
  return schedule;
}

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %%", 100.0 * fraction);
  return buf;
}

std::string rank_label(const Timeline& t, int rank) {
  int count = 0;
  const std::string stages = stages_of_rank(t, rank, &count);
  return "GPU " + std::to_string(rank) + (count > 1 ? " · stages " : " · stage ") + stages;
}

struct Layout {
  double width = 0, height = 0;
  double plot_left = 0, plot_width = 0, plot_top = 0;
  double row_height = 0;
  double px_per_us = 0;
  double end_us = 0;
  int rows_per_rank = 1;

  double x(double us) const { return plot_left + us * px_per_us; }
  double row_top(int rank, int source) const {
    return plot_top + rank * (rows_per_rank * row_height + kRankGap) + source * row_height;
  }
  double plot_bottom(int ranks) const { return row_top(ranks, 0) - kRankGap; }
};

class GanttPainter {
 public:
  GanttPainter(std::vector<Source> sources, const GanttOptions& options)
      : sources_(std::move(sources)), options_(options), first_(*sources_[0].timeline) {}

  Layout layout(cairo_t* measure) const {
    Layout l;
    l.rows_per_rank = static_cast<int>(sources_.size());
    l.row_height = sources_.size() > 1 ? 20 : 24;
    double label_width = 0;
    for (int r = 0; r < first_.num_ranks; ++r) {
      for (const Source& s : sources_) {
        label_width = std::max(label_width, image::text_width(measure, row_label(s, r), 12));
      }
    }
    double shortest = 0;
    for (const Source& s : sources_) {
      l.end_us = std::max(l.end_us, timeline_end_us(*s.timeline));
      for (const auto& ops : s.timeline->ranks) {
        for (const OpRecord& rec : ops) {
          const double d = rec.end_us - rec.start_us;
          if (d > 0 && (shortest == 0 || d < shortest)) shortest = d;
        }
      }
    }
    if (l.end_us <= 0) l.end_us = 1;
    const double wanted = shortest > 0 ? l.end_us / shortest * kShortestOpPx : kMinPlotWidth;
    l.plot_width = std::clamp(wanted, kMinPlotWidth, kMaxPlotWidth);
    l.px_per_us = l.plot_width / l.end_us;
    l.plot_left = kMargin + label_width + 12;
    l.plot_top = kMargin + kTitleHeight + kLegendHeight;
    l.width = l.plot_left + l.plot_width + kMargin + 12;
    l.height = l.plot_bottom(first_.num_ranks) + kAxisHeight + kMargin;
    return l;
  }

  void paint(cairo_t* cr, const Layout& l) const {
    draw_title(cr, l);
    draw_legend(cr, l);
    draw_grid(cr, l);
    for (int r = 0; r < first_.num_ranks; ++r) {
      for (std::size_t i = 0; i < sources_.size(); ++i) draw_row(cr, l, r, static_cast<int>(i));
    }
    if (options_.transfers) {
      for (std::size_t i = 0; i < sources_.size(); ++i) draw_transfers(cr, l, static_cast<int>(i));
    }
    draw_axis(cr, l);
  }

 private:
  std::string row_label(const Source& s, int rank) const {
    std::string label = rank_label(*s.timeline, rank);
    if (*s.name) label += std::string(" · ") + s.name;
    return label;
  }

  void draw_title(cairo_t* cr, const Layout& l) const {
    (void)l;
    std::string title = display_name(first_.schedule) + " · P=" + std::to_string(first_.num_ranks) +
                        " · M=" + std::to_string(first_.num_microbatches);
    if (first_.chunks > 1) title += " · v=" + std::to_string(first_.chunks);
    image::set_colour(cr, image::hex(0x202020));
    image::draw_text(cr, kMargin, kMargin + 10, title, 18, Align::Left, true);

    std::string sub;
    for (const Source& s : sources_) {
      const Metrics m = compute_metrics(*s.timeline);
      if (!sub.empty()) sub += "  |  ";
      sub += (*s.name ? std::string(s.name) + " " : s.timeline->source + " ") + "bubble " +
             percent(m.bubble_fraction) + ", makespan " + format_duration(m.makespan_us);
    }
    const auto analytic = analytic_bubble(first_.generator, first_.num_ranks, first_.num_microbatches, first_.chunks);
    if (analytic) {
      sub += std::string("  |  analytic ") + (first_.chunks > 1 ? "(P-1)/(vM+P-1)" : "(P-1)/(M+P-1)") + " = " +
             percent(*analytic) + " (uniform stages, no communication)";
    } else {
      sub += "  |  no analytic formula for " + first_.schedule;
    }
    image::set_colour(cr, image::hex(0x404040));
    image::draw_text(cr, kMargin, kMargin + 36, sub, 12, Align::Left);
  }

  void swatch(cairo_t* cr, double& x, double y, const std::string& label, Rgb colour, bool hatch = false,
              bool arrow = false) const {
    if (arrow) {
      image::set_colour(cr, image::hex(0x333333), 0.8);
      cairo_set_line_width(cr, 1.2);
      cairo_move_to(cr, x, y);
      cairo_line_to(cr, x + 18, y);
      cairo_stroke(cr);
      draw_arrowhead(cr, x, y, x + 18, y);
    } else {
      image::set_colour(cr, colour);
      cairo_rectangle(cr, x, y - 7, 18, 14);
      cairo_fill(cr);
      if (hatch) hatch_rect(cr, x, y - 7, 18, 14);
    }
    image::set_colour(cr, image::hex(0x202020));
    image::draw_text(cr, x + 24, y, label, 12, Align::Left);
    x += 24 + image::text_width(cr, label, 12) + 22;
  }

  void draw_legend(cairo_t* cr, const Layout& l) const {
    bool has_w = false, has_opt = false;
    for (const Source& s : sources_) {
      for (const auto& ops : s.timeline->ranks) {
        for (const OpRecord& rec : ops) {
          has_w |= rec.op.kind == OpKind::W;
          has_opt |= rec.op.kind == OpKind::Optimizer;
        }
      }
    }
    double x = l.plot_left;
    const double y = kMargin + kTitleHeight + kLegendHeight / 2 - 6;
    swatch(cr, x, y, "forward", kind_colour(OpKind::F));
    swatch(cr, x, y, first_.split_backward ? "backward (input grad)" : "backward", kind_colour(OpKind::B));
    if (has_w) swatch(cr, x, y, "weight grad", kind_colour(OpKind::W));
    if (has_opt) swatch(cr, x, y, "optimizer", kind_colour(OpKind::Optimizer));
    swatch(cr, x, y, "idle (bubble)", kBubble, true);
    if (options_.transfers) swatch(cr, x, y, "transfer", Rgb{0, 0, 0}, false, true);
    if (first_.chunks > 1) {
      image::set_colour(cr, image::hex(0x404040));
      image::draw_text(cr, x, y, "lighter: later chunk · label: microbatch", 12, Align::Left);
    } else {
      image::set_colour(cr, image::hex(0x404040));
      image::draw_text(cr, x, y, "label: microbatch", 12, Align::Left);
    }
  }

  static void hatch_rect(cairo_t* cr, double x, double y, double w, double h) {
    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    image::set_colour(cr, kBubbleHatch);
    cairo_set_line_width(cr, 1);
    constexpr double kStep = 7;
    // Diagonals anchored to the page, so neighbouring idle spans line up.
    const double first = std::floor((x - h) / kStep) * kStep;
    for (double d = first; d < x + w; d += kStep) {
      cairo_move_to(cr, d, y + h);
      cairo_line_to(cr, d + h, y);
    }
    cairo_stroke(cr);
    cairo_restore(cr);
  }

  void draw_grid(cairo_t* cr, const Layout& l) const {
    const TimeUnit unit = time_unit_for(l.end_us);
    image::set_colour(cr, image::hex(0xDDDDDD));
    cairo_set_line_width(cr, 0.6);
    for (double tick : time_ticks(l.end_us, std::max(2, static_cast<int>(l.plot_width / 110)), unit)) {
      cairo_move_to(cr, l.x(tick), l.plot_top - 4);
      cairo_line_to(cr, l.x(tick), l.plot_bottom(first_.num_ranks) + 4);
    }
    cairo_stroke(cr);
  }

  void draw_row(cairo_t* cr, const Layout& l, int rank, int source) const {
    const Source& s = sources_[static_cast<std::size_t>(source)];
    const Timeline& t = *s.timeline;
    const double top = l.row_top(rank, source) + 1;
    const double h = l.row_height - 2;

    image::set_colour(cr, image::hex(0x202020));
    image::draw_text(cr, l.plot_left - 10, top + h / 2, row_label(s, rank), 12, Align::Right);

    // Idle: the whole iteration of this timeline, boxes are painted over it.
    const double end = timeline_end_us(t);
    image::set_colour(cr, kBubble);
    cairo_rectangle(cr, l.x(0), top, end * l.px_per_us, h);
    cairo_fill(cr);
    hatch_rect(cr, l.x(0), top, end * l.px_per_us, h);

    for (const OpRecord& rec : t.ranks[static_cast<std::size_t>(rank)]) {
      const double x0 = l.x(rec.start_us), w = (rec.end_us - rec.start_us) * l.px_per_us;
      const Rgb colour = op_colour(t, rec.op);
      image::set_colour(cr, colour);
      cairo_rectangle(cr, x0, top, std::max(w, 0.5), h);
      cairo_fill_preserve(cr);
      if (w > 3) {
        image::set_colour(cr, image::hex(0xFFFFFF));
        cairo_set_line_width(cr, 0.8);
        cairo_stroke(cr);
      } else {
        cairo_new_path(cr);
      }
      if (rec.op.kind == OpKind::Optimizer) continue;
      const std::string label = std::to_string(rec.op.microbatch);
      for (double size : {11.0, 9.0, 7.5}) {
        if (image::text_width(cr, label, size, true) + 3 <= w && size <= h) {
          image::set_colour(cr, image::is_dark(colour) ? image::hex(0xFFFFFF) : image::hex(0x202020));
          image::draw_text(cr, x0 + w / 2, top + h / 2, label, size, Align::Centre, true);
          break;
        }
      }
    }
  }

  static void draw_arrowhead(cairo_t* cr, double x0, double y0, double x1, double y1) {
    const double angle = std::atan2(y1 - y0, x1 - x0);
    constexpr double kLen = 6, kSpread = 0.45;
    cairo_move_to(cr, x1, y1);
    cairo_line_to(cr, x1 - kLen * std::cos(angle - kSpread), y1 - kLen * std::sin(angle - kSpread));
    cairo_line_to(cr, x1 - kLen * std::cos(angle + kSpread), y1 - kLen * std::sin(angle + kSpread));
    cairo_close_path(cr);
    cairo_fill(cr);
  }

  void draw_transfers(cairo_t* cr, const Layout& l, int source) const {
    const Timeline& t = *sources_[static_cast<std::size_t>(source)].timeline;
    cairo_set_line_width(cr, 0.9);
    for (const TransferRecord& x : t.transfers) {
      const double y0 = l.row_top(x.src_rank, source) + l.row_height / 2;
      const double y1 = l.row_top(x.dst_rank, source) + l.row_height / 2;
      const double x0 = l.x(x.send_us), x1 = l.x(x.arrive_us);
      image::set_colour(cr, image::hex(0x222222), 0.55);
      cairo_move_to(cr, x0, y0);
      cairo_line_to(cr, x1, y1);
      cairo_stroke(cr);
      draw_arrowhead(cr, x0, y0, x1, y1);
    }
  }

  void draw_axis(cairo_t* cr, const Layout& l) const {
    const double y = l.plot_bottom(first_.num_ranks) + 6;
    const TimeUnit unit = time_unit_for(l.end_us);
    image::set_colour(cr, image::hex(0x202020));
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, l.x(0), y);
    cairo_line_to(cr, l.x(l.end_us), y);
    cairo_stroke(cr);
    for (double tick : time_ticks(l.end_us, std::max(2, static_cast<int>(l.plot_width / 110)), unit)) {
      cairo_move_to(cr, l.x(tick), y);
      cairo_line_to(cr, l.x(tick), y + 5);
      cairo_stroke(cr);
      image::draw_text(cr, l.x(tick), y + 14, format_tick(tick, unit), 11, Align::Centre);
    }
    image::draw_text(cr, l.x(l.end_us / 2), y + 32, std::string("time (") + unit.name + ")", 12, Align::Centre, true);
  }

  std::vector<Source> sources_;
  GanttOptions options_;
  const Timeline& first_;
};

std::vector<Source> sources_of(const Timeline* measured, const Timeline* predicted) {
  PPB_ASSERT(measured != nullptr || predicted != nullptr, "a Gantt chart needs a timeline");
  std::vector<Source> sources;
  const bool both = measured != nullptr && predicted != nullptr;
  if (measured != nullptr) sources.push_back({measured, both ? "measured" : ""});
  if (predicted != nullptr) sources.push_back({predicted, both ? "predicted" : ""});
  PPB_ASSERT(!both || measured->num_ranks == predicted->num_ranks, "measured and predicted rank counts differ");
  return sources;
}

}  // namespace

bool image_output_available() { return true; }

std::string draw_gantt(ImageFormat format, const Timeline* measured, const Timeline* predicted,
                       const GanttOptions& options) {
  const GanttPainter painter(sources_of(measured, predicted), options);
  // Text is measured on a scratch surface to size the page before drawing.
  cairo_surface_t* scratch = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t* measure = cairo_create(scratch);
  const Layout layout = painter.layout(measure);
  cairo_destroy(measure);
  cairo_surface_destroy(scratch);
  return image::render_page(format, layout.width, layout.height,
                            [&](cairo_t* cr) { painter.paint(cr, layout); });
}

void render_gantt(const std::string& path, const Timeline* measured, const Timeline* predicted,
                  const GanttOptions& options) {
  const auto format = image_format_for(path);
  PPB_REQUIRE_INPUT(format.has_value(), options.flag, ": cannot write '", path,
                    "': an image needs the extension .svg, .png or .pdf");
  write_file_atomically(path, draw_gantt(*format, measured, predicted, options));
}

}  // namespace ppb
