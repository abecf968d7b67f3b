// launch/device/device-run.sh --local: the whole device session's flow on the
// CPU backend (pre-flight, runs, calibrate, the three predictions, the sweep,
// the archive), its fail-fast path and the clean-up after a failed step, so
// that a lent GPU's minutes are not spent finding script bugs. Stand-ins for
// ppbench (scripts that run the real one, or hang, for one step) make the
// failures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "device_scripts.h"

namespace ppb::test {
namespace {

namespace fs = std::filesystem;

const std::string kRun = kDeviceScripts + "device-run.sh ";
const std::string kTools = "PPB_PPSIM=" + std::string(PPB_PPSIM_PATH) + " ";

// The step names of commands.txt, in order.
std::vector<std::string> step_names(const std::string& commands) {
  std::vector<std::string> names;
  std::istringstream lines(commands);
  for (std::string line; std::getline(lines, line);) names.push_back(line.substr(0, line.find(' ')));
  return names;
}

// A ppbench that does `action` for the step writing results/local-cpu/STEP
// and is the real ppbench for every other.
std::string ppbench_failing_at(const TempDir& dir, const std::string& step, const std::string& action) {
  const std::string path = dir.file("ppbench");
  write_script(path, "case \" $* \" in\n  *\" --out results/local-cpu/" + step + " \"*) " + action +
                         " ;;\nesac\nexec " + PPB_PPBENCH_PATH + " \"$@\"\n");
  return path;
}

// Whether a process with exactly this command line runs (/proc/PID/cmdline:
// the arguments, each ended by a NUL).
bool process_running(const std::vector<std::string>& argv) {
  std::string wanted;
  for (const std::string& a : argv) wanted += a + '\0';
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline == wanted) return true;
  }
  return false;
}

