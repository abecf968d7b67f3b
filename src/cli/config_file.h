// --config/-c files in JSON or YAML for CLI11. Keys are the long flag names in
// snake_case (num_stages for --num-stages); flags given on the command line win
// over the file: over the same key, and over the keys a ConfigOverride names.
// Unknown keys, nested values and malformed files are errors that name the file
// and the key. One file serves ppsim and ppbench: each command accepts the
// other's own keys (ppsim's outputs, ppbench's measurement flags) and leaves
// them unused, saying so (keys_ignored).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ppb {

// Flags on the command line that replace other keys of the file: when any of
// `flags` (long names, "--schedule") is on the command line, the file's `keys`
// (snake_case, "schedule_file") are dropped. For settings that are alternatives
// (--schedule or --schedule-file; --p2p-time or --p2p-latency), where the file's
// would otherwise contradict or silently override the command line's.
struct ConfigOverride {
  std::vector<std::string> flags;
  std::vector<std::string> keys;
};

class JsonYamlConfig : public CLI::Config {
 public:
  // known_keys: the snake_case keys accepted; aliases: extra key -> flag name
  // (e.g. "output_file" -> "output"); other_keys: keys accepted and not used
  // (another command's flags). `app` is read when the file is: CLI11 has then
  // parsed the command line but not yet the file, so an option with a value was
  // given on the command line.
  JsonYamlConfig(const CLI::App* app, std::set<std::string> known_keys, std::map<std::string, std::string> aliases,
                 std::vector<ConfigOverride> overrides, std::set<std::string> other_keys = {});

  std::string to_config(const CLI::App*, bool, bool, std::string) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

  // The key (as written in the file) that gave `flag` ("--num-stages") its value,
  // after parsing; none when the value came from the command line or nowhere.
  // For errors about a file's value that CLI11 reports under the flag's name.
  std::optional<std::string> key_for(const std::string& flag) const;

  // The other command's keys the file held (as written), in file order, after parsing.
  const std::vector<std::string>& keys_ignored() const { return keys_ignored_; }

 private:
  bool on_command_line(const std::string& flag) const;

  const CLI::App* app_;
  std::set<std::string> known_keys_;
  std::map<std::string, std::string> aliases_;
  std::vector<ConfigOverride> overrides_;
  std::set<std::string> other_keys_;
  mutable std::map<std::string, std::string> keys_applied_;  // "--flag" -> key, by from_config
  mutable std::vector<std::string> keys_ignored_;            // by from_config
};

// Installs --config/-c on the app with the keys taken from the app's own long
// option names (and the aliases), the command line's overrides and the other
// command's keys, accepted and unused.
void add_config_option(CLI::App& app, const std::map<std::string, std::string>& aliases,
                       std::vector<ConfigOverride> overrides = {}, std::set<std::string> other_keys = {});

}  // namespace ppb
