#include "render/image/cairo_canvas.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>

#include <memory>

#include "core/errors.h"

namespace ppb::image {
namespace {

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check(cairo_status_t status, const char* what) {
  PPB_ASSERT(status == CAIRO_STATUS_SUCCESS, what, ": ", cairo_status_to_string(status));
}

// One font for every format: the same family name goes into SVG and PDF.
constexpr const char* kFont = "DejaVu Sans";

}  // namespace

Rgb hex(unsigned rgb) {
  return {((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0};
}

Rgb mix(Rgb a, Rgb b, double t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

bool is_dark(Rgb c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b < 0.6; }

void set_colour(cairo_t* cr, Rgb c, double alpha) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

Rgb palette(int index) {
  static const unsigned colours[] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9, 0x000000, 0x666666};
  const int n = static_cast<int>(sizeof(colours) / sizeof(colours[0]));
  return hex(colours[((index % n) + n) % n]);
}

std::string render_page(ImageFormat format, double width, double height, const std::function<void(cairo_t*)>& draw) {
  std::string bytes;
  cairo_surface_t* surface = nullptr;
  switch (format) {
    case ImageFormat::Svg:
      surface = cairo_svg_surface_create_for_stream(append_bytes, &bytes, width, height);
      break;
    case ImageFormat::Pdf:
      surface = cairo_pdf_surface_create_for_stream(append_bytes, &bytes, width, height);
      break;
    case ImageFormat::Png:
      surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(width + 0.5),
                                           static_cast<int>(height + 0.5));
      break;
  }
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> owned(surface, cairo_surface_destroy);
  check(cairo_surface_status(surface), "cairo surface");
  cairo_t* cr = cairo_create(surface);
  std::unique_ptr<cairo_t, decltype(&cairo_destroy)> owned_cr(cr, cairo_destroy);
  cairo_set_source_rgb(cr, 1, 1, 1);  // opaque white page, also for PNG
  cairo_paint(cr);
  draw(cr);
  check(cairo_status(cr), "cairo drawing");
  owned_cr.reset();
  if (format == ImageFormat::Png) {
    check(cairo_surface_write_to_png_stream(surface, append_bytes, &bytes), "cairo png");
  }
  cairo_surface_finish(surface);  // SVG and PDF are written out here
  check(cairo_surface_status(surface), "cairo surface");
  return bytes;
}

double text_width(cairo_t* cr, const std::string& text, double size, bool bold) {
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

void draw_text(cairo_t* cr, double x, double y, const std::string& text, double size, Align align, bool bold) {
  const double w = text_width(cr, text, size, bold);
  cairo_font_extents_t font;
  cairo_font_extents(cr, &font);
  double left = x;
  if (align == Align::Centre) left = x - w / 2;
  if (align == Align::Right) left = x - w;
  // Middle of the caps: the baseline sits about 0.35 em below it.
  cairo_move_to(cr, left, y + 0.35 * size);
  cairo_show_text(cr, text.c_str());
  cairo_new_path(cr);
}

}  // namespace ppb::image
