#include "cli/sim_options.h"

#include <functional>
#include <iostream>

#include "cli/byte_sizes.h"
#include "core/errors.h"
#include "io/schedule_io.h"
#include "schedules/generators.h"

namespace ppb {

void add_schedule_options(CLI::App& app, ScheduleOptions& o) {
  auto given = [&o](const char* flag) {
    return [&o, flag](const std::string&) { o.flags_given.insert(flag); };
  };
  app.add_option("--schedule", o.schedule, "gpipe, 1f1b, interleaved or zb-h1")
      ->capture_default_str()
      ->each(given("--schedule"));
  app.add_option("--num-stages,-s", o.num_stages, "pipeline ranks P (GPUs)")
      ->capture_default_str()
      ->each(given("--num-stages"));
  app.add_option("--num-batches,-b", o.num_batches, "microbatches M per iteration")
      ->capture_default_str()
      ->each(given("--num-batches"));
  app.add_option("--chunks", o.chunks, "stages per rank v for interleaved (default 2)")->each(given("--chunks"));
  app.add_option("--schedule-file", o.schedule_file,
                 "read the schedule from a .json or PyTorch .csv file (not with --schedule or --chunks; -s and -b, "
                 "where given, must be the file's)");
  app.add_option("--dump-schedule", o.dump_schedule, "write the schedule to a .json or .csv file");
}

namespace {
// Each time flag records that it was given (command line or config file), so
// that make_cost_model can refuse it beside --calibration.
std::function<void(const std::string&)> mark_given(CostInputs& c, const char* flag) {
  return [&c, flag](const std::string&) { c.time_flags_given.insert(flag); };
}
}  // namespace

void add_op_time_options(CLI::App& app, CostInputs& c) {
  app.add_option("--forward-times,-f", c.forward_ms, "forward time per stage in ms (one value, or one per stage)")
      ->expected(1, -1)
      ->delimiter(',')
      ->capture_default_str()
      ->each(mark_given(c, "--forward-times"));
  app.add_option("--backward-times", c.backward_ms, "backward time per stage in ms")
      ->expected(1, -1)
      ->delimiter(',')
      ->capture_default_str()
      ->each(mark_given(c, "--backward-times"));
  app.add_option("--weight-times", c.weight_ms, "weight-gradient time per stage in ms")
      ->expected(1, -1)
      ->delimiter(',')
      ->each(mark_given(c, "--weight-times"));
}

void add_cost_options(CLI::App& app, CostInputs& c) {
  add_op_time_options(app, c);
  app.add_option("--p2p-time", c.p2p_time_ms, "fixed time of one transfer in ms (overrides latency/bandwidth)")
      ->each(mark_given(c, "--p2p-time"));
  app.add_option("--p2p-latency", c.p2p_latency_ms, "transfer latency in ms")->each(mark_given(c, "--p2p-latency"));
  app.add_option("--bandwidth", c.bandwidth_gbps, "link bandwidth in GB/s (0: infinite)")
      ->each(mark_given(c, "--bandwidth"));
  // Sizes with K/M/G suffixes as in `ppbench calibrate --sizes` (0: messages without a size).
  const CLI::Validator byte_size(
      [](std::string& value) -> std::string {
        if (value == "0") return {};
        try {
          value = std::to_string(parse_byte_size(value, "--activation-bytes"));
        } catch (const InputError& e) {
          const std::string message = e.what();
          return message.substr(message.find(": ") + 2);
        }
        return {};
      },
      "BYTES");
  app.add_option("--activation-bytes", c.activation_bytes, "bytes of one activation (and gradient) message; K, M, G suffixes")
      ->transform(byte_size)
      ->each([&c](const std::string&) { c.activation_bytes_known = true; });
  app.add_option("--optimizer-time", c.optimizer_ms, "optimizer step per rank after its last op, in ms");
  app.add_option("--calibration", c.calibration_file,
                 "per-stage times and link costs from a ppbench.calibration/1 file (instead of the time flags)");
}

std::vector<ConfigOverride> command_line_overrides() {
  return {{{"--schedule"}, {"schedule_file"}},
          {{"--schedule-file"}, {"schedule", "chunks", "num_stages", "num_batches"}},
          {{"--p2p-time", "--p2p-latency", "--bandwidth", "--calibration"}, {"p2p_time", "p2p_latency", "bandwidth"}}};
}

namespace {
// The file decides the schedule: a generator's flag beside it would be ignored
// (or contradict it), so it is refused, naming both flags.
Schedule schedule_from_file(const ScheduleOptions& o) {
  for (const char* flag : {"--schedule", "--chunks"}) {
    PPB_REQUIRE_INPUT(o.flags_given.count(flag) == 0, flag, ": cannot be combined with --schedule-file (the file '",
                      o.schedule_file, "' gives the schedule; give one of them)");
  }
  Schedule s = load_schedule_file(o.schedule_file);
  PPB_REQUIRE_INPUT(o.flags_given.count("--num-stages") == 0 || o.num_stages == s.num_ranks, "--num-stages: ",
                    o.num_stages, " pipeline ranks, but --schedule-file '", o.schedule_file, "' has ", s.num_ranks,
                    " (leave --num-stages out, or give the file's)");
  PPB_REQUIRE_INPUT(o.flags_given.count("--num-batches") == 0 || o.num_batches == s.num_microbatches,
                    "--num-batches: ", o.num_batches, " microbatches, but --schedule-file '", o.schedule_file, "' has ",
                    s.num_microbatches, " (leave --num-batches out, or give the file's)");
  return s;
}
}  // namespace

Schedule build_schedule(const ScheduleOptions& o) {
  if (!o.schedule_file.empty()) return schedule_from_file(o);
  PPB_REQUIRE_INPUT(schedule_is_generated(o.schedule), "--schedule: unknown schedule '", o.schedule,
                    "' (expected gpipe, 1f1b, interleaved or zb-h1)");
  int chunks = 1;
  if (o.schedule == "interleaved") {
    chunks = o.chunks.value_or(2);  // the generator refuses fewer than 2
  } else {
    PPB_REQUIRE_INPUT(!o.chunks || *o.chunks == 1, "--chunks: only the interleaved schedule has chunks (got ",
                      o.chunks.value_or(1), " for ", o.schedule, ")");
  }
  Schedule s = generate_schedule(o.schedule, o.num_stages, o.num_batches, chunks);
  validate(s);
  return s;
}

namespace {
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& ch : text) {
    if (ch == '\n') ch = ' ';
  }
  return text;
}
}  // namespace

