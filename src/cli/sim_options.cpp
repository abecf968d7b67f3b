#include "cli/sim_options.h"

#include <cmath>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>

#include "cli/byte_sizes.h"
#include "cli/number_text.h"
#include "core/errors.h"
#include "io/schedule_io.h"
#include "schedules/generators.h"

namespace ppb {

namespace {

// The reason of an InputError "FLAG: reason": CLI11 puts the flag (or, for a
// config file's value, parse_command_line the file and key) in front itself.
std::string reason_of(const InputError& e) {
  const std::string message = e.what();
  const auto at = message.find(": ");
  return at == std::string::npos ? message : message.substr(at + 2);
}

// Checked at parse time, so a config file's value is reported with the file and
// key; values that are not numbers are left to CLI11's conversion.
CLI::Validator positive_count() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::optional<double> v = number_from_text(text);
        if (v && *v == std::floor(*v) && *v <= 0) {
          return "must be a positive integer (got " + text + ")";
        }
        return {};
      },
      std::string());
}

CLI::Validator time_value(const char* flag, bool allow_zero, double scale = 1000.0) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        const std::optional<double> v = number_from_text(text);
        if (!v) return {};
        try {
          require_time(*v, flag, allow_zero, scale);
        } catch (const InputError& e) {
          return reason_of(e);
        }
        return {};
      },
      std::string());
}

// A times list as given: separate arguments, or one string of values separated by
// spaces and/or commas ("1 2 3 4", "1, 2"), on the command line or in a config file.
std::vector<double> parse_time_list(const std::vector<std::string>& items, const char* flag) {
  std::vector<double> values;
  for (const std::string& item : items) {
    std::string token;
    for (const char ch : item + " ") {
      if (ch != ' ' && ch != ',' && ch != '\t') {
        token += ch;
        continue;
      }
      if (token.empty()) continue;
      const std::optional<double> v = number_from_text(token);
      if (!v) throw CLI::ValidationError(flag, "'" + token + "' is not a number (times in ms)");
      try {
        require_time(*v, flag, false);
      } catch (const InputError& e) {
        throw CLI::ValidationError(flag, reason_of(e));
      }
      values.push_back(*v);
      token.clear();
    }
  }
  if (values.empty()) throw CLI::ValidationError(flag, "expected one value, or one per rank (got none)");
  return values;
}

// Registers a times list; each records that it was given (command line or
// config file), so that make_cost_model can refuse it beside --calibration.
void add_time_list(CLI::App& app, const std::string& names, const char* flag, std::vector<double>& target,
                   CostInputs& c, const std::string& help) {
  CLI::Option* option = app.add_option_function<std::vector<std::string>>(
      names,
      [&target, &c, flag](const std::vector<std::string>& items) {
        target = parse_time_list(items, flag);
        c.time_flags_given.insert(flag);
      },
      help);
  // Not "FLOAT": the config file's type check would refuse "1 2" as a number.
  option->expected(1, -1)->delimiter(',')->type_name("MS");
  if (!target.empty()) {
    std::ostringstream shown;
    for (std::size_t i = 0; i < target.size(); ++i) shown << (i ? "," : "") << target[i];
    option->default_str(shown.str());
  }
}

std::function<void(const std::string&)> mark_given(CostInputs& c, const char* flag) {
  return [&c, flag](const std::string&) { c.time_flags_given.insert(flag); };
}

}  // namespace

void add_schedule_options(CLI::App& app, ScheduleOptions& o) {
  auto given = [&o](const char* flag) {
    return [&o, flag](const std::string&) { o.flags_given.insert(flag); };
  };
  app.add_option("--schedule", o.schedule, "gpipe, 1f1b, interleaved or zb-h1")
      ->capture_default_str()
      ->each(given("--schedule"));
  app.add_option("--num-stages,-s", o.num_stages, "pipeline ranks P (GPUs)")
      ->capture_default_str()
      ->check(positive_count())
      ->each(given("--num-stages"));
  app.add_option("--num-batches,-b", o.num_batches, "microbatches M per iteration")
      ->capture_default_str()
      ->check(positive_count())
      ->each(given("--num-batches"));
  app.add_option("--chunks", o.chunks, "stages per rank v for interleaved (default 2)")->each(given("--chunks"));
  app.add_option("--schedule-file", o.schedule_file,
                 "read the schedule from a .json or PyTorch .csv file (not with --schedule or --chunks; -s and -b, "
                 "where given, must be the file's)");
  app.add_option("--dump-schedule", o.dump_schedule, "write the schedule to a .json or .csv file");
}

void add_op_time_options(CLI::App& app, CostInputs& c) {
  add_time_list(app, "--forward-times,-f", "--forward-times", c.forward_ms, c,
                "forward time per pipeline rank in ms (one value, or one per rank; with --chunks split evenly over "
                "the rank's chunks; space- or comma-separated)");
  add_time_list(app, "--backward-times", "--backward-times", c.backward_ms, c, "backward time per rank in ms");
  add_time_list(app, "--weight-times", "--weight-times", c.weight_ms, c, "weight-gradient time per rank in ms");
}

