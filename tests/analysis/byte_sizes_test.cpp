// Message sizes on command lines (--sizes of `ppbench calibrate`).
#include <gtest/gtest.h>

#include "cli/byte_sizes.h"
#include "core/errors.h"

namespace ppb {
namespace {

TEST(ByteSizes, SuffixesAreBinaryAndCaseInsensitive) {
  EXPECT_EQ(parse_byte_size("4096", "--sizes"), 4096u);
  EXPECT_EQ(parse_byte_size("64K", "--sizes"), 65536u);
  EXPECT_EQ(parse_byte_size("64k", "--sizes"), 65536u);
  EXPECT_EQ(parse_byte_size("64KiB", "--sizes"), 65536u);
  EXPECT_EQ(parse_byte_size("1M", "--sizes"), 1048576u);
  EXPECT_EQ(parse_byte_size("16mib", "--sizes"), 16777216u);
  EXPECT_EQ(parse_byte_size("2G", "--sizes"), 2147483648u);
  EXPECT_EQ(parse_byte_size("100B", "--sizes"), 100u);
}

TEST(ByteSizes, ListsAreSorted) {
  EXPECT_EQ(parse_byte_size_list("1M,4K,64K", "--sizes"), (std::vector<std::uint64_t>{4096, 65536, 1048576}));
  EXPECT_EQ(parse_byte_size_list("7", "--sizes"), (std::vector<std::uint64_t>{7}));
}

void expect_error(const std::string& text, const std::string& message) {
  try {
    parse_byte_size_list(text, "--sizes");
    FAIL() << "accepted '" << text << "'";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ByteSizes, BadSizesNameTheFlag) {
  expect_error("", "--sizes: '' is not a size (expected bytes, or a number with K, M or G)");
  expect_error("4K,,1M", "--sizes: '' is not a size (expected bytes, or a number with K, M or G)");
  expect_error("4Q", "--sizes: '4Q' is not a size (expected bytes, or a number with K, M or G)");
  expect_error("-4K", "--sizes: '-4K' is not a size (expected bytes, or a number with K, M or G)");
  expect_error("1.5M", "--sizes: '1.5M' is not a size (expected bytes, or a number with K, M or G)");
  expect_error("0", "--sizes: sizes must be positive (got '0')");
  expect_error("2048G", "--sizes: '2048G' is larger than 1 TiB");
  expect_error("99999999999999999999999", "--sizes: '99999999999999999999999' is larger than 1 TiB");
  expect_error("4K,4096", "--sizes: size 4096 bytes is given twice");
}

}  // namespace
}  // namespace ppb
