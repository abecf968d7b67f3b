// launch/one-gpu.sh and launch/multi-node.sh build the environment and
// command line that docs/gpu.md promises (checked through --dry-run and the
// per-rank wrapper, which need no GPU and no MPI).
#include <gtest/gtest.h>

#include <string>

#include "support/run_command.h"

namespace ppb {
namespace {

using test::run_command;

const std::string kLaunch = std::string(PPB_SOURCE_DIR) + "/launch/";

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(OneGpuLaunch, DryRunGivesEveryRankItsOwnHostIdAndTheLoopbackSocketTransport) {
  const auto r = run_command(kLaunch + "one-gpu.sh --dry-run --mps --sm-share 0.3 -np 3 ./ppbench --schedule 1f1b");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* kv : {"NCCL_P2P_DISABLE=1", "NCCL_SHM_DISABLE=1", "NCCL_NET=Socket", "NCCL_SOCKET_IFNAME=lo",
                         "PPB_RUN_LABEL=functional"}) {
    EXPECT_NE(r.out.find(std::string("-x ") + kv), std::string::npos) << kv << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("mpirun -np 3 --oversubscribe"), std::string::npos) << r.out;
  for (int rank = 0; rank < 3; ++rank) {
    const std::string line = "rank " + std::to_string(rank) + ": NCCL_HOSTID=ppb-one-gpu-rank-" +
                             std::to_string(rank) + " CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=30 ./ppbench --schedule 1f1b";
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
  EXPECT_EQ(count(r.out, "NCCL_HOSTID="), 3);
  EXPECT_NE(r.out.find("nvidia-cuda-mps-control -d"), std::string::npos);

  const auto plain = run_command(kLaunch + "one-gpu.sh --dry-run -np 2 prog");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"), std::string::npos) << plain.out;
  EXPECT_EQ(plain.out.find("mps:"), std::string::npos);
}

TEST(OneGpuLaunch, RankWrapperExportsThePerRankVariablesAndRunsTheProgram) {
  const auto r = run_command("OMPI_COMM_WORLD_RANK=5 PPB_ONE_GPU_MPS=1 PPB_ONE_GPU_SM_SHARE=0.25 " + kLaunch +
                             "one-gpu.sh --rank-exec sh -c 'echo $NCCL_HOSTID $CUDA_MPS_ACTIVE_THREAD_PERCENTAGE'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ppb-one-gpu-rank-5 25\n");
  const auto no_rank = run_command("env -u OMPI_COMM_WORLD_RANK -u PMIX_RANK -u SLURM_PROCID " + kLaunch +
                                   "one-gpu.sh --rank-exec true");
  EXPECT_EQ(no_rank.exit_code, 2);
}

TEST(OneGpuLaunch, BadArgumentsExitTwoWithOneLine) {
  for (const char* args : {"-np 0 prog", "-np 2", "--sm-share 1.5 -np 2 prog", "--sm-share 0 -np 2 prog",
                           "--bogus -np 2 prog"}) {
    const auto r = run_command(kLaunch + "one-gpu.sh --dry-run " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(count(r.err, "\n"), 1) << args << ": " << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
}

// --mps starts the daemon and quits it after the run, also when the run is
// stopped by a signal (device-run.sh's time limit): a stand-in control
// program logs what it was asked, a stand-in mpirun hangs until killed.
TEST(OneGpuLaunch, MpsDaemonIsQuitWhenTheRunIsStoppedBySignal) {
  test::TempDir dir;
  const std::string bin = dir.path() + "/bin";
  ASSERT_EQ(run_command("mkdir -p " + bin).exit_code, 0);
  test::write_text(bin + "/nvidia-cuda-mps-control",
                   "#!/bin/sh\nif [ \"$1\" = -d ]; then echo start; else echo \"$(cat)\"; fi >> " + dir.path() +
                       "/mps.log\n");
  test::write_text(bin + "/hanging-mpirun", "#!/bin/sh\nexec sleep 60\n");
  ASSERT_EQ(run_command("chmod +x " + bin + "/*").exit_code, 0);
  const auto r = run_command("PATH=" + bin + ":$PATH MPIRUN=hanging-mpirun timeout 2 " + kLaunch +
                             "one-gpu.sh --mps -np 2 prog");
  EXPECT_EQ(r.exit_code, 124) << r.err;
  EXPECT_EQ(test::read_text(dir.path() + "/mps.log"), "start\nquit\n");
}

TEST(MultiNodeLaunch, DryRunPlacesOneRankPerGpuOnEveryHost) {
  const auto r = run_command("NCCL_DEBUG=WARN " + kLaunch + "multi-node.sh " + kLaunch +
                             "hosts.example 8 --dry-run ./ppbench --schedule gpipe");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("-np 16 --map-by ppr:8:node"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-x NCCL_DEBUG"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("./ppbench --schedule gpipe"), std::string::npos) << r.out;
  EXPECT_EQ(run_command(kLaunch + "multi-node.sh /nonexistent 8 prog").exit_code, 2);
}

// device-env.sh in a copy of the layout it expects (launch/ beside .devpack/),
// with NCCL as the pip wheel ships it: nvidia/nccl/lib/libnccl.so.2 and no
// __init__.py, so nvidia.nccl is a namespace package whose __file__ is None.
TEST(DeviceEnv, FindsNcclInTheNamespacePackageAndExportsThePackedPaths) {
  test::TempDir dir;
  const std::string root = dir.path();
  ASSERT_EQ(run_command("mkdir -p " + root + "/launch " + root + "/.devpack/ompi " + root + "/py/nvidia/nccl/lib && cp " +
                        kLaunch + "device-env.sh " + root + "/launch/ && touch " + root + "/.devpack/ompi/env.sh " +
                        root + "/py/nvidia/nccl/lib/libnccl.so.2")
                .exit_code,
            0);
  const auto r = run_command("cd " + root + " && PYTHONPATH=" + root +
                             "/py bash -c 'source launch/device-env.sh >/dev/null && echo \"$LD_LIBRARY_PATH\" && echo "
                             "\"$PPB_PPBENCH\" && echo \"$OMPI_MCA_btl_vader_single_copy_mechanism\"'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(root + "/py/nvidia/nccl/lib:", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\n" + root + "/.devpack/ppbench\nnone\n"), std::string::npos) << r.out;

  // Without .devpack: one line and status 2.
  const auto unpacked = run_command("cd " + root + " && rm -r .devpack && bash -c 'source launch/device-env.sh'");
  EXPECT_EQ(unpacked.exit_code, 2);
  EXPECT_NE(unpacked.err.find("run launch/pack-for-device.sh"), std::string::npos) << unpacked.err;
}

}  // namespace
}  // namespace ppb