TEST(DeviceRun, LocalCheckRunsEveryStepInOrderAndKeepsEveryRunFile) {
  if (!have("mpirun")) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  const auto r = run_command(kTools + "PPB_PPBENCH=" + PPB_PPBENCH_PATH + " " + kRun + dir.path() + " --local");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The device tool brings back at most 8 files from OUT, none more than two
  // folders down: OUT holds the archive and four copies, nothing else.
  const bool with_python = have("python3");
  std::set<std::string> expected = {"results.tar.gz", "commands.txt", "device.txt", "log.txt"};
  if (with_python) expected.insert("errors.md");
  EXPECT_EQ(entries_of(dir.path()), expected);
  const std::string results = extract_results(dir.path());
  const std::string commands = read_text(results + "commands.txt");
  EXPECT_EQ(commands, read_text(dir.path() + "/commands.txt"));
  EXPECT_EQ(step_names(commands),
            (std::vector<std::string>{"preflight", "gpu-tests", "smoke-2ranks", "1f1b", "1f1b-mps", "gpipe",
                                      "interleaved", "zb-h1", "calibrate", "1f1b-calibrated", "sweep"}))
      << commands;
  EXPECT_NE(read_text(results + "device.txt").find("\npreflight: ok\n"), std::string::npos);
  EXPECT_NE(read_text(results + "log.txt").find("== 1f1b (limit "), std::string::npos);
  EXPECT_NE(commands.find("1f1b-mps (skipped: --local)\n"), std::string::npos) << commands;
  EXPECT_NE(commands.find("gpu-tests (skipped: --local)\n"), std::string::npos) << commands;
  // The first MPI step asks NCCL for its set-up story; recorded as typed in
  // the checkout's root, with the paths the results land at once extracted.
  EXPECT_NE(commands.find("smoke-2ranks (exit 0, "), std::string::npos) << commands;
  EXPECT_NE(commands.find("s): NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,NET launch/one-gpu.sh -np 2 "), std::string::npos)
      << commands;
  EXPECT_NE(commands.find("s): launch/one-gpu.sh -np 4 "), std::string::npos) << commands;
  EXPECT_NE(commands.find(" --setup-timeout 15 --out results/local-cpu/gpipe\n"), std::string::npos) << commands;
  for (const char* run : {"smoke-2ranks", "gpipe", "1f1b", "interleaved", "zb-h1", "1f1b-calibrated"}) {
    EXPECT_NE(commands.find(std::string(run) + " (exit 0, "), std::string::npos) << run << "\n" << commands;
    for (const char* kept : {"summary.json", "measured.json", "predicted.json", "replay.json", "trace.json",
                             "timeline.txt", "predicted-free.json"}) {
      EXPECT_TRUE(fs::exists(results + run + "/" + kept)) << run << "/" << kept;
    }
  }
  EXPECT_TRUE(fs::exists(results + "calibration.json"));
  // The free-transfer prediction is the one ppbench made itself (no
  // --calibration), and the calibrated one prices the links it measured.
  for (const char* run : {"1f1b", "zb-h1"}) {
    const auto summary = nlohmann::json::parse(read_text(results + run + "/summary.json"));
    const auto free = nlohmann::json::parse(read_text(results + run + "/predicted-free.json"));
    const auto links = nlohmann::json::parse(read_text(results + run + "/predicted-links.json"));
    EXPECT_NEAR(free["makespan"].get<double>(), summary["predicted"]["makespan"].get<double>(), 1e-6) << run;
    EXPECT_GT(links["makespan"].get<double>(), free["makespan"].get<double>()) << run;
  }
  // Two ranks cannot be priced with a four-rank calibration.
  EXPECT_FALSE(fs::exists(results + "smoke-2ranks/predicted-links.json"));
  // The sweep: gpipe, 1f1b and zb-h1 at M = 2 and 4, interleaved at M = 4 only (M = 2 < P).
  for (const char* kept : {"sweep.csv", "sweep.json"}) EXPECT_TRUE(fs::exists(results + "sweep/" + kept)) << kept;
  for (const char* point : {"gpipe-M2", "1f1b-M4", "interleaved-M4", "zb-h1-M2"}) {
    const std::string p = results + "sweep/points/" + point + "/";
    for (const char* kept : {"summary.json", "trace.json", "predicted-free.json", "predicted-links.json"}) {
      EXPECT_TRUE(fs::exists(p + kept)) << point << "/" << kept;
    }
  }
  if (!with_python) return;  // the error table needs python3
  const std::string errors = read_text(results + "errors.md");
  EXPECT_NE(errors.find("| run | measured (median) | predicted, free transfers | predicted, calibrated links | replay"),
            std::string::npos)
      << errors;
  for (const char* run : {"gpipe", "1f1b", "interleaved", "zb-h1", "1f1b-calibrated", "sweep/points/zb-h1-M4"}) {
    EXPECT_NE(errors.find("| " + std::string(run) + " | "), std::string::npos) << run;
  }
  // A value that is missing is a dash, not a lost row: the two-rank run has no calibrated prediction.
  EXPECT_NE(errors.find("| smoke-2ranks | "), std::string::npos) << errors;
  EXPECT_EQ(count_lines(errors), 6 + 6 + 7) << errors;  // notes and header, runs, sweep points
}

// The pre-flight always runs; a call that runs out of its budget records
// every step it skipped and still writes the table; --parts picks what runs,
// and the files of such a call are named after its parts, so that its
// archive extracts beside a whole call's.
TEST(DeviceRun, StepsBeyondTheBudgetAreRecordedAsSkipped) {
  if (!have("mpirun")) GTEST_SKIP() << "mpirun not found";  // the pre-flight runs mpirun -np 2 true
  TempDir dir;
  const auto r = run_command(kTools + "PPB_DEVICE_BUDGET_S=0 PPB_PPBENCH=" + PPB_PPBENCH_PATH + " " + kRun +
                             dir.path() + " --local --parts runs,calibrate");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string results = extract_results(dir.path());
  EXPECT_FALSE(fs::exists(results + "commands.txt"));
  EXPECT_TRUE(fs::exists(results + "log-runs-calibrate.txt"));
  const std::string commands = read_text(results + "commands-runs-calibrate.txt");
  EXPECT_EQ(step_names(commands), (std::vector<std::string>{"preflight", "smoke-2ranks", "1f1b", "gpipe", "interleaved",
                                                            "zb-h1", "calibrate", "1f1b-calibrated"}))
      << commands;
  EXPECT_NE(commands.find("preflight (exit 0, "), std::string::npos) << commands;
  for (const char* run : {"smoke-2ranks", "1f1b", "gpipe", "interleaved", "zb-h1", "calibrate"}) {
    EXPECT_NE(commands.find(std::string(run) + " (skipped: time budget spent: "), std::string::npos) << commands;
  }
  EXPECT_NE(commands.find("1f1b-calibrated (skipped: no calibration.json)\n"), std::string::npos) << commands;
  if (!have("python3")) return;  // the error table needs python3
  EXPECT_EQ(count_lines(read_text(results + "errors-runs-calibrate.md")), 6);
}

