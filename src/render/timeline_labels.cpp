#include "render/timeline_labels.h"

#include <algorithm>

namespace ppb {

double timeline_end_us(const Timeline& t) {
  double end = 0;
  for (const auto& ops : t.ranks) {
    for (const OpRecord& rec : ops) end = std::max(end, rec.end_us);
  }
  return end;
}

std::string stages_of_rank(const Timeline& t, int rank, int* count) {
  std::string stages;
  int n = 0;
  for (int s = 0; s < t.num_stages(); ++s) {
    if (t.stage_rank[static_cast<std::size_t>(s)] != rank) continue;
    stages += (n++ ? "," : "") + std::to_string(s);
  }
  if (count != nullptr) *count = n;
  return stages;
}

}  // namespace ppb