int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ConfigError& e) {
    // CLI11 does not tell the formatter which file it reads: name it here.
    const CLI::Option* config = app.get_config_ptr();
    const std::string file = config != nullptr && config->count() > 0 ? config->as<std::string>() + ": " : "";
    std::cerr << app.get_name() + ": error: " + file + one_line(e.what()) + "\n";
    return kExitBadInput;
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() + ": error: " + one_line(e.what()) + "\n";
    return kExitBadInput;
  }
  return -1;
}

void reject_flags_before(const CLI::App& app, const std::string& subcommand, const std::string& without_it) {
  const CLI::Option* config = app.get_config_ptr();
  PPB_REQUIRE_INPUT(config == nullptr || config->count() == 0, "--config: ", subcommand,
                    " reads no config file; give its flags after '", subcommand, "'");
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() == 0) continue;
    PPB_THROW(InputError, option->get_name(), ": give ", subcommand, "'s flags after '", subcommand,
              "' (flags before it belong to ", without_it, ")");
  }
}

int report_error(const std::string& program, const std::exception& error) {
  // One write per line: under mpirun several ranks share standard error.
  std::cerr << program + ": error: " + one_line(error.what()) + "\n";
  if (const auto* e = dynamic_cast<const Error*>(&error)) return e->exit_code();
  return kExitInternal;
}

}  // namespace ppb
