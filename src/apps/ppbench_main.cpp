// ppbench: run a pipeline schedule on every MPI rank and hold the measurement
// against the simulator (docs/runtime.md); `ppbench calibrate` measures the
// cost model instead (docs/calibration.md); `ppbench sweep` measures schedules
// x microbatch counts (docs/runtime.md).
#include <iostream>
#include <string>
#include <vector>

#include "apps/ppbench_calibrate.h"
#include "apps/ppbench_options.h"
#include "apps/ppbench_run.h"
#include "apps/ppbench_sweep.h"
#include "backends/cuda/cuda_backend.h"
#include "cli/config_file.h"
#include "cli/sim_options.h"
#include "core/errors.h"
#include "runtime/mpi_world.h"

int main(int argc, char** argv) {
  using namespace ppb;
  const std::vector<std::string> args(argv, argv + argc);
  set_cuda_environment_defaults();  // before MPI_Init: a CUDA-aware MPI may start CUDA
  MpiWorld world(&argc, &argv);
  PpbenchOptions options;
  CLI::App app{"ppbench: run a pipeline-parallel schedule under MPI and compare it with the simulator", "ppbench"};
  add_ppbench_options(app, options);
  // Beside the run's flags only: calibrate and sweep take no config file.
  add_config_option(app, config_key_aliases(), command_line_overrides(), ppsim_only_config_keys());
  const CalibrateCommand calibrate(app);
  const MeasuredSweepCommand sweep(app);
  // Every rank parses the same argv, so every rank reaches the same verdict.
  const int parsed = parse_command_line(app, argc, argv);
  if (parsed >= 0) return parsed;
  options_after_parse(app, options);
  if (const std::string note = unused_config_keys_note(app, "ppsim"); !note.empty() && world.rank() == 0) {
    std::cerr << note << " (a run writes its own directory)\n";
  }
  // A subcommand's flags come after its name. Identical on every rank: each
  // prints its line and exits, no collective needed.
  const auto misplaced_flags = [&app](const std::string& subcommand) -> int {
    try {
      reject_flags_before(app, subcommand, "a run");
    } catch (const InputError& e) {
      return report_error("ppbench", e);
    }
    return kExitOk;
  };
  try {
    if (calibrate.selected()) {
      const int refused = misplaced_flags("calibrate");
      return refused != kExitOk ? refused : calibrate.run(args, world);
    }
    if (sweep.selected()) {
      const int refused = misplaced_flags("sweep");
      return refused != kExitOk ? refused : sweep.run(args, world);
    }
    return run_ppbench(options, args, world);
  } catch (const std::exception& e) {
    report_error("ppbench", e);
    MpiWorld::abort(kExitRunFailed);
  }
}
