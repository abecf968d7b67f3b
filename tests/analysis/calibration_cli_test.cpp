// `ppsim --calibration FILE` through the real command: the prediction follows
// the file (hand-worked makespan), and bad files or conflicting flags are exit 2
// with one line naming the file and key (or both flags), nothing written.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/ppsim_command.h"

namespace ppb {
namespace {

using test::CommandResult;
using test::ppsim;
using test::run_command;


nlohmann::json stats(double median_us) {
  return {{"samples", 5}, {"median_us", median_us}, {"p5_us", median_us * 0.9}, {"p95_us", median_us * 1.1}};
}

// Two ranks. Rank 0: F 1 ms, B 2 ms; rank 1: F 1.5 ms, B 3 ms. Link 0 -> 1:
// 100 us + bytes / 1000 (1 GB/s); link 1 -> 0: 50 us, no bandwidth term.
nlohmann::json two_rank_file() {
  return {{"schema", "ppbench.calibration/1"},
          {"time_unit", "us"},
          {"num_ranks", 2},
          {"stages",
           {{{"rank", 0}, {"forward", stats(1000)}, {"backward", stats(2000)}},
            {{"rank", 1}, {"forward", stats(1500)}, {"backward", stats(3000)}}}},
          {"links",
           {{{"src_rank", 0}, {"dst_rank", 1}, {"sizes", nlohmann::json::array()},
             {"fit", {{"latency_us", 100}, {"bytes_per_us", 1000}}}},
            {{"src_rank", 1}, {"dst_rank", 0}, {"sizes", nlohmann::json::array()},
             {"fit", {{"latency_us", 50}, {"bytes_per_us", 0}}}}}}};
}

class PpsimCalibration : public ::testing::Test {
 protected:
  void SetUp() override { test::write_text(file_, two_rank_file().dump()); }
  test::TempDir dir_;
  std::string file_ = dir_.file("cal.json");
};

TEST_F(PpsimCalibration, ThePredictionUsesTheFilesTimesAndLinks) {
  const CommandResult r = ppsim("--schedule gpipe -s 2 -b 1 --calibration " + file_ +
                                " --activation-bytes 100000 --metrics-json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // F0 on rank 0 (1000), the activation (100 + 100), F and B on rank 1 (1500 +
  // 3000), the gradient (50), B on rank 0 (2000).
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out)["makespan"].get<double>(), 1000 + 200 + 4500 + 50 + 2000);

  // The message size moves only the link with a bandwidth term.
  const CommandResult small = ppsim("--schedule gpipe -s 2 -b 1 --calibration " + file_ +
                                    " --activation-bytes 1000 --metrics-json -");
  ASSERT_EQ(small.exit_code, 0) << small.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(small.out)["makespan"].get<double>(), 1000 + 101 + 4500 + 50 + 2000);

  // Interleaved: each rank's times are shared by its two chunks.
  const CommandResult inter = ppsim("--schedule interleaved -s 2 -b 2 --calibration " + file_ +
                                    " --activation-bytes 1000 --metrics-json -");
  ASSERT_EQ(inter.exit_code, 0) << inter.err;
  const nlohmann::json m = nlohmann::json::parse(inter.out);
  EXPECT_DOUBLE_EQ(m["ranks"][0]["busy"].get<double>(), 2 * (1000 + 2000));
  EXPECT_DOUBLE_EQ(m["ranks"][1]["busy"].get<double>(), 2 * (1500 + 3000));
}

TEST_F(PpsimCalibration, TheConsoleSaysWhereTheCostsCameFrom) {
  const CommandResult r = ppsim("-s 2 --calibration " + file_ + " --activation-bytes 1000 --no-visualization");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ppsim: 1f1b, P=2, M=8 (simulated, costs from " + file_ + ")\n", 0), 0u) << r.out;
}

