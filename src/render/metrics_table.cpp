#include "render/metrics_table.h"

#include <cmath>
#include <cstdio>

namespace ppb {

std::string format_duration(double us) {
  char buf[64];
  if (us >= 1000.0 || us == 0.0) {
    std::snprintf(buf, sizeof(buf), "%.3f ms", us / 1000.0);
  } else if (std::abs(us) < 1.0) {  // nanosecond ops would read "0.0 us" beside a real bubble
    std::snprintf(buf, sizeof(buf), "%.3f us", us);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f us", us);
  }
  return buf;
}

std::string format_metrics_table(const Metrics& m, const Timeline& t) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "makespan          %s\n", format_duration(m.makespan_us).c_str());
  out += line;
  std::snprintf(line, sizeof(line), "bubble fraction   %.2f %%\n", 100.0 * m.bubble_fraction);
  out += line;
  if (m.analytic_bubble) {
    const char* formula = t.schedule == "interleaved" ? "(P-1)/(vM+P-1)" : "(P-1)/(M+P-1)";
    std::snprintf(line, sizeof(line), "analytic bubble   %.2f %%  (%s: uniform stages, no communication)\n",
                  100.0 * *m.analytic_bubble, formula);
    out += line;
  }
  out += "rank      busy          idle          bubble   peak activations\n";
  for (const RankMetrics& r : m.ranks) {
    std::snprintf(line, sizeof(line), "%-8d  %-12s  %-12s  %6.2f %%  %d\n", r.rank, format_duration(r.busy_us).c_str(),
                  format_duration(r.idle_us).c_str(), 100.0 * r.bubble_fraction, r.peak_activations);
    out += line;
  }
  return out;
}

}  // namespace ppb
