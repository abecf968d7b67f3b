// ppsim through the real command: outputs, config files, and every kind of bad
// input (exit 2, one line naming the flag/key/file, nothing written).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/ppsim_command.h"

namespace ppb {
namespace {

using test::CommandResult;
using test::count_lines;
using test::kPpsim;
using test::ppsim;
using test::run_command;

TEST(PpsimCli, PrintsTimelineAndMetricsByDefault) {
  const CommandResult r = ppsim("--schedule 1f1b -s 4 -b 8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("GPU 0"), std::string::npos);
  EXPECT_NE(r.out.find("GPU 3"), std::string::npos);
  EXPECT_NE(r.out.find("bubble fraction   27.27 %"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(P-1)/(M+P-1)"), std::string::npos);
}

TEST(PpsimCli, MetricsJsonHasTheDocumentedSchema) {
  const CommandResult r = ppsim("--schedule 1f1b -s 4 -b 8 -f 1 --backward-times 2 --metrics-json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["schema"], "ppbench.metrics/1");
  EXPECT_EQ(doc["schedule"], "1f1b");
  EXPECT_EQ(doc["num_stages"], 4);
  EXPECT_EQ(doc["num_microbatches"], 8);
  EXPECT_DOUBLE_EQ(doc["makespan"].get<double>(), 33000.0);
  EXPECT_DOUBLE_EQ(doc["bubble_fraction"].get<double>(), 3.0 / 11.0);
  EXPECT_DOUBLE_EQ(doc["analytic_bubble"].get<double>(), 3.0 / 11.0);
  ASSERT_EQ(doc["ranks"].size(), 4u);
  for (const char* key : {"rank", "busy", "idle", "bubble_fraction", "peak_activations"}) {
    EXPECT_TRUE(doc["ranks"][0].contains(key)) << key;
  }
  EXPECT_EQ(doc["ranks"][0]["peak_activations"], 4);
  EXPECT_TRUE(doc["context"]["argv"].is_array());
  EXPECT_EQ(doc["context"]["backend"], "simulator");
}

TEST(PpsimCli, SameInputGivesByteIdenticalFiles) {
  // Two runs in two directories with the same relative paths: same argv, same bytes.
  test::TempDir a, b;
  const std::string args =
      " --schedule interleaved -s 4 -b 8 --chunks 2 -f 1 1.5 1 1 --p2p-time 0.2 --timeline-json t.json "
      "--metrics-json m.json -o t.txt";
  ASSERT_EQ(run_command("cd " + a.path() + " && " + kPpsim + args).exit_code, 0);
  ASSERT_EQ(run_command("cd " + b.path() + " && " + kPpsim + args).exit_code, 0);
  for (const char* file : {"t.json", "m.json", "t.txt"}) {
    const std::string first = test::read_text(a.file(file));
    EXPECT_FALSE(first.empty()) << file;
    EXPECT_TRUE(first == test::read_text(b.file(file))) << file << " differs between identical runs";
  }
}

TEST(PpsimCli, DumpedScheduleReadsBackToTheSameResult) {
  test::TempDir dir;
  for (const char* ext : {".json", ".csv"}) {
    const std::string file = dir.file(std::string("zb") + ext);
    const CommandResult a = ppsim("--schedule zb-h1 -s 4 -b 8 --weight-times 1 --no-visualization --dump-schedule " + file);
    ASSERT_EQ(a.exit_code, 0) << a.err;
    const CommandResult b = ppsim("--schedule-file " + file + " --weight-times 1 --metrics-json -");
    ASSERT_EQ(b.exit_code, 0) << b.err;
    const auto doc = nlohmann::json::parse(b.out);
    EXPECT_DOUBLE_EQ(doc["makespan"].get<double>(), 38000.0) << ext;  // M(F+B+W) + (P-1)(F+B-W)
  }
}

TEST(PpsimCli, AScheduleFilesNameIsALabelNotItsGenerator) {
  // An interleaved schedule whose JSON says "gpipe": the analytic GPipe bubble
  // would be 27.27 %, the real one is 15.79 %. A file gets no formula.
  test::TempDir dir;
  const std::string dumped = dir.file("interleaved.json");
  ASSERT_EQ(ppsim("--schedule interleaved -s 4 -b 8 --no-visualization --dump-schedule " + dumped).exit_code, 0);
  nlohmann::json doc = nlohmann::json::parse(test::read_text(dumped));
  doc["name"] = "gpipe";
  test::write_text(dir.file("il.json"), doc.dump());
  const CommandResult metrics = ppsim("--schedule-file " + dir.file("il.json") + " --metrics-json -");
  ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
  const auto m = nlohmann::json::parse(metrics.out);
  EXPECT_TRUE(m["analytic_bubble"].is_null()) << m["analytic_bubble"];
  EXPECT_EQ(m["schedule"], "file il.json (gpipe)");
  EXPECT_NEAR(m["bubble_fraction"].get<double>(), 3.0 / 19.0, 1e-12);
  const CommandResult console = ppsim("--schedule-file " + dir.file("il.json") + " --no-visualization");
  ASSERT_EQ(console.exit_code, 0) << console.err;
  EXPECT_EQ(console.out.rfind("ppsim: file il.json (gpipe), P=4, M=8, v=2 (simulated)\n", 0), 0u) << console.out;
  EXPECT_EQ(console.out.find("analytic"), std::string::npos) << console.out;
}

TEST(PpsimCli, ConfigFilesInJsonAndYamlMatchTheFlags) {
  test::TempDir dir;
  test::write_text(dir.file("c.json"),
                   R"({"num_stages": 2, "num_batches": 4, "forward_times": [1, 2], "backward_times": 3, "p2p_time": 0.5,
                       "schedule": "gpipe"})");
  test::write_text(dir.file("c.yaml"),
                   "num_stages: 2\nnum_batches: 4\nforward_times: [1, 2]\nbackward_times: 3\np2p_time: 0.5\nschedule: gpipe\n");
  const CommandResult flags = ppsim("--schedule gpipe -s 2 -b 4 -f 1 2 --backward-times 3 --p2p-time 0.5 --metrics-json -");
  const CommandResult json = ppsim("-c " + dir.file("c.json") + " --metrics-json -");
  const CommandResult yaml = ppsim("--config " + dir.file("c.yaml") + " --metrics-json -");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  auto makespan = [](const CommandResult& r) { return nlohmann::json::parse(r.out)["makespan"].get<double>(); };
  EXPECT_DOUBLE_EQ(makespan(json), makespan(flags));
  EXPECT_DOUBLE_EQ(makespan(yaml), makespan(flags));
  // The command line wins over the file.
  const CommandResult override = ppsim("-c " + dir.file("c.yaml") + " -b 8 --metrics-json -");
  ASSERT_EQ(override.exit_code, 0) << override.err;
  EXPECT_EQ(nlohmann::json::parse(override.out)["num_microbatches"], 8);
}

TEST(PpsimCli, AScheduleFileWithTheSameCountsAsTheFlagsRuns) {
  test::TempDir dir;
  test::write_text(dir.file("split.csv"), "0F0,0B0,0F1,0B1\n1F0,1B0,1F1,1B1\n");
  const CommandResult r = ppsim("--schedule-file " + dir.file("split.csv") + " -s 2 -b 2 --no-visualization");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ppsim: file split.csv, P=2, M=2 (simulated)\n", 0), 0u) << r.out;
}

// What is on the command line wins over the config file: the same key, and the
// file's alternatives to it (schedule_file against --schedule, one link model
// against another).
TEST(PpsimCli, CommandLineScheduleAndLinkReplaceTheConfigFiles) {
  test::TempDir dir;
  test::write_text(dir.file("split.csv"), "0F0,0B0,0F1,0B1\n1F0,1B0,1F1,1B1\n");
  test::write_text(dir.file("file.yaml"), "schedule_file: " + dir.file("split.csv") + "\n");
  const CommandResult schedule = ppsim("-c " + dir.file("file.yaml") + " --schedule gpipe -s 4 --metrics-json -");
  ASSERT_EQ(schedule.exit_code, 0) << schedule.err;
  EXPECT_EQ(nlohmann::json::parse(schedule.out)["schedule"], "gpipe");
  EXPECT_EQ(nlohmann::json::parse(schedule.out)["num_stages"], 4);

  test::write_text(dir.file("gen.yaml"), "schedule: interleaved\nchunks: 2\nnum_stages: 4\nnum_batches: 8\n");
  const CommandResult from_file = ppsim("-c " + dir.file("gen.yaml") + " --schedule-file " + dir.file("split.csv") +
                                        " --metrics-json -");
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(nlohmann::json::parse(from_file.out)["schedule"], "file split.csv");

  // gpipe, P=2, M=1, F 1, B 2: 6 ms plus two transfers.
  auto makespan = [&](const std::string& args) {
    const CommandResult r = ppsim("--schedule gpipe -s 2 -b 1 --metrics-json - " + args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["makespan"].get<double>() : -1.0;
  };
  test::write_text(dir.file("fixed.yaml"), "p2p_time: 0.1\n");
  EXPECT_DOUBLE_EQ(makespan("-c " + dir.file("fixed.yaml")), 6200);
  EXPECT_DOUBLE_EQ(makespan("-c " + dir.file("fixed.yaml") + " --p2p-latency 1"), 8000);
  test::write_text(dir.file("latency.yaml"), "p2p_latency: 1\nbandwidth: 1\nactivation_bytes: 1M\n");
  // The whole link model: the file's bandwidth goes with its latency.
  EXPECT_DOUBLE_EQ(makespan("-c " + dir.file("latency.yaml") + " --p2p-latency 0.5"), 7000);
}

// "space- or comma-separated": one string of values is a list, in a config file
// and on the command line alike.
TEST(PpsimCli, TimesListsMaySeparateWithSpacesAndCommas) {
  test::TempDir dir;
  const std::string common = " -s 4 -b 8 --metrics-json -";
  const CommandResult flags = ppsim("-f 1 2 3 4" + common);
  ASSERT_EQ(flags.exit_code, 0) << flags.err;
  const double expected = nlohmann::json::parse(flags.out)["makespan"].get<double>();
  test::write_text(dir.file("spaces.yaml"), "forward_times: \"1 2 3 4\"\n");
  test::write_text(dir.file("mixed.json"), "{\"forward_times\": \"1, 2,3 4\"}");
  for (const std::string& args : {std::string("-f '1 2 3 4'"), std::string("-f '1,2, 3 4'"), std::string("-f 1,2 3 4"),
                                  "-c " + dir.file("spaces.yaml"), "-c " + dir.file("mixed.json")}) {
    const CommandResult r = ppsim(args + common);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_DOUBLE_EQ(nlohmann::json::parse(r.out)["makespan"].get<double>(), expected) << args;
  }
}

TEST(PpsimCli, OutputFileKeyWritesTheTimeline) {
  test::TempDir dir;
  test::write_text(dir.file("c.yaml"), "output_file: " + dir.file("t.txt") + "\nnum_stages: 2\n");
  const CommandResult r = ppsim("-c " + dir.file("c.yaml"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(test::read_text(dir.file("t.txt")).find("GPU 1"), std::string::npos);
}

struct BadInput {
  std::string name;
  std::string args;            // {dir} is replaced by a temp dir holding good.json
  std::string expected_start;  // the one line on stderr starts with this
};

void PrintTo(const BadInput& bad, std::ostream* out) { *out << bad.name; }

class PpsimBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(PpsimBadInput, ExitsTwoWithOneLineAndWritesNothing) {
  test::TempDir dir;
  test::write_text(dir.file("bad.json"), "{\"num_stages\": 4,");
  test::write_text(dir.file("unknown.yaml"), "num_stages: 4\nfrobnicate: 1\n");
  test::write_text(dir.file("nested.json"), "{\"num_stages\": {\"a\": 1}}");
  test::write_text(dir.file("huge.yaml"), "backward_times: 1e306\n");
  test::write_text(dir.file("half.yaml"), "num_stages: 3.5\n");
  test::write_text(dir.file("half.json"), "{\"num_batches\": 2.5}");
  test::write_text(dir.file("word.yaml"), "p2p_latency: fast\n");
  test::write_text(dir.file("zero.yaml"), "num_batches: 0\n");
  test::write_text(dir.file("item.yaml"), "forward_times: [1, x]\n");
  test::write_text(dir.file("size.json"), "{\"activation_bytes\": \"64X\"}");
  test::write_text(dir.file("twice.yaml"), "num_stages: 2\nnum_stages: 3\n");
  test::write_text(dir.file("twice.json"), "{\"num_stages\": 2, \"num_stages\": 3}");
  test::write_text(dir.file("spellings.yaml"), "num-stages: 2\nnum_stages: 3\n");
  test::write_text(dir.file("outputs.yaml"), "output: " + dir.path() + "/a.txt\noutput_file: " + dir.path() + "/b.txt\n");
  test::write_text(dir.file("split.csv"), "0F0,0B0,0F1,0B1\n1F0,1B0,1F1,1B1\n");
  test::write_text(dir.file("both.yaml"), "schedule: gpipe\nschedule_file: " + dir.path() + "/split.csv\n");
  test::write_text(dir.file("deadlock.csv"), "0F0,0B0,0F1,0B1\n1F1,1B1,1F0,1B0\n");
  auto expand = [&](std::string text) {
    for (std::size_t at; (at = text.find("{dir}")) != std::string::npos;) text.replace(at, 5, dir.path());
    return text;
  };
  const std::string args = expand(GetParam().args);
  const std::string out = dir.file("out.json");
  const CommandResult r = ppsim(args + " --metrics-json " + out + " --timeline-json " + dir.file("t.json"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("ppsim: error: " + expand(GetParam().expected_start), 0), 0u) << r.err;
  EXPECT_FALSE(test::file_exists(out));
  EXPECT_FALSE(test::file_exists(dir.file("t.json")));
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, PpsimBadInput,
    ::testing::Values(
        BadInput{"UnknownSchedule", "--schedule 2f2b", "--schedule: unknown schedule '2f2b'"},
        BadInput{"ZeroStages", "-s 0", "--num-stages: must be a positive integer"},
        BadInput{"NegativeBatches", "-b -3", "--num-batches: must be a positive integer"},
        BadInput{"NotANumber", "-s four", "Could not convert: --num-stages = four"},
        BadInput{"NegativeTime", "-f -1", "--forward-times: times must be positive"},
        BadInput{"ZeroTime", "--backward-times 0", "--backward-times: times must be positive"},
        BadInput{"InfiniteTime", "--weight-times inf", "--weight-times: times must be finite"},
        BadInput{"NanTime", "-f nan", "--forward-times: times must be finite"},
        BadInput{"NegativeP2p", "--p2p-time -1", "--p2p-time: must not be negative"},
        BadInput{"TimeOverflowsInMicroseconds", "-f 1e306 -s 2 -b 2", "--forward-times: 1e+306 is too large"},
        BadInput{"TimeOverflowsWithoutPicture", "-f 1e306 -s 2 -b 2 --no-visualization",
                 "--forward-times: 1e+306 is too large"},
        BadInput{"P2pTimeOverflows", "--p2p-time 1e306", "--p2p-time: 1e+306 is too large"},
        BadInput{"P2pLatencyOverflows", "--p2p-latency 1e306", "--p2p-latency: 1e+306 is too large"},
        BadInput{"BandwidthOverflows", "--bandwidth 1e306", "--bandwidth: 1e+306 is too large"},
        BadInput{"IterationOverflows", "-f 1e304 -s 2 -b 100", "--forward-times: times too large"},
        BadInput{"ConfigTimeOverflows", "-c {dir}/huge.yaml", "{dir}/huge.yaml: backward_times: 1e+306 is too large"},
        BadInput{"WrongListLength", "-s 4 -f 1 2 3", "--forward-times: expected 1 or 4 values"},
        BadInput{"InterleavedDivisibility", "--schedule interleaved -s 4 -b 6",
                 "--num-batches: interleaved needs the microbatch count (6) to be a multiple"},
        BadInput{"ZeroChunks", "--schedule interleaved -s 4 -b 8 --chunks 0",
                 "--chunks: interleaved needs at least 2 chunks per rank (got 0)"},
        BadInput{"OneChunk", "--schedule interleaved -s 4 -b 8 --chunks 1",
                 "--chunks: interleaved needs at least 2 chunks per rank (got 1)"},
        BadInput{"ZeroChunksWithoutInterleaved", "--schedule 1f1b --chunks 0", "--chunks: only the interleaved"},
        BadInput{"ChunksWithoutInterleaved", "--schedule 1f1b --chunks 2", "--chunks: only the interleaved"},
        BadInput{"ScheduleBesideScheduleFile", "--schedule-file {dir}/split.csv --schedule gpipe -s 5 -b 9 --chunks 3",
                 "--schedule: cannot be combined with --schedule-file"},
        BadInput{"ChunksBesideScheduleFile", "--schedule-file {dir}/split.csv --chunks 3",
                 "--chunks: cannot be combined with --schedule-file"},
        BadInput{"StagesBesideScheduleFile", "--schedule-file {dir}/split.csv -s 5",
                 "--num-stages: 5 pipeline ranks, but --schedule-file '{dir}/split.csv' has 2"},
        BadInput{"BatchesBesideScheduleFile", "--schedule-file {dir}/split.csv -b 9",
                 "--num-batches: 9 microbatches, but --schedule-file '{dir}/split.csv' has 2"},
        BadInput{"ScheduleAndScheduleFileInAConfig", "-c {dir}/both.yaml",
                 "--schedule: cannot be combined with --schedule-file"},
        BadInput{"NotAWholeNumberInAConfig", "-c {dir}/half.yaml",
                 "{dir}/half.yaml: num_stages: expected a whole number, got 3.5"},
        BadInput{"NotAWholeNumberInAJsonConfig", "-c {dir}/half.json",
                 "{dir}/half.json: num_batches: expected a whole number, got 2.5"},
        BadInput{"NotANumberInAConfig", "-c {dir}/word.yaml", "{dir}/word.yaml: p2p_latency: expected a number, got fast"},
        BadInput{"RangeInAConfig", "-c {dir}/zero.yaml", "{dir}/zero.yaml: num_batches: must be a positive integer (got 0)"},
        BadInput{"ListItemInAConfig", "-c {dir}/item.yaml", "{dir}/item.yaml: forward_times: 'x' is not a number"},
        BadInput{"SizeInAConfig", "-c {dir}/size.json", "{dir}/size.json: activation_bytes: '64X' is not a size"},
        BadInput{"NotAListItem", "-f '1 x'", "--forward-times: 'x' is not a number"},
        BadInput{"RepeatedYamlKey", "-c {dir}/twice.yaml", "{dir}/twice.yaml: key 'num_stages' is given twice"},
        BadInput{"RepeatedJsonKey", "-c {dir}/twice.json", "{dir}/twice.json: key 'num_stages' is given twice"},
        BadInput{"TwoSpellingsOfAKey", "-c {dir}/spellings.yaml",
                 "{dir}/spellings.yaml: keys 'num-stages' and 'num_stages' both set --num-stages"},
        BadInput{"OutputAndOutputFile", "-c {dir}/outputs.yaml",
                 "{dir}/outputs.yaml: keys 'output' and 'output_file' both set --output (give one)"},
        BadInput{"UnreadableConfig", "-c {dir}/missing.yaml", "{dir}/missing.yaml"},
        BadInput{"MalformedConfig", "-c {dir}/bad.json", "{dir}/bad.json: not valid JSON"},
        BadInput{"UnknownConfigKey", "-c {dir}/unknown.yaml", "{dir}/unknown.yaml: unknown key 'frobnicate'"},
        BadInput{"NestedConfigValue", "-c {dir}/nested.json", "{dir}/nested.json: config key 'num_stages'"},
        BadInput{"DeadlockedScheduleFile", "--schedule-file {dir}/deadlock.csv",
                 "{dir}/deadlock.csv: schedule: deadlock: op B0@s0 (rank 0, position 1) waits for B0@s1, which can "
                 "never run"},
        BadInput{"MissingScheduleFile", "--schedule-file {dir}/none.json", "{dir}/none.json: cannot read"},
        BadInput{"OutputInMissingDirectory", "-o {dir}/no/such/dir/t.txt", "--output: directory"},
        BadInput{"UnknownFlag", "--frobnicate", "The following argument was not expected: --frobnicate"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ppb
