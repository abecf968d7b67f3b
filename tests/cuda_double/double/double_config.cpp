#include "double_config.h"

#include <nccl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace ppb::cuda_double {

namespace {

int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* value = std::getenv(name)) return std::atoi(value);
  }
  return 0;
}

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

double number(const char* name, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') config_error(std::string(name) + ": not a number: '" + text + "'");
  return v;
}

// This rank's value of a per-rank list.
double per_rank(const char* name, double fallback, int rank) {
  const char* value = env(name);
  if (value == nullptr) return fallback;
  std::vector<std::string> items;
  std::stringstream in(value);
  for (std::string item; std::getline(in, item, ',');) items.push_back(item);
  if (items.empty()) return fallback;
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(rank < 0 ? 0 : rank), items.size() - 1);
  return number(name, items[i]);
}

double scalar(const char* name, double fallback, double low) {
  const char* value = env(name);
  if (value == nullptr) return fallback;
  const double v = number(name, value);
  if (!(v >= low)) config_error(std::string(name) + ": must be at least " + std::to_string(low) + ", got " + value);
  return v;
}

DoubleConfig read_config() {
  DoubleConfig c;
  c.world_rank = launcher_rank();
  c.devices = static_cast<int>(scalar("PPB_CUDA_DOUBLE_DEVICES", c.devices, 0));
  if (const char* m = env("PPB_CUDA_DOUBLE_MEMORY")) {
    const long long bytes = parse_bytes(m);
    if (bytes <= 0) config_error(std::string("PPB_CUDA_DOUBLE_MEMORY: expected a byte count, got '") + m + "'");
    c.memory_bytes = static_cast<std::uint64_t>(bytes);
  }
  c.sm_count = static_cast<int>(scalar("PPB_CUDA_DOUBLE_SM_COUNT", c.sm_count, 1));
  c.gpu_per_rank = scalar("PPB_CUDA_DOUBLE_GPU_PER_RANK", 0, 0) != 0;
  c.clock_offset_us = per_rank("PPB_CUDA_DOUBLE_CLOCK_OFFSET_US", 0, c.world_rank);
  c.clock_drift_ppm = per_rank("PPB_CUDA_DOUBLE_CLOCK_DRIFT_PPM", 0, c.world_rank);
  c.launch_us = scalar("PPB_CUDA_DOUBLE_LAUNCH_US", c.launch_us, 0);
  c.compute_steps_per_us = scalar("PPB_CUDA_DOUBLE_COMPUTE_RATE", c.compute_steps_per_us, 1e-9);
  c.memory_bytes_per_us = scalar("PPB_CUDA_DOUBLE_MEMORY_RATE", c.memory_bytes_per_us, 1e-9);
  c.link_latency_us = scalar("PPB_CUDA_DOUBLE_LINK_LATENCY_US", c.link_latency_us, 0);
  c.link_bytes_per_us = scalar("PPB_CUDA_DOUBLE_LINK_RATE", c.link_bytes_per_us, 1e-9);
  c.requested_queues = static_cast<int>(scalar("CUDA_DEVICE_MAX_CONNECTIONS", c.requested_queues, 1));
  c.queue_limit = static_cast<int>(scalar("PPB_CUDA_DOUBLE_QUEUES", c.queue_limit, 1));
  c.mps = scalar("PPB_CUDA_DOUBLE_MPS", 0, 0) != 0;
  c.nccl_version = static_cast<int>(scalar("PPB_CUDA_DOUBLE_NCCL_VERSION", NCCL_VERSION_CODE, 0));
  return c;
}

}  // namespace

long long parse_bytes(const std::string& text) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || v < 0) return -1;
  const std::string unit = end;
  if (unit.empty()) return v;
  if (unit == "K") return v << 10;
  if (unit == "M") return v << 20;
  if (unit == "G") return v << 30;
  return -1;
}

void config_error(const std::string& what) {
  std::fprintf(stderr, "ppbench CUDA double: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

int pci_bus(int device) { return 1 + (config().gpu_per_rank ? config().world_rank : device); }

const DoubleConfig& config() {
  static const DoubleConfig c = read_config();
  return c;
}

}  // namespace ppb::cuda_double
