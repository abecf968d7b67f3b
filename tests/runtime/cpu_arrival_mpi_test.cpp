// The CPU backend's arrival stamps, through the real backend under `mpirun
// -np 2` (cpu_arrival_probe): a message that arrives while the receiver
// computes is stamped by the first poll after it came, during that compute,
// not when the receiver next needs it or one poll later. The bounds are
// structural (whole sleep slices of 20 ms), not timings.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include <nlohmann/json.hpp>

#include "support/run_command.h"

namespace ppb {
namespace {

constexpr double kSliceUs = 20000;  // the probe's sleep slice
constexpr double kLongOpMs = 60;    // F of stage 1: three slices

nlohmann::json probe(unsigned long long bytes) {
  const std::string prefix = ::geteuid() == 0 ? "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " : "";
  const test::CommandResult r = test::run_command(prefix + PPB_MPIEXEC + " -np 2 --oversubscribe " +
                                                  PPB_CPU_ARRIVAL_PROBE_PATH + " " + std::to_string(bytes) + " " +
                                                  std::to_string(kSliceUs) + " " + std::to_string(kLongOpMs));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

class ArrivalDuringCompute : public ::testing::TestWithParam<unsigned long long> {};

TEST_P(ArrivalDuringCompute, IsStampedByTheFirstPollAfterIt) {
  const nlohmann::json j = probe(GetParam());
  ASSERT_FALSE(j["send"].is_null());
  ASSERT_FALSE(j["arrive"].is_null());
  const double send = j["send"], arrive = j["arrive"];
  const double start = j["compute_start"], end = j["compute_end"];
  // The set-up the test relies on: the activation was sent early in the long
  // compute, with at least two sleep slices of it left.
  ASSERT_LT(start, send);
  ASSERT_LT(send, end - 2 * kSliceUs);
  // It was there before the consumer asked for it...
  EXPECT_TRUE(j["wait_start"].is_null());
  // ...and was stamped during the compute, after it was sent,
  EXPECT_LE(send, arrive);
  EXPECT_LT(arrive, end);
  // by the first poll after it came (at most a slice later, plus half a slice
  // of wake-up delay), not by the one after that.
  EXPECT_LT(arrive - send, 1.5 * kSliceUs) << "send " << send - start << " us into the compute, seen "
                                           << arrive - start << " us into it";
}

// Eager (below Open MPI's shared-memory eager limit), rendezvous, and large.
INSTANTIATE_TEST_SUITE_P(MessageSizes, ArrivalDuringCompute, ::testing::Values(4096ULL, 65536ULL, 4194304ULL));

}  // namespace
}  // namespace ppb
