// Time axes shared by the text and image renderers: a unit a reader expects
// for the span shown and "nice" tick steps (1, 2 or 5 times a power of ten).
#pragma once

#include <string>
#include <vector>

namespace ppb {

struct TimeUnit {
  const char* name;   // "us", "ms" or "s"
  double us_per_unit;  // 1, 1e3 or 1e6
};

// The unit in which `span_us` reads as a number between 1 and 1000 (us below
// 1 ms, ms below 1 s, s above).
TimeUnit time_unit_for(double span_us);

// Tick positions (in us) from 0 up to at most span_us, about `target` of them,
// with a step that is 1, 2 or 5 times a power of ten in `unit`.
std::vector<double> time_ticks(double span_us, int target, const TimeUnit& unit);

// "12", "2.5": a tick value in its unit, without trailing zeros.
std::string format_tick(double us, const TimeUnit& unit);

}  // namespace ppb
