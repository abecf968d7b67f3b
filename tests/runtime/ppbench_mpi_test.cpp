// ppbench through the real command: `mpirun -np N --oversubscribe ppbench ...`,
// reading what it printed, its exit code and the files of the run directory.
// Label "mpi", run serially (the accuracy bounds need the host's cores).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "mpi_commands.h"

namespace ppb::test {
namespace {

struct Accuracy {
  std::string schedule;
  int ranks;
};

// gtest prints the parameter in test names (ctest -N): readable, not bytes.
void PrintTo(const Accuracy& a, std::ostream* os) { *os << a.schedule << " at -np " << a.ranks; }

class PpbenchAccuracy : public ::testing::TestWithParam<Accuracy> {};

// 5 ms ops: measured within 5% of the prediction (makespan) and 2 points
// (bubble), at 4 ranks oversubscribed on a 2-core host. The host is shared
// (builds, other jobs): a run that misses is repeated once, and both attempts
// are shown when the second misses too.
TEST_P(PpbenchAccuracy, MeasuredMatchesPrediction) {
  const Accuracy a = GetParam();
  std::string attempts;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    TempDir dir;
    const std::string out = dir.file("run");
    // The CPU backend's accuracy, whatever the host has (a GPU host would pick cuda).
    std::string cmd =
        mpirun(a.ranks) + " --backend cpu --schedule " + a.schedule + " -f 5 --backward-times 5 --out " + out;
    if (a.schedule == "zb-h1") cmd += " --weight-times 5";
    const CommandResult r = run_command(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.rfind("ppbench: backend cpu (requested), " + std::to_string(a.ranks) + " ranks\n", 0), 0u)
        << r.out;
    EXPECT_NE(r.out.find("ppbench: wrote " + out), std::string::npos);
    for (const char* f : {"measured.json", "predicted.json", "replay.json", "summary.json", "trace.json",
                          "timeline.txt"}) {
      EXPECT_TRUE(file_exists(out + "/" + f)) << f;
    }
    const nlohmann::json m = load_json(out + "/measured.json");
    EXPECT_EQ(m["schema"], "ppbench.measured/1");
    EXPECT_EQ(m["iterations"].size(), 5u);
    EXPECT_EQ(m["warmup"], 1);
    // Every cross-rank transfer was measured, with a send and an arrival.
    const auto& transfers = m["iterations"][0]["transfers"];
    EXPECT_EQ(transfers.size(), load_json(out + "/predicted.json")["transfers"].size());
    for (const auto& x : transfers) EXPECT_GE(x["arrive"].get<double>(), x["send"].get<double>() - 50);
    EXPECT_GE(m["context"]["clock_alignment_bound_us"].get<double>(), 0);
    EXPECT_EQ(m["context"]["backend"], "cpu");

    const nlohmann::json s = load_json(out + "/summary.json");
    const double makespan_err = s["error"]["makespan_rel"].get<double>();
    const double bubble_err = s["error"]["bubble_pp"].get<double>();
    if (std::abs(makespan_err) < 0.05 && std::abs(bubble_err) < 2.0) return;
    attempts += "attempt " + std::to_string(attempt) + ": makespan error " + std::to_string(100 * makespan_err) +
                "%, bubble error " + std::to_string(bubble_err) + " pp\n" + r.out;
  }
  ADD_FAILURE() << "measured vs predicted outside 5% / 2 pp twice:\n" << attempts;
}

INSTANTIATE_TEST_SUITE_P(Schedules, PpbenchAccuracy,
                         ::testing::Values(Accuracy{"gpipe", 4}, Accuracy{"1f1b", 4}, Accuracy{"interleaved", 4},
                                           Accuracy{"zb-h1", 4}, Accuracy{"gpipe", 2}, Accuracy{"1f1b", 2},
                                           Accuracy{"interleaved", 2}, Accuracy{"zb-h1", 2}),
                         [](const auto& info) {
                           std::string name = info.param.schedule + "_np" + std::to_string(info.param.ranks);
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(PpbenchFaults, HangTimesOutWithExit3NamingRankAndOp) {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = run_command(mpirun(4) + " --schedule 1f1b --inject-fault 1:F2@s1:hang --timeout 2 --out " +
                                      dir.file("run"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_LT(seconds, 2 + 8.0);  // the timeout plus mpirun's start and tear-down
  EXPECT_NE(r.err.find("ppbench: rank 1 timed out in iteration 0 after F1@s1; in F2@s1"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.file("run")));
}

TEST(PpbenchFaults, HangInSetUpIsStoppedBySetupTimeoutNamingEveryRanksStep) {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = run_command(mpirun(2) +
                                      " --backend cpu --schedule 1f1b --inject-fault 1:setup:hang --setup-timeout 2 --out " +
                                      dir.file("run"));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_LT(seconds, 2 + 8.0);
  EXPECT_NE(r.err.find("ppbench: rank 1 timed out in set-up, preparing the backend"), std::string::npos) << r.err;
  // Rank 0 got through its own set-up and waits for rank 1 in the collective after it.
  EXPECT_NE(r.err.find("ppbench: rank 0 timed out in set-up, waiting for the other ranks to finish set-up"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(file_exists(dir.file("run")));
}

TEST(PpbenchFaults, CrashInSetUpStopsTheJobWithExit3) {
  TempDir dir;
  const CommandResult r = run_command(mpirun(2) + " --backend cpu --schedule gpipe --inject-fault 0:setup:crash --out " +
                                      dir.file("run"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("ppbench: rank 0 crashed in set-up (injected fault 0:setup:crash)"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.file("run")));
}

TEST(PpbenchFaults, CrashStopsTheJobWithExit3NamingRankAndOp) {
  TempDir dir;
  const CommandResult r = run_command(mpirun(4) + " --schedule gpipe --inject-fault 2:F1@s2:crash --timeout 20 --out " +
                                      dir.file("run"));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("ppbench: rank 2 crashed at F1@s2 in iteration 0"), std::string::npos) << r.err;
  EXPECT_FALSE(file_exists(dir.file("run")));
}

TEST(PpbenchFaults, SlowRankIsPredictedWithTheSameImbalance) {
  TempDir dir;
  const std::string out = dir.file("run");
  const CommandResult r =
      run_command(mpirun(4) + " --schedule 1f1b -f 5 --backward-times 5 --inject-fault 1:*:slow=2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json s = load_json(out + "/summary.json");
  EXPECT_LT(std::abs(s["error"]["makespan_rel"].get<double>()), 0.05) << r.out;
  // Stage 1 ran (and was predicted) at twice the nominal 5 ms.
  EXPECT_DOUBLE_EQ(s["stages"][1]["F"]["target_us"].get<double>(), 10000);
  // At least the doubled target (a CPU op never ends early); under 3x it, as load allows.
  EXPECT_GE(s["stages"][1]["F"]["median_us"].get<double>(), 10000);
  EXPECT_LT(s["stages"][1]["F"]["median_us"].get<double>(), 3 * 10000);
  EXPECT_DOUBLE_EQ(s["stages"][0]["F"]["target_us"].get<double>(), 5000);
}

// Stages with different targets are shown as a range, not as stage 0's.
TEST(PpbenchOutputs, ConfigurationLineGivesTheRangeOfStageTargets) {
  TempDir dir;
  const CommandResult r = run_command(mpirun(2) + " --schedule 1f1b -b 2 -f 1,2 --backward-times 3,1 --warmup 0 "
                                                  "--iters 1 --out " + dir.file("run"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ppbench: 1f1b, P=2, M=2; F 1.000 ms to 2.000 ms, B 1.000 ms to 3.000 ms per stage; "),
            std::string::npos)
      << r.out;
}

// --dump-schedule writes the schedule the run used, as ppsim writes the same
// schedule; a directory that does not exist is bad input before the run.
TEST(PpbenchOutputs, DumpScheduleWritesWhatPpsimWritesForTheSameFlags) {
  TempDir dir;
  const CommandResult r = run_command(mpirun(2) + " --schedule zb-h1 -b 3 --weight-times 1 --warmup 0 --iters 1 --out " +
                                      dir.file("run") + " --dump-schedule " + dir.file("ran.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const CommandResult sim = run_command(std::string(PPB_PPSIM_PATH) + " --schedule zb-h1 -s 2 -b 3 --weight-times 1 "
                                        "--no-visualization --dump-schedule " + dir.file("simulated.csv"));
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_EQ(read_text(dir.file("ran.csv")), read_text(dir.file("simulated.csv")));

  const CommandResult bad = run_command(mpirun(2) + " --iters 1 --out " + dir.file("run2") + " --dump-schedule " +
                                        dir.file("missing/s.json"));
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("ppbench: error: --dump-schedule: directory of '" + dir.file("missing/s.json") +
                         "' does not exist"),
            std::string::npos)
      << bad.err;
  EXPECT_FALSE(file_exists(dir.file("run2")));
}

TEST(PpbenchInput, WorldSizeMismatchIsReportedByEveryRank) {
  TempDir dir;
  const CommandResult r = run_command("cd " + dir.path() + " && " + mpirun(2) + " --num-stages 4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_of(r.err, "ppbench: error: --num-stages: 4 pipeline ranks, but mpirun started 2"), 2) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// The schedule file decides the schedule: -s, where given, must be the file's
// (and the world size); --schedule or --chunks beside it is refused on every rank.
TEST(PpbenchInput, FlagsContradictingTheScheduleFileAreReportedByEveryRank) {
  TempDir dir;
  write_text(dir.file("split.csv"), "0F0,0B0,0F1,0B1\n1F0,1B0,1F1,1B1\n");
  const std::string run = "cd " + dir.path() + " && " + mpirun(2) + " --schedule-file split.csv --iters 1 ";
  const CommandResult stages = run_command(run + "-s 3");
  EXPECT_EQ(stages.exit_code, 2);
  EXPECT_EQ(count_of(stages.err, "ppbench: error: --num-stages: 3 pipeline ranks, but --schedule-file 'split.csv' has 2"),
            2)
      << stages.err;
  const CommandResult schedule = run_command(run + "--schedule gpipe");
  EXPECT_EQ(schedule.exit_code, 2);
  EXPECT_EQ(count_of(schedule.err, "ppbench: error: --schedule: cannot be combined with --schedule-file"), 2)
      << schedule.err;
  std::filesystem::remove(dir.file("split.csv"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(PpbenchInput, BadFlagsExit2AndWriteNothing) {
  TempDir dir;
  for (const std::string& flags :
       {std::string("--warmup -1"), std::string("--schedule nope"), std::string("--inject-fault 9:F1:hang"),
        std::string("--setup-timeout 0"), std::string("--iters 0"), std::string("--frobnicate")}) {
    const CommandResult r = run_command("cd " + dir.path() + " && " + mpirun(2) + " " + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << ": " << r.err;
    EXPECT_NE(r.err.find("ppbench: error: "), std::string::npos) << flags;
    EXPECT_TRUE(r.out.empty()) << flags << ": " << r.out;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// --backend cuda where it cannot be had: exit 2 from every rank with the
// reason (no CUDA backend in this build, or no GPU on some rank), nothing written.
TEST(PpbenchInput, CudaBackendWithoutAGpuIsBadInputOnEveryRank) {
  TempDir dir;
  const CommandResult r = run_command("cd " + dir.path() + " && " + mpirun(2) + " --backend cuda -b 2 --iters 1");
  if (r.exit_code == 0) GTEST_SKIP() << "a GPU is visible on every rank: --backend cuda ran";
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const int built_without = count_of(r.err, "ppbench: error: --backend cuda: this ppbench was built without the CUDA backend\n");
  const int no_gpu = count_of(r.err, "ppbench: error: --backend cuda: no GPU visible on every rank\n");
  EXPECT_EQ(built_without + no_gpu, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// auto says which backend it picked and why on the first line, and the run
// label of launch/one-gpu.sh reaches that line and every file's context.
TEST(PpbenchOutputs, AutoBackendSaysWhichAndWhyAndCarriesTheRunLabel) {
  TempDir dir;
  const std::string out = dir.file("run");
  const CommandResult r = run_command("PPB_RUN_LABEL=functional " + mpirun(2) + " -b 2 --iters 1 -f 1 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string first_line = r.out.substr(0, r.out.find('\n'));
  const bool cpu = first_line.rfind("ppbench: backend cpu (auto: ", 0) == 0;
  const bool cuda = first_line.rfind("ppbench: backend cuda (auto: a GPU on every rank)", 0) == 0;
  EXPECT_TRUE(cpu || cuda) << first_line;
  EXPECT_NE(first_line.find(", 2 ranks; results labelled functional"), std::string::npos) << first_line;
  for (const char* file : {"measured.json", "predicted.json", "summary.json"}) {
    const nlohmann::json doc = load_json(out + "/" + file);
    EXPECT_EQ(doc["context"]["run_label"], "functional") << file;
    EXPECT_EQ(doc["context"]["backend"], cpu ? "cpu" : "cuda") << file;
  }
  // Both ranks receive (activations or gradients), so both held buffers.
  const nlohmann::json s = load_json(out + "/summary.json");
  for (const auto& rank : s["ranks"]) {
    EXPECT_GE(rank["peak_buffer_bytes"].get<std::uint64_t>(), 65536u) << rank;
    EXPECT_GE(rank["predicted_peak_activations"].get<int>(), 1) << rank;
  }
}

TEST(PpbenchOutputs, MaxErrorExceededExits4AndStillWrites) {
  TempDir dir;
  const std::string out = dir.file("run");
  const CommandResult r = run_command(mpirun(2) + " -b 4 --iters 2 --max-error 0.000001 --out " + out);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("--max-error"), std::string::npos);
  EXPECT_TRUE(file_exists(out + "/summary.json"));
}

TEST(PpbenchOutputs, ExistingOutIsRefusedAndDefaultDirectoriesNeverCollide) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("taken"));
  write_text(dir.file("taken/keep"), "x");
  const CommandResult r = run_command(mpirun(2) + " -b 2 --iters 1 --out " + dir.file("taken"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ppbench: error: --out: '" + dir.file("taken") + "' already exists"), std::string::npos)
      << r.err;
  EXPECT_EQ(read_text(dir.file("taken/keep")), "x");

  // Two runs with the default --out in the same directory: two run directories.
  for (int i = 0; i < 2; ++i) {
    const CommandResult ok = run_command("cd " + dir.path() + " && " + mpirun(2) + " -b 2 --iters 1 --warmup 0");
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
  }
  int runs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("runs"))) {
    EXPECT_NE(entry.path().filename().string().find("-1f1b-P2-M2"), std::string::npos) << entry.path();
    EXPECT_TRUE(file_exists(entry.path().string() + "/summary.json"));
    ++runs;
  }
  EXPECT_EQ(runs, 2);

  // A file schedule's default directory is named by its kind, not by its label
  // (which holds the file name).
  std::filesystem::create_directory(dir.file("from-file"));
  write_text(dir.file("from-file/my schedule.csv"), "0F0,0F1,0B0,0B1\n1F0,1B0,1F1,1B1\n");
  const CommandResult file_run = run_command("cd " + dir.file("from-file") + " && " + mpirun(2) +
                                             " --schedule-file 'my schedule.csv' --iters 1 --warmup 0");
  ASSERT_EQ(file_run.exit_code, 0) << file_run.err;
  for (const auto& entry : std::filesystem::directory_iterator(dir.file("from-file/runs"))) {
    const std::string name = entry.path().filename().string();
    EXPECT_NE(name.find("-file-P2-M2"), std::string::npos) << name;
    EXPECT_EQ(name.find(' '), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace ppb::test
