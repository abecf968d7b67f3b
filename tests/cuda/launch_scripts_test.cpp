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
  EXPECT_NE(r.out.find("-x CUDA_DEVICE_MAX_CONNECTIONS=16 "), std::string::npos) << r.out;  // MPS's shared pool

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

// Stand-ins for the NVIDIA tools and mpirun, in a folder put first on PATH:
// nvidia-cuda-mps-control logs what it is asked (and lists a server when
// FAKE_MPS_SERVER is set), nvidia-smi reports FAKE_COMPUTE_MODE (when set),
// hanging-mpirun says it started and runs until killed, quick-mpirun exits 0 at once.
class FakeGpuTools {
 public:
  FakeGpuTools() {
    const std::string bin = dir_.path() + "/bin";
    EXPECT_EQ(run_command("mkdir -p " + bin).exit_code, 0);
    test::write_text(bin + "/nvidia-cuda-mps-control",
                     "#!/bin/sh\nif [ \"$1\" = -d ]; then echo start >> " + log() +
                         "; exit 0; fi\nq=$(cat)\necho \"$q\" >> " + log() +
                         "\nif [ \"$q\" = get_server_list ] && [ -n \"$FAKE_MPS_SERVER\" ]; then echo 4242; fi\n");
    test::write_text(bin + "/nvidia-smi",
                     "#!/bin/sh\n[ -n \"$FAKE_COMPUTE_MODE\" ] || exit 9\necho \"$FAKE_COMPUTE_MODE\"\n");
    test::write_text(bin + "/hanging-mpirun", "#!/bin/sh\ntouch " + mpirun_started() + "\nexec sleep 60\n");
    test::write_text(bin + "/quick-mpirun", "#!/bin/sh\nexit 0\n");
    EXPECT_EQ(run_command("chmod +x " + bin + "/*").exit_code, 0);
    path_ = "PATH=" + bin + ":$PATH ";
  }
  // `env` + the command, with the stand-ins first on PATH.
  test::CommandResult run(const std::string& env, const std::string& command) const {
    return run_command(path_ + env + " " + command);
  }
  std::string mps_log() const { return test::read_text(log()); }
  // The file hanging-mpirun creates when it starts.
  std::string mpirun_started() const { return dir_.path() + "/mpirun-started"; }

 private:
  std::string log() const { return dir_.path() + "/mps.log"; }
  test::TempDir dir_;
  std::string path_;
};

// --mps starts the daemon and quits it after the run, also when the run is
// stopped by a signal (device-run.sh's time limit), and before the launcher
// has exited. The signal comes once mpirun has started (a fixed delay raced
// the launcher's start on a loaded machine), through `timeout` as in
// device-run.sh.
TEST(OneGpuLaunch, MpsDaemonIsQuitWhenTheRunIsStoppedBySignal) {
  const FakeGpuTools tools;
  const auto r = tools.run("MPIRUN=hanging-mpirun",
                           "sh -c '( exec timeout 120 " + kLaunch + "one-gpu.sh --mps -np 2 prog ) & t=$!; i=0; "
                           "while [ ! -f " + tools.mpirun_started() + " ] && [ $i -lt 600 ]; do sleep 0.1; "
                           "i=$((i+1)); done; kill -TERM $t; wait $t'");
  EXPECT_EQ(r.exit_code, 143) << r.err;
  EXPECT_EQ(tools.mps_log(), "start\nquit\n");
}

// Clients that cannot reach the MPS server run without it, silently: the
// launcher asks the daemon afterwards and says so when no server ran.
TEST(OneGpuLaunch, MpsRunWithoutAServerIsReported) {
  const FakeGpuTools tools;
  const auto none = tools.run("MPIRUN=quick-mpirun", kLaunch + "one-gpu.sh --mps -np 2 prog");
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.err.find("one-gpu.sh: --mps: no MPS server ran: the ranks were time-sliced, not under MPS"),
            std::string::npos)
      << none.err;
  EXPECT_EQ(tools.mps_log(), "start\nget_server_list\nquit\n");

  const auto served = tools.run("FAKE_MPS_SERVER=1 MPIRUN=quick-mpirun", kLaunch + "one-gpu.sh --mps -np 2 prog");
  EXPECT_EQ(served.exit_code, 0) << served.err;
  EXPECT_EQ(served.err.find("no MPS server ran"), std::string::npos) << served.err;
}

