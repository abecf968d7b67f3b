#include "render/time_axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ppb {

TimeUnit time_unit_for(double span_us) {
  if (span_us >= 1e6) return {"s", 1e6};
  if (span_us >= 1e3) return {"ms", 1e3};
  return {"us", 1.0};
}

std::vector<double> time_ticks(double span_us, int target, const TimeUnit& unit) {
  std::vector<double> ticks;
  if (!(span_us > 0) || target < 1) {
    ticks.push_back(0.0);
    return ticks;
  }
  const double span = span_us / unit.us_per_unit;
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  // A tick on the end of the span is kept, despite rounding in the division.
  const int count = static_cast<int>(std::floor(span / step + 1e-9));
  for (int i = 0; i <= count; ++i) ticks.push_back(i * step * unit.us_per_unit);
  return ticks;
}

std::string format_tick(double us, const TimeUnit& unit) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", us / unit.us_per_unit);
  return buf;
}

}  // namespace ppb