// A program the pre-flight cannot run stops everything with one line; OUT
// still gets the facts and the archive.
TEST(DeviceRun, APreflightRefusalStopsEverythingWithOneLine) {
  TempDir dir;
  const auto r = run_command(kTools + "PPB_PPBENCH=" + dir.file("no-such-ppbench") + " " + kRun + dir.file("out") +
                             " --local");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("device-run.sh: preflight: refused: " + dir.file("no-such-ppbench") +
                       ": no such program: nothing else was run\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(step_names(read_text(dir.file("out/commands.txt"))), std::vector<std::string>{"preflight"});
  EXPECT_NE(read_text(dir.file("out/device.txt")).find("glibc: "), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.file("out/results.tar.gz")));
}

// The device call's reply shows only the end of what the script prints: a
// failed step prints the end of its own output there. One that failed before
// ppbench's backend line (here every ppbench fails at once) stops the MPI
// steps after it: they would fail the same way.
TEST(DeviceRun, AFailedStepPrintsTheEndOfItsOutputAndAFailureBeforeTheBackendStopsTheMpiSteps) {
  if (!have("mpirun")) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  const std::string ppbench = dir.file("ppbench");
  write_script(ppbench, "echo 'ppbench: error: no GPU here' >&2\nexit 5\n");
  const auto r =
      run_command(kTools + "PPB_PPBENCH=" + ppbench + " " + kRun + dir.file("out") + " --local --parts runs");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("device-run.sh: smoke-2ranks: exit 5 ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n    ppbench: error: no GPU here\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("device-run.sh: smoke-2ranks: it failed before its backend was up: the MPI steps after it are "
                       "skipped\n"),
            std::string::npos)
      << r.out;
  const std::string results = extract_results(dir.file("out"));
  const std::string commands = read_text(results + "commands-runs.txt");
  for (const char* run : {"1f1b", "gpipe", "interleaved", "zb-h1"}) {
    EXPECT_NE(commands.find(std::string(run) +
                            " (skipped: MPI steps stopped after smoke-2ranks (it failed before its backend was up))\n"),
              std::string::npos)
        << commands;
  }
  EXPECT_NE(read_text(results + "log-runs.txt").find("no GPU here"), std::string::npos);
}

// A rank that hangs in set-up (an NCCL bootstrap that never completes):
// ppbench's --setup-timeout ends that step, the MPI steps after it are
// skipped rather than each waiting out its own limit, and the archive holds
// every step before it.
TEST(DeviceRun, ASetUpHangStopsTheMpiStepsAndTheArchiveKeepsEveryEarlierStep) {
  if (!have("mpirun")) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  const std::string ppbench =
      ppbench_failing_at(dir, "1f1b", std::string("exec ") + PPB_PPBENCH_PATH + " \"$@\" --inject-fault 1:setup:hang");
  const auto r = run_command(kTools + "PPB_DEVICE_SETUP_TIMEOUT_S=3 PPB_PPBENCH=" + ppbench + " " + kRun +
                             dir.file("out") + " --local");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("device-run.sh: 1f1b: it timed out in set-up: the MPI steps after it are skipped\n"),
            std::string::npos)
      << r.out;
  const std::string results = extract_results(dir.file("out"));
  const std::string commands = read_text(results + "commands.txt");
  EXPECT_NE(commands.find("smoke-2ranks (exit 0, "), std::string::npos) << commands;
  EXPECT_NE(commands.find("1f1b (exit 3, "), std::string::npos) << commands;
  for (const char* run : {"gpipe", "interleaved", "zb-h1", "calibrate", "sweep"}) {
    EXPECT_NE(commands.find(std::string(run) + " (skipped: MPI steps stopped after 1f1b (it timed out in set-up))\n"),
              std::string::npos)
        << commands;
  }
  for (const char* kept : {"summary.json", "measured.json", "predicted-free.json"}) {
    EXPECT_TRUE(fs::exists(results + "smoke-2ranks/" + kept)) << kept;
  }
  EXPECT_FALSE(fs::exists(results + "1f1b"));
  EXPECT_NE(read_text(results + "log.txt").find("ppbench: rank 1 timed out in set-up, preparing the backend"),
            std::string::npos);
}

