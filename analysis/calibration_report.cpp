#include "analysis/calibration_report.h"

#include <cstdio>

#include "render/metrics_table.h"

namespace ppb {

namespace {

// "4 KiB", "16 MiB", "100 B": the largest binary unit that divides the size.
std::string size_text(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++u;
  }
  return std::to_string(bytes) + " " + units[u];
}

void row(std::string& out, const std::string& a, const std::string& b, const std::string& c, const SampleStats& s) {
  char line[256];
  std::snprintf(line, sizeof(line), "%-8s %-8s %11s %11s %11s %11s %8zu\n", a.c_str(), b.c_str(), c.c_str(),
                format_duration(s.median_us).c_str(), format_duration(s.p5_us).c_str(),
                format_duration(s.p95_us).c_str(), s.samples);
  out += line;
}

}  // namespace

std::string format_calibration_report(const Calibration& c, const CostModel& targets) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-8s %-8s %11s %11s %11s %11s %8s\n", "rank", "kind", "target", "median", "p5",
                "p95", "samples");
  out += line;
  for (std::size_t r = 0; r < c.stages.size(); ++r) {
    const StageCalibration& s = c.stages[r];
    auto target = [&](const std::vector<double>& list) {
      return r < list.size() && list[r] > 0 ? format_duration(list[r]) : std::string("-");
    };
    row(out, std::to_string(r), "F", target(targets.forward_us), s.forward);
    row(out, "", "B", target(targets.backward_us), s.backward);
    if (s.weight) row(out, "", "W", target(targets.weight_us), *s.weight);
  }
  if (c.links.empty()) return out;  // one rank: no links
  out += "\n";
  std::snprintf(line, sizeof(line), "%-8s %-8s %11s %11s %11s %11s %8s\n", "link", "size", "", "median", "p5", "p95",
                "samples");
  out += line;
  for (const LinkCalibration& l : c.links) {
    bool first = true;
    for (const LinkSizeStats& s : l.sizes) {
      row(out, first ? std::to_string(l.src_rank) + " -> " + std::to_string(l.dst_rank) : "", size_text(s.bytes), "",
          s.time);
      first = false;
    }
    char bandwidth[32] = "unbounded";
    if (l.fit.bytes_per_us > 0) std::snprintf(bandwidth, sizeof(bandwidth), "%.3g GB/s", l.fit.bandwidth_gbps());
    std::snprintf(line, sizeof(line), "%-8s fit: latency %s, bandwidth %s, r^2 %.4f", "",
                  format_duration(l.fit.latency_us).c_str(), bandwidth, l.fit.r_squared);
    out += line;
    if (!l.fit.note.empty()) out += " (" + l.fit.note + ")";
    out += "\n";
  }
  return out;
}

}  // namespace ppb
