// One config file for ppsim and ppbench (-c/--config, JSON or YAML): ppbench
// runs the file's settings, the command line wins, and each command accepts
// the other's own keys, says they are unused, and leaves them so.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mpi_commands.h"

namespace ppb::test {
namespace {

// A ppsim config that also carries ppbench's measurement keys.
constexpr const char* kSharedConfig =
    "schedule: gpipe\n"
    "num_batches: 4\n"
    "forward_times: [1, 2]\n"
    "backward_times: 2\n"
    "output: timeline.png\n"
    "iters: 2\n"
    "warmup: 0\n";

TEST(PpbenchConfig, RunsTheFileWithTheCommandLineWinningAndPpsimKeysUnused) {
  TempDir dir;
  write_text(dir.file("cfg.yaml"), kSharedConfig);
  const CommandResult r = run_command("cd " + dir.path() + " && " + mpirun(2) + " -c cfg.yaml -b 2 --out run");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Once, from rank 0.
  EXPECT_EQ(count_of(r.err, "ppbench: cfg.yaml: ppsim's keys output unused (a run writes its own directory)\n"), 1)
      << r.err;
  EXPECT_NE(r.out.find("ppbench: gpipe, P=2, M=2; F 1.000 ms to 2.000 ms, B 2.000 ms per stage; 65536 B messages; "
                       "0 warm-up + 2 measured iterations"),
            std::string::npos)
      << r.out;
  const nlohmann::json summary = load_json(dir.file("run/summary.json"));
  EXPECT_EQ(load_json(dir.file("run/measured.json"))["iterations"].size(), 2u);
  EXPECT_DOUBLE_EQ(summary["stages"][1]["F"]["target_us"].get<double>(), 2000);
  EXPECT_FALSE(std::filesystem::exists(dir.file("timeline.png")));
}

TEST(PpbenchConfig, BadFileIsBadInputOnEveryRankAndWritesNothing) {
  TempDir dir;
  write_text(dir.file("cfg.yaml"), std::string(kSharedConfig) + "bogus: 1\n");
  const CommandResult bad_key = run_command("cd " + dir.path() + " && " + mpirun(2) + " -c cfg.yaml --out run");
  EXPECT_EQ(bad_key.exit_code, 2) << bad_key.err;
  EXPECT_EQ(count_of(bad_key.err, "ppbench: error: cfg.yaml: unknown key 'bogus'\n"), 2) << bad_key.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));

  write_text(dir.file("cfg.yaml"), "num_batches: 2.5\n");
  const CommandResult bad_value = run_command("cd " + dir.path() + " && " + mpirun(2) + " -c cfg.yaml --out run");
  EXPECT_EQ(bad_value.exit_code, 2) << bad_value.err;
  EXPECT_NE(bad_value.err.find("cfg.yaml: num_batches: expected a whole number, got 2.5"), std::string::npos)
      << bad_value.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("run")));

  // Subcommands take their flags after their name, and no file.
  write_text(dir.file("cfg.yaml"), kSharedConfig);
  const CommandResult before_sweep =
      run_command("cd " + dir.path() + " && " + mpirun(2) + " -c cfg.yaml sweep -b 2 --out run");
  EXPECT_EQ(before_sweep.exit_code, 2) << before_sweep.err;
  EXPECT_NE(before_sweep.err.find("--config: sweep reads no config file"), std::string::npos) << before_sweep.err;
}

TEST(PpsimConfig, PpbenchKeysAreUnusedAndSaidOnStandardError) {
  TempDir dir;
  write_text(dir.file("cfg.yaml"), kSharedConfig);
  const CommandResult r = run_command("cd " + dir.path() + " && " + std::string(PPB_PPSIM_PATH) +
                                      " -c cfg.yaml -s 2 --no-visualization --metrics-json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "ppsim: cfg.yaml: ppbench's keys iters, warmup unused\n");
  const nlohmann::json metrics = nlohmann::json::parse(r.out);  // standard output stays the metrics alone
  EXPECT_EQ(metrics["num_microbatches"], 4);
}

// The lists of each command's own keys (sim_options.cpp) against the two
// commands' real flags: a flag added to one command and not listed would make
// a shared file an error in the other.
std::set<std::string> long_flags(const std::string& help) {
  std::set<std::string> flags;
  for (std::size_t pos = help.find("--"); pos != std::string::npos; pos = help.find("--", pos + 2)) {
    const std::size_t end = help.find_first_of(" ,=\n", pos);
    flags.insert(help.substr(pos + 2, end - pos - 2));
  }
  return flags;
}

TEST(SharedConfig, EachCommandsOwnKeysAreItsFlagsAndNotTheOthers) {
  const CommandResult ppbench_help = run_command(mpirun(1) + " --help");
  const CommandResult ppsim_help = run_command(std::string(PPB_PPSIM_PATH) + " --help");
  ASSERT_EQ(ppbench_help.exit_code, 0) << ppbench_help.err;
  ASSERT_EQ(ppsim_help.exit_code, 0) << ppsim_help.err;
  const std::set<std::string> ppbench = long_flags(ppbench_help.out);
  const std::set<std::string> ppsim = long_flags(ppsim_help.out);
  std::set<std::string> ppbench_only, ppsim_only;
  for (const std::string& f : ppbench) {
    if (ppsim.count(f) == 0 && f != "help" && f != "config") ppbench_only.insert(f);
  }
  for (const std::string& f : ppsim) {
    if (ppbench.count(f) == 0 && f != "help" && f != "config") ppsim_only.insert(f);
  }
  // Every flag of one command that the other lacks, as a key, is accepted by the other.
  auto config_with = [](const std::set<std::string>& flags) {
    std::string text;
    for (std::string f : flags) {
      for (char& c : f) c = c == '-' ? '_' : c;
      text += f + ": " + (f == "no_nvtx" || f == "no_visualization" || f == "transfers" ? "true" : "1") + "\n";
    }
    return text;
  };
  TempDir dir;
  write_text(dir.file("ppbench-keys.yaml"), config_with(ppbench_only));
  const CommandResult sim = run_command("cd " + dir.path() + " && " + std::string(PPB_PPSIM_PATH) +
                                        " -c ppbench-keys.yaml --no-visualization");
  EXPECT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_EQ(count_of(sim.err, ", "), static_cast<int>(ppbench_only.size()) - 1) << sim.err;
  write_text(dir.file("ppsim-keys.yaml"), config_with(ppsim_only));
  const CommandResult bench = run_command("cd " + dir.path() + " && " + mpirun(1) +
                                          " -c ppsim-keys.yaml -f 0.2 --backward-times 0.2 -b 1 --iters 1 --out run");
  EXPECT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_EQ(count_of(bench.err, ", "), static_cast<int>(ppsim_only.size()) - 1) << bench.err;
}

}  // namespace
}  // namespace ppb::test