// A GPU in exclusive-process mode takes one context: without MPS only the
// first rank could use it, so the launcher refuses before starting any rank.
TEST(OneGpuLaunch, ExclusiveComputeModeNeedsMps) {
  const FakeGpuTools tools;
  const auto exclusive = tools.run("FAKE_COMPUTE_MODE=Exclusive_Process MPIRUN=quick-mpirun",
                                   kLaunch + "one-gpu.sh -np 2 prog");
  EXPECT_EQ(exclusive.exit_code, 2);
  EXPECT_EQ(exclusive.err,
            "one-gpu.sh: the GPU's compute mode is Exclusive_Process: one rank at a time; use --mps\n");
  const auto with_mps = tools.run("FAKE_COMPUTE_MODE=Exclusive_Process FAKE_MPS_SERVER=1 MPIRUN=quick-mpirun",
                                  kLaunch + "one-gpu.sh --mps -np 2 prog");
  EXPECT_EQ(with_mps.exit_code, 0) << with_mps.err;
  const auto prohibited = tools.run("FAKE_COMPUTE_MODE=Prohibited MPIRUN=quick-mpirun",
                                    kLaunch + "one-gpu.sh --mps -np 2 prog");
  EXPECT_EQ(prohibited.exit_code, 2);
  EXPECT_NE(prohibited.err.find("compute mode is Prohibited: its ranks cannot share it"), std::string::npos);
  const auto shared = tools.run("FAKE_COMPUTE_MODE=Default MPIRUN=quick-mpirun", kLaunch + "one-gpu.sh -np 2 prog");
  EXPECT_EQ(shared.exit_code, 0) << shared.err;
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

// device-env.sh in a copy of the layout it expects (launch/device/ two
// folders below the root, .devpack/ at the root), with NCCL as the pip wheel
// ships it: nvidia/nccl/lib/libnccl.so.2 and no __init__.py, so nvidia.nccl is
// a namespace package whose __file__ is None. The pack's own env.sh is empty
// here; the caller has no LD_LIBRARY_PATH, and gets no empty element in it
// (which the loader would read as the current directory).
TEST(DeviceEnv, FindsNcclInTheNamespacePackageAndExportsThePackedPaths) {
  if (run_command("command -v python3").exit_code != 0) GTEST_SKIP() << "python3 not found";
  test::TempDir dir;
  const std::string root = dir.path();
  ASSERT_EQ(run_command("mkdir -p " + root + "/launch/device " + root + "/.devpack/ompi " + root +
                        "/py/nvidia/nccl/lib && cp " + kLaunch + "device/device-env.sh " + root +
                        "/launch/device/ && touch " + root + "/.devpack/ompi/env.sh " + root +
                        "/py/nvidia/nccl/lib/libnccl.so.2")
                .exit_code,
            0);
  const auto r = run_command("cd " + root + " && env -u LD_LIBRARY_PATH PYTHONPATH=" + root +
                             "/py bash -c 'source launch/device/device-env.sh >/dev/null && echo \"$LD_LIBRARY_PATH\" "
                             "&& echo \"$PPB_PPBENCH\" && echo \"$PPB_NCCL_LIB\"'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, root + "/py/nvidia/nccl/lib\n" + root + "/.devpack/ppbench\n" + root + "/py/nvidia/nccl/lib\n");

  // Without .devpack: one line and status 2.
  const auto unpacked =
      run_command("cd " + root + " && rm -r .devpack && bash -c 'source launch/device/device-env.sh'");
  EXPECT_EQ(unpacked.exit_code, 2);
  EXPECT_NE(unpacked.err.find("run launch/device/pack-for-device.sh"), std::string::npos) << unpacked.err;
  EXPECT_EQ(test::count_lines(unpacked.err), 1) << unpacked.err;
}

}  // namespace
}  // namespace ppb
