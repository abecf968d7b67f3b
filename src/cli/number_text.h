// Numbers typed by people, on the command line or in a config file.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace ppb {

// The number `text` spells, only when it uses the whole text (strtod alone
// would take "3x" for 3); none for empty text or anything else.
inline std::optional<double> number_from_text(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

}  // namespace ppb
