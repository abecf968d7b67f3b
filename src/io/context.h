// The "context" block every output document carries: what produced it, where.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ppb {

// argv, ppbench version and git revision, host name and backend. Callers that
// know more (GPU names, CUDA/NCCL/MPI versions, clock-alignment bound) add keys.
nlohmann::json make_context(const std::vector<std::string>& argv, const std::string& backend);

std::string ppbench_version();
std::string ppbench_git_revision();

}  // namespace ppb
