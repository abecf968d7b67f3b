// Shared by the mpi suites: the real ppbench under `mpirun -np N
// --oversubscribe` (as root Open MPI also wants its two opt-in variables), and
// small readers of what it printed and wrote.
#pragma once

#include <unistd.h>

#include <string>

#include <nlohmann/json.hpp>

#include "support/run_command.h"

namespace ppb::test {

inline std::string mpirun(int ranks) {
  std::string prefix = ::geteuid() == 0 ? "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " : "";
  return prefix + PPB_MPIEXEC + " -np " + std::to_string(ranks) + " --oversubscribe " + PPB_PPBENCH_PATH;
}

inline nlohmann::json load_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

inline int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace ppb::test
