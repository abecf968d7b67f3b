// The real ppsim for CLI tests: the target defines PPB_PPSIM_PATH.
#pragma once

#include <string>

#include "support/run_command.h"

namespace ppb::test {

inline const std::string kPpsim = PPB_PPSIM_PATH;

inline CommandResult ppsim(const std::string& args) { return run_command(kPpsim + " " + args); }

}  // namespace ppb::test
