// Message sizes on command lines: "4096", "64K", "1M", "16MiB", in lists such
// as --sizes 4K,64K,1M. Suffixes are binary (K = 1024) and case-insensitive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ppb {

// One size: digits, then optionally K, M or G, then optionally "iB" or "B".
// Throws InputError naming `flag` when it is not one, is 0, or exceeds 2^40.
std::uint64_t parse_byte_size(const std::string& text, const std::string& flag);

// A comma-separated list of sizes, returned in increasing order. Throws
// InputError naming `flag` on an empty list, a bad item or a repeated size.
std::vector<std::uint64_t> parse_byte_size_list(const std::string& text, const std::string& flag);

// "4 KiB", "16 MiB", "100 B": the largest binary unit that divides the size.
std::string format_byte_size(std::uint64_t bytes);

}  // namespace ppb
