// The schedule and cost flags shared by ppsim, its subcommands and ppbench: one
// options struct, parsed once by CLI11, then passed by value.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/config_file.h"
#include "core/schedule.h"
#include "sim/cost_model.h"

namespace ppb {

struct ScheduleOptions {
  std::string schedule = "1f1b";
  int num_stages = 4;   // P: pipeline ranks (GPUs); with chunks, P * v stages in all
  int num_batches = 8;  // M: microbatches per iteration
  std::optional<int> chunks;  // v; not given: 2 for interleaved, else 1
  std::string schedule_file;  // .json or .csv: the schedule instead of a generator
  std::string dump_schedule;  // write the schedule (.json or .csv)
  // The flags above given on the command line or in a config file (recorded by
  // add_schedule_options): with --schedule-file, build_schedule refuses --schedule,
  // --chunks, and a --num-stages or --num-batches that differs from the file's.
  std::set<std::string> flags_given;
};

// Registers --schedule, --num-stages/-s, --num-batches/-b, --chunks,
// --schedule-file, --dump-schedule.
void add_schedule_options(CLI::App& app, ScheduleOptions& options);

// Registers --forward-times/-f, --backward-times and --weight-times (ms, one
// value or one per rank).
void add_op_time_options(CLI::App& app, CostInputs& costs);

// Registers --forward-times/-f, --backward-times, --weight-times, --p2p-time,
// --p2p-latency, --bandwidth, --activation-bytes, --optimizer-time, --calibration.
void add_cost_options(CLI::App& app, CostInputs& costs);

// The lists both sweeps (ppsim sweep, ppbench sweep) take: --schedule and
// --num-batches/-b, comma-separated, and --chunks (v for interleaved).
void add_sweep_list_options(CLI::App& app, std::vector<std::string>& schedules, std::vector<int>& num_batches,
                            std::optional<int>& chunks);
// Throws InputError naming the flag: no schedule or an unknown one, an M < 1, a v < 2.
void check_sweep_lists(const std::vector<std::string>& schedules, const std::vector<int>& num_batches,
                       const std::optional<int>& chunks);

// For a config file beside these flags: a flag on the command line replaces the
// file's alternatives to it, not only its own key. --schedule replaces the file's
// schedule_file; --schedule-file its schedule, chunks, num_stages and num_batches;
// a link flag (--p2p-time, --p2p-latency, --bandwidth) or --calibration all of
// the file's link keys. (The file's op times beside --calibration stay an error:
// make_cost_model names both.)
std::vector<ConfigOverride> command_line_overrides();

// One config file serves ppsim and ppbench. Each command's own keys, which the
// other accepts and leaves unused: ppsim's outputs (ppbench writes a run
// directory), ppbench's measurement flags (ppsim measures nothing). Both
// commands take "output_file" for "output" (config_key_aliases).
std::set<std::string> ppsim_only_config_keys();
std::set<std::string> ppbench_only_config_keys();
std::map<std::string, std::string> config_key_aliases();
// "<program>: cfg.yaml: <owner>'s keys a, b unused"; empty when the file held none.
std::string unused_config_keys_note(const CLI::App& app, const std::string& owner);

// Builds (generates or loads) and validates the schedule. Throws InputError
// naming the flag or file on bad input, and naming both flags when
// --schedule-file is combined with a generator's flag it contradicts.
Schedule build_schedule(const ScheduleOptions& options);

// Runs CLI11 and turns its errors into one line for standard error. Returns -1
// to continue, or the exit code to stop with (0 after --help).
int parse_command_line(CLI::App& app, int argc, char** argv);

// A subcommand has its own flags: flags given before its name belong to the
// command without it (`without_it`: "a single simulation", "a run") and would
// be silently ignored, so any of them is an InputError naming the flag.
void reject_flags_before(const CLI::App& app, const std::string& subcommand, const std::string& without_it);

// Prints "<program>: error: <message>" as one line and returns the exit code
// for the exception (InputError -> 2, RunError -> 3, others -> 1).
int report_error(const std::string& program, const std::exception& error);

}  // namespace ppb
