// What the tests of launch/device/ share: where the scripts are, what a call
// left in OUT, its archive extracted, and small scripts written on the fly.
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "support/run_command.h"

namespace ppb::test {

inline const std::string kDeviceScripts = std::string(PPB_SOURCE_DIR) + "/launch/device/";

// The names directly in `dir`, folders with a trailing '/'.
inline std::set<std::string> entries_of(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.insert(e.path().filename().string() + (e.is_directory() ? "/" : ""));
  }
  return names;
}

// Extracts OUT/results.tar.gz into OUT/x and returns OUT/x/results/<gpu>/.
inline std::string extract_results(const std::string& out, const std::string& gpu = "local-cpu") {
  const auto r = run_command("mkdir " + out + "/x && tar -xzf " + out + "/results.tar.gz -C " + out + "/x");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out + "/x/results/" + gpu + "/";
}

// An executable shell script.
inline void write_script(const std::string& path, const std::string& body) {
  write_text(path, "#!/bin/bash\n" + body);
  EXPECT_EQ(run_command("chmod +x '" + path + "'").exit_code, 0);
}

inline bool have(const std::string& program) { return run_command("command -v " + program).exit_code == 0; }

}  // namespace ppb::test
