#include "render/ascii.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ppb {

std::string render_ascii(const Timeline& t, const AsciiOptions& options) {
  const int width = std::max(options.width, 10);
  double makespan = 0;
  for (const auto& ops : t.ranks) {
    for (const OpRecord& rec : ops) makespan = std::max(makespan, rec.end_us);
  }
  const double us_per_col = makespan > 0 ? makespan / width : 1.0;
  std::string out;
  for (int r = 0; r < t.num_ranks; ++r) {
    std::string row(static_cast<std::size_t>(width), '.');
    for (const OpRecord& rec : t.ranks[static_cast<std::size_t>(r)]) {
      // A column belongs to the op covering its midpoint.
      const int first = static_cast<int>(std::ceil(rec.start_us / us_per_col - 0.5));
      const int last = static_cast<int>(std::ceil(rec.end_us / us_per_col - 0.5)) - 1;
      if (last < first) continue;
      const char letter = kind_letter(rec.op.kind);
      for (int c = std::max(first, 0); c <= std::min(last, width - 1); ++c) row[static_cast<std::size_t>(c)] = letter;
      if (rec.op.kind != OpKind::Optimizer) {
        const std::string label = letter + std::to_string(rec.op.microbatch);
        if (last - first + 1 >= static_cast<int>(label.size())) {
          for (std::size_t i = 0; i < label.size(); ++i) row[static_cast<std::size_t>(first) + i] = label[i];
        }
      }
    }
    char head[32];
    std::snprintf(head, sizeof(head), "GPU %-3d|", r);
    out += head + row + "|\n";
  }
  return out;
}

}  // namespace ppb
