// `ppbench sweep`: the measured counterpart of `ppsim sweep`. For each
// (schedule, M) point, in order, every rank opens a session on the command's
// one backend, aligns clocks and runs warm-up and measured iterations exactly
// as a ppbench run does; rank 0 judges each point as a run is judged
// (ppbench_run_setup.h) and writes it at once into the sweep directory: the
// point's run directory under points/, and sweep.csv and sweep.json with the
// points so far; at the end the chart, and sweep.json says it is complete
// (docs/runtime.md, "ppbench sweep").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/ppbench_measure.h"
#include "runtime/mpi_world.h"
#include "sim/cost_model.h"

namespace ppb {

struct MeasuredSweepOptions {
  std::vector<std::string> schedules{"gpipe", "1f1b", "interleaved", "zb-h1"};
  std::vector<int> num_batches{1, 2, 4, 8, 16};
  std::optional<int> chunks;  // interleaved v; not given: 2
  CostInputs costs;
  MeasureOptions measure;
  int iters = 5;
  std::string out;  // empty: runs/<date>-sweep-P<P>
  std::optional<double> max_error_pct;
  std::vector<std::string> faults;  // --inject-fault, as given
  // A run's flags that a sweep cannot honour, given after `sweep` (refused by
  // name in check_options rather than by CLI11's "arguments were not expected").
  std::vector<std::string> run_only_flags_given;
};

// Registers the `sweep` subcommand on ppbench's app; `selected()` tells after
// parsing whether it was given, `run()` then does the work on every rank and
// returns the exit code, the same on every rank.
class MeasuredSweepCommand {
 public:
  explicit MeasuredSweepCommand(CLI::App& app);
  MeasuredSweepCommand(const MeasuredSweepCommand&) = delete;  // the flags point into options_
  MeasuredSweepCommand& operator=(const MeasuredSweepCommand&) = delete;
  bool selected() const { return command_->parsed(); }
  int run(const std::vector<std::string>& argv, MpiWorld& world) const;

 private:
  CLI::App* command_;
  MeasuredSweepOptions options_;
};

}  // namespace ppb