// Bad input: the command fails with exit 2 and exactly one line, writes no file.
void expect_bad_input(const std::string& args, const std::string& line_start) {
  test::TempDir out;
  const CommandResult r = ppsim(args + " --metrics-json " + out.file("m.json") + " -o " + out.file("t.txt"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("ppsim: error: " + line_start, 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_FALSE(test::file_exists(out.file("m.json")));
  EXPECT_FALSE(test::file_exists(out.file("t.txt")));
}

// --activation-bytes takes the suffixes of `ppbench calibrate --sizes`.
TEST_F(PpsimCalibration, MessageSizesTakeBinarySuffixes) {
  auto makespan = [&](const std::string& bytes) {
    const CommandResult r = ppsim("--schedule gpipe -s 2 -b 1 --calibration " + file_ + " --activation-bytes " + bytes +
                                  " --metrics-json -");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["makespan"].get<double>() : -1.0;
  };
  EXPECT_DOUBLE_EQ(makespan("64K"), makespan("65536"));
  EXPECT_DOUBLE_EQ(makespan("1MiB"), 1000 + 100 + 1048.576 + 4500 + 50 + 2000);
  // 0 bytes is a size (a latency-only message), not a missing one.
  EXPECT_DOUBLE_EQ(makespan("0"), 1000 + 100 + 4500 + 50 + 2000);
  expect_bad_input("-s 2 --calibration " + file_ + " --activation-bytes 64X", "--activation-bytes: '64X' is not a size");
}

TEST_F(PpsimCalibration, TimeFlagsBesideTheFileAreRefusedNamingBoth) {
  const std::string common = "-s 2 --activation-bytes 1000 --calibration " + file_;
  for (const char* flag : {"-f 2", "--backward-times 2", "--weight-times 1", "--p2p-time 0.1", "--p2p-latency 0.1",
                           "--bandwidth 10"}) {
    SCOPED_TRACE(flag);
    std::string name = flag;
    name = name.substr(0, name.find(' '));
    if (name == "-f") name = "--forward-times";
    expect_bad_input(common + " " + flag, name + ": cannot be used with --calibration");
  }
  // A time in a config file counts as given too.
  test::write_text(dir_.file("c.yaml"), "forward_times: [2]\n");
  expect_bad_input(common + " -c " + dir_.file("c.yaml"), "--forward-times: cannot be used with --calibration");
}

TEST_F(PpsimCalibration, OnTheCommandLineItReplacesAConfigFilesLinkModel) {
  // The command line wins: the file's p2p_time is another link model, dropped.
  test::write_text(dir_.file("link.yaml"), "p2p_time: 5\n");
  const std::string args = "--schedule gpipe -s 2 -b 1 --activation-bytes 100000 --metrics-json - --calibration " + file_;
  const CommandResult r = ppsim("-c " + dir_.file("link.yaml") + " " + args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out)["makespan"].get<double>(), 1000 + 200 + 4500 + 50 + 2000);
  // Both in the file: still the conflict, naming both.
  test::write_text(dir_.file("both.yaml"), "p2p_time: 5\ncalibration: " + file_ + "\n");
  expect_bad_input("-s 2 --activation-bytes 1000 -c " + dir_.file("both.yaml"),
                   "--p2p-time: cannot be used with --calibration");
}

TEST_F(PpsimCalibration, BadFilesAreNamedWithTheKey) {
  nlohmann::json doc = two_rank_file();
  doc["stages"][1].erase("backward");
  test::write_text(dir_.file("missing.json"), doc.dump());
  expect_bad_input("-s 2 --activation-bytes 1000 --calibration " + dir_.file("missing.json"),
                   dir_.file("missing.json") + ": \"stages[1].backward\" is missing");

  doc = two_rank_file();
  doc["links"][0]["fit"]["latency_us"] = "fast";
  test::write_text(dir_.file("type.json"), doc.dump());
  expect_bad_input("-s 2 --activation-bytes 1000 --calibration " + dir_.file("type.json"),
                   dir_.file("type.json") + ": \"links[0].fit.latency_us\" must be a number");

  expect_bad_input("-s 2 --activation-bytes 1000 --calibration " + dir_.file("none.json"), dir_.file("none.json"));
  test::write_text(dir_.file("text.json"), "not json");
  expect_bad_input("-s 2 --activation-bytes 1000 --calibration " + dir_.file("text.json"),
                   dir_.file("text.json") + ": not valid JSON");
}

TEST_F(PpsimCalibration, RankCountMessageSizeAndLinksMustFit) {
  expect_bad_input("-s 4 --activation-bytes 1000 --calibration " + file_,
                   file_ + ": calibrated on 2 ranks, the schedule has 4");
  expect_bad_input("-s 2 --calibration " + file_, "--activation-bytes: give the message size with --calibration");
  nlohmann::json doc = two_rank_file();
  doc["links"].erase(1);
  test::write_text(dir_.file("one_link.json"), doc.dump());
  expect_bad_input("-s 2 --activation-bytes 1000 --calibration " + dir_.file("one_link.json"),
                   dir_.file("one_link.json") + ": no calibration of the link rank 1 -> rank 0");
}

}  // namespace
}  // namespace ppb
