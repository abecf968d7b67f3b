// `ppsim compare MEASURED PREDICTED`: a measured timeline against the predicted
// one of the same schedule: makespan and bubble errors, the worst ops, and the
// idle time of each rank broken down (docs/compare.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ppb {

struct CompareOptions {
  std::string measured;          // ppbench.timeline/1 or ppbench.measured/1
  std::string predicted;         // the same kinds
  std::optional<int> iteration;  // of a measured document; default: median makespan
  int top = 10;                  // rows of the worst-ops tables
  std::string json;              // "ppbench.compare/1" document; "-" for stdout
};

// Registers the `compare` subcommand on ppsim's app; `selected()` tells after
// parsing whether it was given, `run()` then does the work.
class CompareCommand {
 public:
  explicit CompareCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int run(const std::vector<std::string>& argv) const;

 private:
  CLI::App* command_;
  CompareOptions options_;
};

}  // namespace ppb
