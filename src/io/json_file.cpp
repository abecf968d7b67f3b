#include "io/json_file.h"

#include "core/errors.h"
#include "io/atomic_file.h"

namespace ppb {

nlohmann::json parse_json(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    PPB_THROW(InputError, source, ": not valid JSON (", e.what(), ")");
  }
}

nlohmann::json read_json_file(const std::string& path) { return parse_json(read_file(path), path); }

}  // namespace ppb
