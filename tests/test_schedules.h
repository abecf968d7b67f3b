// Shared by the core suites: the generator cases the conformance suite runs over.
#pragma once

#include <ostream>
#include <string>

#include "schedules/generators.h"

namespace ppb::test {

struct GeneratorCase {
  std::string name;
  int ranks;
  int microbatches;
  int chunks;
};

inline std::ostream& operator<<(std::ostream& out, const GeneratorCase& c) {
  return out << c.name << "_P" << c.ranks << "_M" << c.microbatches << "_v" << c.chunks;
}

inline Schedule make(const GeneratorCase& c) { return generate_schedule(c.name, c.ranks, c.microbatches, c.chunks); }

}  // namespace ppb::test
