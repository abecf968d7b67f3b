#include "cli/byte_sizes.h"

#include <algorithm>
#include <cctype>

#include "core/errors.h"

namespace ppb {

namespace {
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 40;
}  // namespace

std::uint64_t parse_byte_size(const std::string& text, const std::string& flag) {
  std::size_t i = 0;
  std::uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    PPB_REQUIRE_INPUT(value <= kMaxBytes, flag, ": '", text, "' is larger than 1 TiB");
    ++i;
  }
  PPB_REQUIRE_INPUT(i > 0, flag, ": '", text, "' is not a size (expected bytes, or a number with K, M or G)");
  std::string unit = text.substr(i);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::toupper(c); });
  std::uint64_t scale = 1;
  if (!unit.empty() && (unit[0] == 'K' || unit[0] == 'M' || unit[0] == 'G')) {
    scale = unit[0] == 'K' ? 1024 : unit[0] == 'M' ? 1024 * 1024 : 1024 * 1024 * 1024;
    unit.erase(0, 1);
    if (unit == "IB") unit.clear();
  }
  if (unit == "B") unit.clear();
  PPB_REQUIRE_INPUT(unit.empty(), flag, ": '", text, "' is not a size (expected bytes, or a number with K, M or G)");
  PPB_REQUIRE_INPUT(value > 0, flag, ": sizes must be positive (got '", text, "')");
  PPB_REQUIRE_INPUT(value <= kMaxBytes / scale, flag, ": '", text, "' is larger than 1 TiB");
  return value * scale;
}

std::vector<std::uint64_t> parse_byte_size_list(const std::string& text, const std::string& flag) {
  std::vector<std::uint64_t> sizes;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    sizes.push_back(parse_byte_size(text.substr(start, comma - start), flag));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(sizes.begin(), sizes.end());
  const auto repeated = std::adjacent_find(sizes.begin(), sizes.end());
  PPB_REQUIRE_INPUT(repeated == sizes.end(), flag, ": size ", repeated == sizes.end() ? 0 : *repeated,
                    " bytes is given twice");
  return sizes;
}

std::string format_byte_size(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++u;
  }
  return std::to_string(bytes) + " " + units[u];
}

}  // namespace ppb
