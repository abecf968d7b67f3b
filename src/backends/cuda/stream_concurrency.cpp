#include "backends/cuda/stream_concurrency.h"

#include <algorithm>
#include <cstdlib>

namespace ppb::cuda {

int max_overlap(std::vector<std::pair<double, double>> intervals) {
  // Ends before starts at equal times: touching intervals do not count twice.
  std::vector<std::pair<double, int>> edges;
  for (const auto& [start, end] : intervals) {
    if (!(end > start)) continue;
    edges.push_back({start, +1});
    edges.push_back({end, -1});
  }
  std::sort(edges.begin(), edges.end());
  int now = 0, most = 0;
  for (const auto& edge : edges) {
    now += edge.second;
    most = std::max(most, now);
  }
  return most;
}

int requested_hardware_queues(const char* env_value) {
  if (env_value == nullptr || *env_value == '\0') return 8;
  char* end = nullptr;
  const long v = std::strtol(env_value, &end, 10);
  if (*end != '\0' || v < 1) return 8;
  return static_cast<int>(std::min<long>(v, 32));
}

}  // namespace ppb::cuda
