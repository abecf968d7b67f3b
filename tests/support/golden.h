// Golden files: expected text outputs kept under tests/data/golden/. A test
// compares its output with the file; with PPB_UPDATE_GOLDEN=1 in the
// environment it rewrites the file instead (regenerate only on purpose, then
// review the diff: `PPB_UPDATE_GOLDEN=1 ctest --test-dir build -R Golden`).
#pragma once

#include <string>

namespace ppb::test {

// Adds a GoogleTest failure naming the first differing line when `actual`
// differs from the golden file `name`.
void expect_golden(const std::string& name, const std::string& actual);

}  // namespace ppb::test