void add_cost_options(CLI::App& app, CostInputs& c) {
  add_op_time_options(app, c);
  app.add_option("--p2p-time", c.p2p_time_ms, "fixed time of one transfer in ms (overrides latency/bandwidth)")
      ->check(time_value("--p2p-time", true))
      ->each(mark_given(c, "--p2p-time"));
  app.add_option("--p2p-latency", c.p2p_latency_ms, "transfer latency in ms")
      ->check(time_value("--p2p-latency", true))
      ->each(mark_given(c, "--p2p-latency"));
  app.add_option("--bandwidth", c.bandwidth_gbps, "link bandwidth in GB/s (0: infinite)")
      ->check(time_value("--bandwidth", true, 1e3))
      ->each(mark_given(c, "--bandwidth"));
  // Sizes with K/M/G suffixes as in `ppbench calibrate --sizes` (0: messages without a size).
  const CLI::Validator byte_size(
      [](std::string& value) -> std::string {
        if (value == "0") return {};
        try {
          value = std::to_string(parse_byte_size(value, "--activation-bytes"));
        } catch (const InputError& e) {
          return reason_of(e);
        }
        return {};
      },
      "BYTES");
  app.add_option("--activation-bytes", c.activation_bytes, "bytes of one activation (and gradient) message; K, M, G suffixes")
      ->transform(byte_size)
      ->each([&c](const std::string&) { c.activation_bytes_known = true; });
  app.add_option("--optimizer-time", c.optimizer_ms, "optimizer step per rank after its last op, in ms")
      ->check(time_value("--optimizer-time", true));
  app.add_option("--calibration", c.calibration_file,
                 "per-stage times and link costs from a ppbench.calibration/1 file (instead of the time flags)");
}

void add_sweep_list_options(CLI::App& app, std::vector<std::string>& schedules, std::vector<int>& num_batches,
                            std::optional<int>& chunks) {
  app.add_option("--schedule", schedules, "comma-separated schedules (gpipe,1f1b,interleaved,zb-h1)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--num-batches,-b", num_batches, "comma-separated microbatch counts M")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--chunks", chunks, "stages per rank v for interleaved (default 2)");
}

void check_sweep_lists(const std::vector<std::string>& schedules, const std::vector<int>& num_batches,
                       const std::optional<int>& chunks) {
  PPB_REQUIRE_INPUT(!schedules.empty(), "--schedule: give at least one schedule");
  for (const std::string& s : schedules) require_generated_schedule(s);
  for (int m : num_batches) PPB_REQUIRE_INPUT(m > 0, "--num-batches: must be positive integers (got ", m, ")");
  PPB_REQUIRE_INPUT(!chunks || *chunks >= 2, "--chunks: interleaved needs at least 2 chunks per rank (got ",
                    chunks.value_or(2), ")");
}

std::vector<ConfigOverride> command_line_overrides() {
  return {{{"--schedule"}, {"schedule_file"}},
          {{"--schedule-file"}, {"schedule", "chunks", "num_stages", "num_batches"}},
          {{"--p2p-time", "--p2p-latency", "--bandwidth", "--calibration"}, {"p2p_time", "p2p_latency", "bandwidth"}}};
}

std::set<std::string> ppsim_only_config_keys() {
  return {"output", "transfers", "no_visualization", "metrics_json", "timeline_json"};
}

std::set<std::string> ppbench_only_config_keys() {
  return {"backend", "kernel", "sm_share", "no_nvtx", "warmup", "timeout", "setup_timeout", "spin_us", "iters", "out",
          "max_error", "inject_fault"};
}

std::map<std::string, std::string> config_key_aliases() { return {{"output_file", "output"}}; }

std::string unused_config_keys_note(const CLI::App& app, const std::string& owner) {
  const auto config = std::dynamic_pointer_cast<JsonYamlConfig>(app.get_config_formatter());
  const CLI::Option* file = app.get_config_ptr();
  if (config == nullptr || file == nullptr || file->count() == 0 || config->keys_ignored().empty()) return {};
  std::string keys;
  for (const std::string& key : config->keys_ignored()) keys += (keys.empty() ? "" : ", ") + key;
  return app.get_name() + ": " + file->as<std::string>() + ": " + owner + "'s keys " + keys + " unused";
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
  require_generated_schedule(o.schedule);
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

// CLI11 reports a bad value under the flag's name ("--num-stages: must be a
// positive integer (got 0)"); when the value came from the config file, say it
// in the file's terms instead: "cfg.yaml: num_stages: must be ...".
std::string config_file_terms(const CLI::App& app, const std::string& message) {
  const auto config = std::dynamic_pointer_cast<JsonYamlConfig>(app.get_config_formatter());
  const CLI::Option* file = app.get_config_ptr();
  const auto colon = message.find(": ");
  if (config == nullptr || file == nullptr || file->count() == 0 || message.rfind("--", 0) != 0 ||
      colon == std::string::npos) {
    return message;
  }
  const auto key = config->key_for(message.substr(0, colon));
  return key ? file->as<std::string>() + ": " + *key + message.substr(colon) : message;
}

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
    std::cerr << app.get_name() + ": error: " + config_file_terms(app, one_line(e.what())) + "\n";
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
