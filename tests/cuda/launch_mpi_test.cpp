// launch/one-gpu.sh through a real mpirun (no GPU needed): every rank runs
// with its own NCCL host id and the shared socket-transport settings.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "support/run_command.h"

namespace ppb {
namespace {

// The names directly in `dir`, folders with a trailing '/'.
std::set<std::string> entries_of(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.insert(e.path().filename().string() + (e.is_directory() ? "/" : ""));
  }
  return names;
}

// Extracts OUT/results.tar.gz into OUT/x and returns OUT/x/results/local-cpu/.
std::string extract_results(const std::string& out) {
  const auto r = test::run_command("mkdir " + out + "/x && tar -xzf " + out + "/results.tar.gz -C " + out + "/x");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return out + "/x/results/local-cpu/";
}

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

// launch/device-run.sh --local: the whole device session's flow (four
// schedules, calibrate, a calibrated run, the kept files, the error table) on
// the CPU backend, so that a lent GPU's time is not spent finding script bugs.
TEST(DeviceRun, LocalCheckRunsEveryStepAndKeepsWhatResultsNeeds) {
  if (test::run_command("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun not found";
  test::TempDir dir;
  const auto r = test::run_command("PPB_PPBENCH=" + std::string(PPB_PPBENCH_PATH) + " " +
                                   std::string(PPB_SOURCE_DIR) + "/launch/device-run.sh " + dir.path() + " --local");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The device tool brings back at most 8 files from OUT, none more than two
  // folders down: OUT holds the archive and three copies, nothing else.
  const bool with_python = test::run_command("command -v python3").exit_code == 0;
  std::set<std::string> expected = {"results.tar.gz", "commands.txt", "device.txt"};
  if (with_python) expected.insert("errors.md");
  EXPECT_EQ(entries_of(dir.path()), expected);
  const std::string results = extract_results(dir.path());
  const std::string commands = test::read_text(results + "commands.txt");
  EXPECT_EQ(commands, test::read_text(dir.path() + "/commands.txt"));
  for (const char* file : {"log.txt", "device.txt"}) EXPECT_TRUE(std::filesystem::exists(results + file)) << file;
  EXPECT_EQ(test::count_lines(commands), 9) << commands;
  EXPECT_NE(commands.find("1f1b-mps (skipped: --local)\n"), std::string::npos) << commands;
  EXPECT_NE(commands.find("tests (skipped: --local)\n"), std::string::npos) << commands;
  for (const char* run : {"gpipe", "1f1b", "interleaved", "zb-h1", "1f1b-calibrated"}) {
    EXPECT_NE(commands.find(std::string(run) + " (exit 0): "), std::string::npos) << run << "\n" << commands;
    for (const char* kept : {"summary.json", "measured.json", "timeline.txt"}) {
      EXPECT_TRUE(std::filesystem::exists(results + run + "/" + kept)) << run << "/" << kept;
    }
    EXPECT_FALSE(std::filesystem::exists(results + run + "/trace.json")) << run;
  }
  EXPECT_NE(commands.find("calibrate (exit 0): "), std::string::npos) << commands;
  EXPECT_TRUE(std::filesystem::exists(results + "calibration.json"));
  // Recorded as typed in the checkout's root, with the paths they land at once extracted.
  EXPECT_NE(commands.find("gpipe (exit 0): launch/one-gpu.sh -np 4 "), std::string::npos) << commands;
  EXPECT_NE(commands.find(" --out results/local-cpu/gpipe\n"), std::string::npos) << commands;
  // The sweep: gpipe, 1f1b and zb-h1 at M = 2 and 4, interleaved at M = 4 only (M = 2 < P).
  EXPECT_NE(commands.find("sweep (exit 0): launch/one-gpu.sh -np 4 "), std::string::npos) << commands;
  for (const char* kept : {"sweep.csv", "sweep.json"}) {
    EXPECT_TRUE(std::filesystem::exists(results + "sweep/" + kept)) << kept;
  }
  for (const char* point : {"gpipe-M2", "1f1b-M4", "interleaved-M4", "zb-h1-M2"}) {
    const std::string dir = results + "sweep/points/" + point + "/";
    EXPECT_TRUE(std::filesystem::exists(dir + "summary.json")) << point;
    EXPECT_FALSE(std::filesystem::exists(dir + "trace.json")) << point;
  }
  if (!with_python) return;  // the error table needs python3
  const std::string errors = test::read_text(results + "errors.md");
  EXPECT_EQ(test::count_lines(errors), 2 + 5 + 7) << errors;
  for (const char* run : {"gpipe", "1f1b", "interleaved", "zb-h1", "1f1b-calibrated", "sweep/points/zb-h1-M4"}) {
    EXPECT_NE(errors.find("| " + std::string(run) + " | "), std::string::npos) << run;
  }
}

// A call that runs out of its budget records every step it skipped and still
// writes the table; --parts picks what runs, and the files of such a call are
// named after its parts, so that its archive extracts beside a whole call's.
// Neither needs mpirun: with no budget left nothing is launched.
TEST(DeviceRun, StepsBeyondTheBudgetAreRecordedAsSkipped) {
  test::TempDir dir;
  const auto r = test::run_command("PPB_DEVICE_BUDGET_S=0 PPB_PPBENCH=" + std::string(PPB_PPBENCH_PATH) + " " +
                                   std::string(PPB_SOURCE_DIR) + "/launch/device-run.sh " + dir.path() +
                                   " --local --parts runs,calibrate");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string results = extract_results(dir.path());
  EXPECT_FALSE(std::filesystem::exists(results + "commands.txt"));
  EXPECT_TRUE(std::filesystem::exists(results + "log-runs-calibrate.txt"));
  const std::string commands = test::read_text(results + "commands-runs-calibrate.txt");
  EXPECT_EQ(test::count_lines(commands), 6) << commands;
  for (const char* run : {"gpipe", "1f1b", "interleaved", "zb-h1", "calibrate"}) {
    EXPECT_NE(commands.find(std::string(run) + " (skipped: time budget spent: "), std::string::npos) << commands;
  }
  EXPECT_NE(commands.find("1f1b-calibrated (skipped: no calibration.json)\n"), std::string::npos) << commands;
  EXPECT_EQ(commands.find("mps"), std::string::npos) << commands;
  if (test::run_command("command -v python3").exit_code != 0) return;  // the error table needs python3
  EXPECT_EQ(test::count_lines(test::read_text(results + "errors-runs-calibrate.md")), 2);
}

// The device call's reply shows only the end of what the script prints: a
// failed step prints the end of its own output there, and the archive still
// holds what the failed steps left.
TEST(DeviceRun, AFailedStepPrintsTheEndOfItsOutput) {
  if (test::run_command("command -v mpirun").exit_code != 0) GTEST_SKIP() << "mpirun not found";
  test::TempDir dir;
  const auto r = test::run_command("PPB_PPBENCH=" + dir.path() + "/no-such-ppbench " + std::string(PPB_SOURCE_DIR) +
                                   "/launch/device-run.sh " + dir.path() + "/out --local --parts runs");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("device-run.sh: gpipe: exit 127\n    "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no-such-ppbench"), std::string::npos) << r.out;
  const std::string results = extract_results(dir.path() + "/out");
  EXPECT_NE(test::read_text(results + "commands-runs.txt").find("zb-h1 (exit 127): "), std::string::npos);
  EXPECT_NE(test::read_text(results + "log-runs.txt").find("no-such-ppbench"), std::string::npos);
}

// Without a working tar (the GPU image is not this one) the archive is made
// by Python's tarfile, and extracts the same.
TEST(DeviceRun, PacksWithPythonWhereTarFails) {
  if (test::run_command("command -v python3").exit_code != 0) GTEST_SKIP() << "python3 not found";
  test::TempDir dir;
  ASSERT_EQ(test::run_command("mkdir " + dir.path() + "/bin && printf '#!/bin/sh\\nexit 2\\n' > " + dir.path() +
                              "/bin/tar && chmod +x " + dir.path() + "/bin/tar").exit_code,
            0);
  const auto r = test::run_command("PATH=" + dir.path() + "/bin:$PATH PPB_DEVICE_BUDGET_S=0 " +
                                   std::string(PPB_SOURCE_DIR) + "/launch/device-run.sh " + dir.path() +
                                   "/out --local --parts runs");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("packing results.tar.gz failed"), std::string::npos) << r.err;
  const std::string results = extract_results(dir.path() + "/out");
  EXPECT_NE(test::read_text(results + "commands-runs.txt").find("gpipe (skipped: time budget spent: "),
            std::string::npos);
}

TEST(DeviceRun, UnknownPartIsRefusedBeforeAnythingIsWritten) {
  test::TempDir dir;
  const std::string out = dir.path() + "/out";
  const auto r = test::run_command(std::string(PPB_SOURCE_DIR) + "/launch/device-run.sh " + out +
                                   " --local --parts runs,benchmarks");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("device-run.sh: --parts: 'benchmarks' is not one of runs, sweep, calibrate, mps, tests"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace ppb
