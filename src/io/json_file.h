// Reading the project's JSON documents with one error for malformed input.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ppb {

// Throws InputError "<source>: not valid JSON (<parser's message>)".
nlohmann::json parse_json(const std::string& text, const std::string& source);

// read_file (io/atomic_file.h) then parse_json, naming `path` in errors.
nlohmann::json read_json_file(const std::string& path);

}  // namespace ppb
