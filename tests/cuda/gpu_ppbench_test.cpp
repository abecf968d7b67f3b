// ppbench on the CUDA backend through launch/one-gpu.sh (several ranks on one
// GPU, NCCL over loopback sockets): every schedule completes with activations
// far larger than NCCL's staging buffer (NCCL_BUFFSIZE=64 KiB against 2 MiB
// messages), so completion cannot come from NCCL buffering (ARCHITECTURE.md).
// Not larger: without MPS the two ranks' contexts time-slice the GPU and each
// 64 KiB step of a transfer can wait a timeslice.
// Labels gpu and mpi; skipped where no device is visible. No timing bounds:
// ranks sharing a GPU give functional figures only.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "backends/cuda/cuda_backend.h"
#include "support/run_command.h"

namespace ppb::test {
namespace {

class GpuPpbench : public ::testing::TestWithParam<std::string> {};

// The compiled-in paths are the build machine's; on a GPU machine that got the
// programs packed (launch/device/device-env.sh) the environment names them.
std::string from_env_or(const char* name, const char* built_in) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : built_in;
}

TEST_P(GpuPpbench, CompletesWithMessagesLargerThanNcclBuffers) {
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device";
  const std::string schedule = GetParam();
  TempDir dir;
  const std::string out = dir.file("run");
  std::string cmd = "NCCL_BUFFSIZE=65536 " + from_env_or("PPB_SOURCE_DIR", PPB_SOURCE_DIR) + "/launch/one-gpu.sh -np 2 " +
                    from_env_or("PPB_PPBENCH", PPB_PPBENCH_PATH) + " --backend cuda --schedule " + schedule +
                    " -b 4 -f 1 --backward-times 1 --activation-bytes 2097152 --warmup 1 --iters 2 --timeout 60"
                    " --setup-timeout 45 --out " + out;
  if (schedule == "zb-h1") cmd += " --weight-times 1";
  const CommandResult r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // A line of its own, wherever it is: NCCL and Open MPI may print warnings before it.
  EXPECT_NE(("\n" + r.out).find("\nppbench: backend cuda (requested), 2 ranks; results labelled functional\n"),
            std::string::npos)
      << r.out;

  const nlohmann::json measured = nlohmann::json::parse(read_text(out + "/measured.json"));
  const nlohmann::json predicted = nlohmann::json::parse(read_text(out + "/predicted.json"));
  EXPECT_EQ(measured["context"]["backend"], "cuda");
  EXPECT_EQ(measured["context"]["run_label"], "functional");
  // Rank 0's pool was sized in prepare: nothing allocated inside an iteration.
  const nlohmann::json& details = measured["context"]["backend_details"];
  ASSERT_TRUE(details.contains("buffer_pool_growths")) << details;
  EXPECT_GT(details["buffer_pool_allocated_bytes"].get<std::uint64_t>(), 0u) << details;
  EXPECT_EQ(details["buffer_pool_growths"], 0) << details;
  // Two ranks' times agree within twice the bound the run reports (each is
  // mapped onto rank 0's clock within it).
  const double bound = measured["context"]["clock_alignment_bound_us"].get<double>();
  for (const auto& iteration : measured["iterations"]) {
    // Every op and every transfer of the schedule was timed, each op after it
    // started and each transfer arriving after it was sent.
    ASSERT_EQ(iteration["ranks"].size(), predicted["ranks"].size());
    for (std::size_t r = 0; r < iteration["ranks"].size(); ++r) {
      EXPECT_EQ(iteration["ranks"][r]["ops"].size(), predicted["ranks"][r]["ops"].size());
      for (const auto& op : iteration["ranks"][r]["ops"]) EXPECT_GT(op["end"].get<double>(), op["start"].get<double>());
    }
    ASSERT_EQ(iteration["transfers"].size(), predicted["transfers"].size());
    for (const auto& x : iteration["transfers"]) {
      EXPECT_EQ(x["bytes"], 2097152);
      EXPECT_GE(x["arrive"].get<double>(), x["send"].get<double>() - 2 * bound);
    }
  }
  const nlohmann::json summary = nlohmann::json::parse(read_text(out + "/summary.json"));
  for (const auto& rank : summary["ranks"]) EXPECT_GE(rank["peak_buffer_bytes"].get<std::uint64_t>(), 2097152u);
}

INSTANTIATE_TEST_SUITE_P(Schedules, GpuPpbench, ::testing::Values("gpipe", "1f1b", "interleaved", "zb-h1"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// Every buffer of an iteration is allocated up front: a plan that cannot fit
// is refused on every rank before anything runs (exit 2, nothing written).
TEST(GpuPpbenchInput, ActivationBuffersThatDoNotFitTheGpuAreBadInputOnEveryRank) {
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device";
  TempDir dir;
  const std::string out = dir.file("run");
  const CommandResult r =
      run_command(from_env_or("PPB_SOURCE_DIR", PPB_SOURCE_DIR) + "/launch/one-gpu.sh -np 2 " +
                  from_env_or("PPB_PPBENCH", PPB_PPBENCH_PATH) +
                  " --backend cuda --schedule 1f1b -b 8 --activation-bytes 64G --iters 1 --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("ppbench: error: --activation-bytes: rank 0 needs "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ppbench: error: --activation-bytes: rank 1 needs "), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace ppb::test
