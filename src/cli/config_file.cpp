#include "cli/config_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/number_text.h"

namespace ppb {

namespace {

std::string snake(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}
std::string kebab(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

// A scalar as CLI11 expects it on the command line.
std::string json_scalar(const nlohmann::json& v, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  throw CLI::ConfigError("config key '" + key + "': expected a number, string, boolean or list of them");
}

std::vector<std::string> json_values(const nlohmann::json& v, const std::string& key) {
  std::vector<std::string> values;
  if (v.is_array()) {
    for (const auto& e : v) values.push_back(json_scalar(e, key));
  } else {
    values.push_back(json_scalar(v, key));
  }
  return values;
}

std::vector<std::string> yaml_values(const YAML::Node& v, const std::string& key) {
  std::vector<std::string> values;
  auto scalar = [&](const YAML::Node& n) {
    if (!n.IsScalar()) throw CLI::ConfigError("config key '" + key + "': expected a scalar or a list of scalars");
    values.push_back(n.Scalar());
  };
  if (v.IsSequence()) {
    for (const auto& e : v) scalar(e);
  } else {
    scalar(v);
  }
  return values;
}

}  // namespace

JsonYamlConfig::JsonYamlConfig(const CLI::App* app, std::set<std::string> known_keys,
                               std::map<std::string, std::string> aliases, std::vector<ConfigOverride> overrides,
                               std::set<std::string> other_keys)
    : app_(app),
      known_keys_(std::move(known_keys)),
      aliases_(std::move(aliases)),
      overrides_(std::move(overrides)),
      other_keys_(std::move(other_keys)) {}

bool JsonYamlConfig::on_command_line(const std::string& flag) const {
  const CLI::Option* option = app_->get_option_no_throw(flag);
  return option != nullptr && option->count() > 0;
}

std::string JsonYamlConfig::to_config(const CLI::App*, bool, bool, std::string) const { return "{}\n"; }

namespace {

// The top-level keys of a JSON object in file order, with a repeated one refused:
// nlohmann::json would keep the last value silently.
std::vector<std::pair<std::string, nlohmann::json>> json_entries(const std::string& text) {
  std::set<std::string> seen;
  std::string repeated;
  const nlohmann::json::parser_callback_t note_keys = [&](int depth, nlohmann::json::parse_event_t event,
                                                           nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && !seen.insert(parsed.get<std::string>()).second &&
        repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text, note_keys);
  } catch (const nlohmann::json::parse_error& e) {
    throw CLI::ConfigError(std::string("not valid JSON: ") + e.what());
  }
  if (!repeated.empty()) throw CLI::ConfigError("key '" + repeated + "' is given twice");
  if (!doc.is_object()) throw CLI::ConfigError("expected an object of keys to values at the top level");
  std::vector<std::pair<std::string, nlohmann::json>> entries;
  for (const auto& [key, value] : doc.items()) entries.emplace_back(key, value);
  return entries;
}

bool whole_number(const std::string& text, bool allow_sign) {
  std::size_t i = allow_sign && !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

// A value that CLI11 could not convert to the option's type, said in the
// file's terms ("num_stages: expected a whole number, got 3.5"). Other
// options check their values themselves.
void check_value_type(const CLI::Option& option, const std::string& key, const std::vector<std::string>& values) {
  const std::string type = option.get_type_name();
  for (const std::string& v : values) {
    if (type == "INT" && !whole_number(v, true)) throw CLI::ConfigError(key + ": expected a whole number, got " + v);
    if (type == "UINT" && !whole_number(v, false)) {
      throw CLI::ConfigError(key + ": expected a whole number >= 0, got " + v);
    }
    if (type == "FLOAT" && !number_from_text(v)) throw CLI::ConfigError(key + ": expected a number, got " + v);
  }
}

}  // namespace

std::optional<std::string> JsonYamlConfig::key_for(const std::string& flag) const {
  const auto it = keys_applied_.find(flag);
  if (it == keys_applied_.end()) return std::nullopt;
  return it->second;
}

std::vector<CLI::ConfigItem> JsonYamlConfig::from_config(std::istream& input) const {
  keys_applied_.clear();
  keys_ignored_.clear();
  const std::string text{std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>()};
  std::vector<std::pair<std::string, std::vector<std::string>>> entries;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    for (const auto& [key, value] : json_entries(text)) entries.emplace_back(key, json_values(value, key));
  } else {
    YAML::Node doc;
    try {
      doc = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw CLI::ConfigError(std::string("not valid YAML: ") + e.what());
    }
    if (doc.IsNull()) return {};
    if (!doc.IsMap()) throw CLI::ConfigError("expected a mapping of keys to values at the top level");
    for (const auto& kv : doc) {
      if (!kv.first.IsScalar()) throw CLI::ConfigError("keys must be names (snake_case flag names)");
      const std::string key = kv.first.Scalar();
      entries.emplace_back(key, yaml_values(kv.second, key));
    }
  }
  std::set<std::string> replaced;  // keys that flags on the command line replace
  for (const ConfigOverride& o : overrides_) {
    for (const std::string& flag : o.flags) {
      if (on_command_line(flag)) replaced.insert(o.keys.begin(), o.keys.end());
    }
  }
  // One key per flag: a repeated key (YAML keeps the first silently), two
  // spellings (num-stages, num_stages) or a key and its alias (output,
  // output_file) would leave one of the values unused without a word.
  std::map<std::string, std::string> key_of_name;
  std::vector<CLI::ConfigItem> items;
  for (auto& [key, values] : entries) {
    std::string name = snake(key);
    if (const auto alias = aliases_.find(name); alias != aliases_.end()) name = alias->second;
    const bool other = known_keys_.count(name) == 0 && other_keys_.count(name) != 0;
    if (known_keys_.count(name) == 0 && !other) throw CLI::ConfigError("unknown key '" + key + "'");
    const auto [earlier, first_time] = key_of_name.emplace(name, key);
    if (!first_time) {
      if (earlier->second == key) throw CLI::ConfigError("key '" + key + "' is given twice");
      throw CLI::ConfigError("keys '" + earlier->second + "' and '" + key + "' both set --" + kebab(name) +
                             " (give one)");
    }
    if (other) {
      keys_ignored_.push_back(key);
      continue;
    }
    if (replaced.count(name) != 0) continue;
    const std::string flag = "--" + kebab(name);
    if (on_command_line(flag)) continue;  // the command line's value wins (CLI11 would skip it too)
    if (const CLI::Option* option = app_->get_option_no_throw(flag)) check_value_type(*option, key, values);
    keys_applied_[flag] = key;
    CLI::ConfigItem item;
    item.name = kebab(name);
    item.inputs = std::move(values);
    items.push_back(std::move(item));
  }
  return items;
}

void add_config_option(CLI::App& app, const std::map<std::string, std::string>& aliases,
                       std::vector<ConfigOverride> overrides, std::set<std::string> other_keys) {
  std::set<std::string> keys;
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& name : opt->get_lnames()) {
      if (name != "help" && name != "config") keys.insert(snake(name));
    }
  }
  app.set_config("--config,-c", "", "JSON or YAML file of settings; keys are the long flags in snake_case");
  app.config_formatter(
      std::make_shared<JsonYamlConfig>(&app, std::move(keys), aliases, std::move(overrides), std::move(other_keys)));
}

}  // namespace ppb