// A step past its limit: `timeout` signals the step's process group, but MPI
// ranks sit in groups of their own and may leave children behind. The
// step's session is swept, by process id, before the next step; and what
// the step printed was in log.txt while it still ran.
TEST(DeviceRun, AStepPastItsLimitHasItsLeftoverProcessesEndedAndItsOutputStreamed) {
  if (!have("mpirun")) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  const std::string started = dir.file("started");
  // Each rank prints, then leaves a child in a process group of its own that ignores SIGTERM.
  const std::string ppbench =
      ppbench_failing_at(dir, "1f1b",
                         "echo printed-before-the-limit; touch " + started + "; set -m; (trap '' TERM; exec sleep 3171) & "
                         "wait");
  const std::string out = dir.file("out");
  const auto r = run_command("sh -c '" + kTools + "PPB_DEVICE_STEP_LIMIT_S=6 PPB_PPBENCH=" + ppbench + " " + kRun +
                             out + " --local --parts runs > " + dir.file("stdout") + " & run=$!; i=0; while [ ! -f " +
                             started + " ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.5; grep -c "
                             "printed-before-the-limit " + out + "/log-runs.txt > " + dir.file("seen") +
                             "; wait $run'");
  ASSERT_EQ(r.exit_code, 0) << read_text(dir.file("stdout")) << r.err;
  EXPECT_NE(read_text(dir.file("seen")), "0\n");
  const std::string printed = read_text(dir.file("stdout"));
  EXPECT_NE(printed.find("device-run.sh: 1f1b: exit 124 ("), std::string::npos) << printed;
  EXPECT_NE(printed.find("device-run.sh: 1f1b: it ran out of its time limit: the MPI steps after it are skipped"),
            std::string::npos)
      << printed;
  EXPECT_FALSE(process_running({"sleep", "3171"})) << "a leftover of the step still runs";
  const std::string log = read_text(out + "/log-runs.txt");
  EXPECT_NE(log.find("device-run.sh: 1f1b: ending leftover processes "), std::string::npos) << log;
  EXPECT_NE(log.find("(sleep)"), std::string::npos) << log;
}

// Without a working tar (the GPU image is not this one) the archive is made
// by Python's tarfile, and extracts the same.
TEST(DeviceRun, PacksWithPythonWhereTarFails) {
  if (!have("python3")) GTEST_SKIP() << "python3 not found";
  if (!have("mpirun")) GTEST_SKIP() << "mpirun not found";
  TempDir dir;
  ASSERT_EQ(run_command("mkdir " + dir.file("bin")).exit_code, 0);
  write_script(dir.file("bin/tar"), "exit 2\n");
  const auto r = run_command("PATH=" + dir.file("bin") + ":$PATH " + kTools + "PPB_DEVICE_BUDGET_S=0 PPB_PPBENCH=" +
                             PPB_PPBENCH_PATH + " " + kRun + dir.file("out") + " --local --parts runs");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("packing results.tar.gz failed"), std::string::npos) << r.err;
  const std::string results = extract_results(dir.file("out"));
  EXPECT_NE(read_text(results + "commands-runs.txt").find("gpipe (skipped: time budget spent: "), std::string::npos);
}

TEST(DeviceRun, UnknownPartIsRefusedBeforeAnythingIsWritten) {
  TempDir dir;
  const std::string out = dir.file("out");
  const auto r = run_command(kRun + out + " --local --parts runs,benchmarks");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "device-run.sh: --parts: 'benchmarks' is not one of tests, runs, mps, calibrate, sweep\n");
  EXPECT_FALSE(fs::exists(out));
  const auto budget = run_command("PPB_DEVICE_BUDGET_S=soon " + kRun + out + " --local");
  EXPECT_EQ(budget.exit_code, 2);
  EXPECT_EQ(budget.err, "device-run.sh: PPB_DEVICE_BUDGET_S: expected whole seconds, got 'soon'\n");
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace ppb::test
