// ppbench's flags: one options struct, parsed once by CLI11, passed by value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/ppbench_measure.h"
#include "cli/sim_options.h"

namespace ppb {

struct PpbenchOptions {
  ScheduleOptions schedule;
  CostInputs costs;
  bool num_stages_given = false;  // --num-stages on the command line (else P = ranks)
  MeasureOptions measure;  // --backend, CUDA flags, --warmup, --timeout, --spin-us
  int iters = 5;
  std::string out;  // empty: runs/<date>-<schedule>-P<P>-M<M>
  std::optional<double> max_error_pct;
  std::vector<std::string> faults;  // --inject-fault, as given
  int width = 0;  // 0: terminal width
};

// Registers every flag on `app`; call options_after_parse once parsing succeeded.
void add_ppbench_options(CLI::App& app, PpbenchOptions& options);
void options_after_parse(const CLI::App& app, PpbenchOptions& options);

// Checks the values CLI11 cannot (ranges); throws InputError naming the flag.
void check_ppbench_options(const PpbenchOptions& options);

}  // namespace ppb
