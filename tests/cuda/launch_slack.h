// Time a launch may add beyond its work in the GPU tests' bounds: a GPU's
// launch gap. Built on the CUDA double (tests/cuda_double) the tests allow
// more: there an op that starts on an idle stream starts when the host
// enqueues it, and a loaded host may take a while between the start event
// and the launch (the double's build defines PPB_LAUNCH_SLACK_US).
#pragma once

#ifndef PPB_LAUNCH_SLACK_US
#define PPB_LAUNCH_SLACK_US 20.0
#endif

namespace ppb::test {
constexpr double kLaunchSlackUs = PPB_LAUNCH_SLACK_US;
}  // namespace ppb::test
