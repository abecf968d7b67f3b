// launch/one-gpu.sh through a real mpirun (no GPU needed): every rank runs
// with its own NCCL host id and the shared socket-transport settings.
#include <gtest/gtest.h>

#include <string>

#include "support/run_command.h"

namespace ppb {
namespace {

TEST(OneGpuLaunchUnderMpirun, EachRankSeesItsOwnHostId) {
  if (test::run_command("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun not found";
  const auto r = test::run_command(std::string(PPB_SOURCE_DIR) +
                                   "/launch/one-gpu.sh -np 2 sh -c 'echo \"$OMPI_COMM_WORLD_RANK $NCCL_HOSTID "
                                   "$NCCL_NET $NCCL_SOCKET_IFNAME $PPB_RUN_LABEL\"'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 ppb-one-gpu-rank-0 Socket lo functional\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 ppb-one-gpu-rank-1 Socket lo functional\n"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("functional figures, not performance"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ppb
