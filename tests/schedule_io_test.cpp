// Schedule files: JSON and PyTorch CSV round trips, and readable errors.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "io/schedule_io.h"
#include "schedules/generators.h"
#include "support/run_command.h"
#include "test_schedules.h"

namespace ppb {
namespace {

void expect_same(const Schedule& a, const Schedule& b) {
  EXPECT_EQ(a.num_ranks, b.num_ranks);
  EXPECT_EQ(a.num_microbatches, b.num_microbatches);
  EXPECT_EQ(a.chunks, b.chunks);
  EXPECT_EQ(a.split_backward, b.split_backward);
  EXPECT_EQ(a.stage_rank, b.stage_rank);
  EXPECT_EQ(a.ops, b.ops);
}

class ScheduleRoundTrip : public ::testing::TestWithParam<test::GeneratorCase> {};

TEST_P(ScheduleRoundTrip, JsonKeepsEverything) {
  const Schedule s = test::make(GetParam());
  const Schedule back = schedule_from_json(nlohmann::json::parse(schedule_to_json(s).dump()), "mem.json");
  expect_same(s, back);
  // The name is kept as a label of a file's schedule, not taken for its generator.
  EXPECT_EQ(back.name, "file mem.json (" + s.name + ")");
  EXPECT_EQ(back.generator, "");
}

TEST_P(ScheduleRoundTrip, CsvKeepsTheOpsAndPlacement) {
  const Schedule s = test::make(GetParam());
  expect_same(s, schedule_from_csv(schedule_to_csv(s), "mem.csv"));
}

TEST_P(ScheduleRoundTrip, FilesOnDiskByExtension) {
  const Schedule s = test::make(GetParam());
  test::TempDir dir;
  for (const char* name : {"s.json", "s.csv"}) {
    save_schedule_file(s, dir.file(name));
    expect_same(s, load_schedule_file(dir.file(name)));
  }
}

INSTANTIATE_TEST_SUITE_P(Generators, ScheduleRoundTrip,
                         ::testing::Values(test::GeneratorCase{"gpipe", 3, 4, 1}, test::GeneratorCase{"1f1b", 4, 8, 1},
                                           test::GeneratorCase{"interleaved", 2, 4, 3},
                                           test::GeneratorCase{"zb-h1", 4, 6, 1}));

TEST(ScheduleCsv, WritesPyTorchActionStrings) {
  EXPECT_EQ(schedule_to_csv(make_1f1b(2, 2)), "0F0,0F1,0B0,0B1\n1F0,1B0,1F1,1B1\n");
  // A split backward is PyTorch's I (input gradient) followed by W.
  EXPECT_EQ(schedule_to_csv(make_zb_h1(1, 1)), "0F0,0I0,0W0\n");
}

TEST(ScheduleCsv, ReadsIdleCellsAndFullBackwardB) {
  // As PyTorch's _dump_csv writes a compute-only schedule: blank cells are idle steps.
  const Schedule s = schedule_from_csv("0F0,0F1,,0B0,,0B1\n,1F0,1B0,1F1,1B1,\n", "dir/p.csv");
  EXPECT_EQ(s.name, "file p.csv");
  EXPECT_EQ(s.generator, "");
  EXPECT_EQ(s.num_ranks, 2);
  EXPECT_EQ(s.num_microbatches, 2);
  EXPECT_FALSE(s.split_backward);
  EXPECT_EQ(s.ops[1].size(), 4u);
}

TEST(ScheduleCsv, ReadsInputAndWeightGradients) {
  const Schedule s = schedule_from_csv("0F0,0I0,0W0\n", "p.csv");
  EXPECT_TRUE(s.split_backward);
  EXPECT_EQ(s.ops[0][1].kind, OpKind::B);
  EXPECT_EQ(s.ops[0][2].kind, OpKind::W);
}

std::string load_error(const std::string& text, const std::string& name) {
  test::TempDir dir;
  test::write_text(dir.file(name), text);
  try {
    load_schedule_file(dir.file(name));
  } catch (const InputError& e) {
    const std::string msg = e.what();
    const auto at = msg.find(name);
    return at == std::string::npos ? "MISSING FILE NAME: " + msg : msg.substr(at);
  }
  return "";
}

TEST(ScheduleFiles, ErrorsNameTheFileAndTheReason) {
  EXPECT_EQ(load_error("0F0,0X0\n", "bad.csv"), "bad.csv:1: bad cell '0X0' (expected {stage}{F|B|I|W}{microbatch}, e.g. 0F1)");
  EXPECT_NE(load_error("0F0,0F0,0B0\n", "dup.csv").find("F0@s0 (rank 0, position 1) appears twice"), std::string::npos);
  EXPECT_NE(load_error("0F0\n", "missing.csv").find("B0@s0 (rank 0) is missing"), std::string::npos);
  EXPECT_NE(load_error("{not json", "bad.json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error("{\"schema\": \"other\", \"ranks\": []}", "s.json").find("\"schema\""), std::string::npos);
  EXPECT_NE(load_error("0F0,1B0\n1F0,0B0\n", "split.csv").find("stage 1 has ops on both rank 0 and rank 1"),
            std::string::npos);
}

TEST(ScheduleFiles, AWeightGradientAfterAFullBackwardIsRefused) {
  // B is PyTorch's full backward: nothing is left for a W. The split backward is I then W.
  EXPECT_EQ(load_error("0F0,0B0,0W0\n1F0,1B0,1W0\n", "bw.csv"),
            "bw.csv: op 0W0 (rank 0) is a W after the full backward 0B0: B is a full backward, and a W follows only "
            "an input-gradient backward I (0I0)");
  EXPECT_NE(load_error(R"({"schema": "ppbench.schedule/1", "ranks": [["0F0", "0I0", "0W0"], ["1F0", "1B0", "1W0"]]})",
                       "bw.json")
                .find("bw.json: op 1W0 (rank 1) is a W after the full backward 1B0"),
            std::string::npos);
  // The same ops with I load.
  test::TempDir dir;
  test::write_text(dir.file("iw.csv"), "0F0,0I0,0W0\n1F0,1I0,1W0\n");
  EXPECT_TRUE(load_schedule_file(dir.file("iw.csv")).split_backward);
}

TEST(ScheduleFiles, MissingFileIsAnInputError) {
  EXPECT_THROW(load_schedule_file("/nonexistent/dir/s.json"), InputError);
}

}  // namespace
}  // namespace ppb
