// The one drawing surface of the image renderers: a cairo context on an SVG,
// PDF or PNG surface, collected in memory so the caller writes the file
// atomically. Internal to ppb_image.
#pragma once

#include <cairo.h>

#include <functional>
#include <string>

#include "render/image.h"

namespace ppb::image {

struct Rgb {
  double r, g, b;
};

Rgb hex(unsigned rgb);
Rgb mix(Rgb a, Rgb b, double t);  // t = 0: a, t = 1: b
bool is_dark(Rgb c);
void set_colour(cairo_t* cr, Rgb c, double alpha = 1.0);

// Categorical palette (colour-blind friendly: Okabe & Ito, 2008); wraps around.
Rgb palette(int index);

// Draws on a width x height page (points for PDF/SVG, pixels for PNG) and
// returns the bytes of the file. Throws Error when cairo reports a failure.
std::string render_page(ImageFormat format, double width, double height, const std::function<void(cairo_t*)>& draw);

enum class Align { Left, Centre, Right };

double text_width(cairo_t* cr, const std::string& text, double size, bool bold = false);
// y is the text's vertical middle.
void draw_text(cairo_t* cr, double x, double y, const std::string& text, double size, Align align, bool bold = false);

}  // namespace ppb::image
