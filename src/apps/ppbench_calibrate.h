// `ppbench calibrate`: each rank's stage F, B (and W) in isolation and each
// link's message cost at several sizes, measured with the same executor,
// backends and clock alignment as a run, written to a ppbench.calibration/1 file
// (docs/calibration.md).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/ppbench_measure.h"
#include "runtime/mpi_world.h"
#include "sim/cost_model.h"

namespace ppb {

struct CalibrateOptions {
  CostInputs targets;  // -f, --backward-times, --weight-times: each op's target (ms, per rank)
  MeasureOptions measure;
  int reps = 20;  // measured iterations per schedule and size
  std::string sizes = "4K,64K,1M,16M";
  std::string out = "calibration.json";
  bool force = false;  // replace an existing --out
};

// Registers the `calibrate` subcommand on ppbench's app; `selected()` tells
// after parsing whether it was given, `run()` then does the work on every rank
// and returns the exit code, the same on every rank.
class CalibrateCommand {
 public:
  explicit CalibrateCommand(CLI::App& app);
  CalibrateCommand(const CalibrateCommand&) = delete;  // the flags point into options_
  CalibrateCommand& operator=(const CalibrateCommand&) = delete;
  bool selected() const { return command_->parsed(); }
  int run(const std::vector<std::string>& argv, MpiWorld& world) const;

 private:
  CLI::App* command_;
  CalibrateOptions options_;
};

}  // namespace ppb
