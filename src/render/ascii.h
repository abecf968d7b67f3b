// Terminal timeline: one row per rank, time scaled to a width, ops labelled
// where they fit, idle shown as '.'.
#pragma once

#include <string>

#include "analysis/metrics.h"
#include "core/timeline.h"

namespace ppb {

struct AsciiOptions {
  int width = 100;     // columns for the time axis
  bool color = false;  // ANSI colours by op kind
};

std::string render_ascii(const Timeline& timeline, const AsciiOptions& options);

}  // namespace ppb
