#include "support/golden.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "support/run_command.h"

namespace ppb::test {

void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(PPB_TEST_DATA_DIR) + "/golden/" + name;
  const char* update = std::getenv("PPB_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    write_text(path, actual);
    std::cout << "[golden] rewrote " << path << "\n";
    return;
  }
  ASSERT_TRUE(file_exists(path)) << "golden file " << path
                                 << " is missing; create it with PPB_UPDATE_GOLDEN=1 and review it";
  const std::string expected = read_text(path);
  if (expected == actual) return;
  std::istringstream e(expected), a(actual);
  std::string el, al;
  int line = 1;
  while (true) {
    const bool more_e = static_cast<bool>(std::getline(e, el));
    const bool more_a = static_cast<bool>(std::getline(a, al));
    if (!more_e && !more_a) break;
    if (!more_e || !more_a || el != al) {
      ADD_FAILURE() << name << " differs from the golden file at line " << line << "\n  expected: "
                    << (more_e ? el : "<end of file>") << "\n  actual:   " << (more_a ? al : "<end of output>")
                    << "\n(if the change is intended: PPB_UPDATE_GOLDEN=1, then review the diff)";
      return;
    }
    ++line;
  }
  ADD_FAILURE() << name << " differs from the golden file (line endings or a trailing newline)";
}

}  // namespace ppb::test
