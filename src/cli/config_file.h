// --config/-c files in JSON or YAML for CLI11. Keys are the long flag names in
// snake_case (num_stages for --num-stages); flags given on the command line win
// over the file. Unknown keys, nested values and malformed files are errors that
// name the file and the key.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include <CLI/CLI.hpp>

namespace ppb {

class JsonYamlConfig : public CLI::Config {
 public:
  // known_keys: the snake_case keys accepted; aliases: extra key -> flag name
  // (e.g. "output_file" -> "output").
  JsonYamlConfig(std::set<std::string> known_keys, std::map<std::string, std::string> aliases);

  std::string to_config(const CLI::App*, bool, bool, std::string) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  std::set<std::string> known_keys_;
  std::map<std::string, std::string> aliases_;
};

// Installs --config/-c on the app with the keys taken from the app's own long
// option names (and the aliases).
void add_config_option(CLI::App& app, const std::map<std::string, std::string>& aliases);

}  // namespace ppb
