// `ppsim sweep`: bubble, makespan and memory over schedules x stage counts x
// microbatch counts, as a console table, a CSV file and a line chart.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/cost_model.h"

namespace ppb {

struct SweepOptions {
  std::vector<std::string> schedules{"gpipe", "1f1b", "interleaved", "zb-h1"};
  std::vector<int> num_stages{4};
  std::vector<int> num_batches{1, 2, 4, 8, 16, 32, 64};
  std::optional<int> chunks;  // interleaved v; not given: 2
  CostInputs costs;
  std::string csv;     // "-" for stdout
  std::string output;  // line chart: .svg, .png or .pdf
  int jobs = 0;        // 0: every core
};

// Registers the `sweep` subcommand on ppsim's app; `selected()` tells after
// parsing whether it was given, `run()` then does the work.
class SweepCommand {
 public:
  explicit SweepCommand(CLI::App& app);
  bool selected() const { return command_->parsed(); }
  int run() const;

 private:
  CLI::App* command_;
  SweepOptions options_;
};

}  // namespace ppb
