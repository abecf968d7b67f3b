// Terminal timeline, drawn from a Timeline so it can only show what ran (or
// would run): one row per rank labelled with its GPU and stages, time scaled to
// a line width, ops labelled F3 / B3 / W3 where they fit, idle as '.', a time
// axis with its unit, a legend and, under it, the metrics.
#pragma once

#include <string>

#include "analysis/metrics.h"
#include "core/timeline.h"

namespace ppb {

struct AsciiOptions {
  int width = 100;      // columns of a whole line, row labels included
  bool color = false;   // ANSI colours by op kind (see ascii_color_wanted)
  bool title = true;    // first line: schedule, P, M, v and the source
  bool metrics = true;  // makespan, bubble, analytic reference, peak activations
};

// Fill characters: the kind letter (F, B, W, O); lowercase for the odd chunks of
// an interleaved schedule, so that chunk 0 and chunk 1 of a rank read apart.
// '.' is idle inside the iteration, ' ' lies past a timeline's own end.
std::string render_ascii(const Timeline& timeline, const AsciiOptions& options);

// Measured and predicted rows interleaved per rank on one time scale; either
// pointer may be null (not both). Both timelines must have the same rank count.
std::string render_ascii(const Timeline* measured, const Timeline* predicted, const AsciiOptions& options);

// Colours only on a terminal, and never when NO_COLOR is set to a non-empty
// value (https://no-color.org).
bool ascii_color_wanted(int fd);

// Columns for a timeline on standard output: $COLUMNS, else the terminal's
// width, else 100 (widths of 20 or less are ignored).
int ascii_terminal_width();

}  // namespace ppb
