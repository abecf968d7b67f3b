// ppsim's pictures and sweep through the real command: --output picks the
// renderer by extension, --no-visualization writes none, bad input exits 2
// with one line and writes nothing, and the sweep skips infeasible points.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "render/image.h"
#include "support/ppsim_command.h"

namespace ppb {
namespace {

using test::CommandResult;
using test::ppsim;
using test::TempDir;

void expect_bad_input(const CommandResult& r, const std::string& flag) {
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err.rfind("ppsim: error: " + flag, 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

int count_lines_with(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(PpsimOutput, TxtIsTheAsciiTimelineWithTitleAndMetrics) {
  TempDir dir;
  const CommandResult r = ppsim("--schedule gpipe -s 4 -b 4 --width 90 -o " + dir.file("t.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = test::read_text(dir.file("t.txt"));
  EXPECT_EQ(text.rfind("gpipe, P=4, M=4 (predicted)\n", 0), 0u) << text;
  EXPECT_EQ(count_lines_with(text, "\nGPU "), 4) << text;
  EXPECT_NE(text.find("makespan 21.000 ms | bubble 42.86 %"), std::string::npos) << text;
  EXPECT_EQ(text.find('\033'), std::string::npos);  // never colours in a file
}

TEST(PpsimOutput, JsonIsAChromeTraceWithContext) {
  TempDir dir;
  const CommandResult r = ppsim("-s 2 -b 2 --p2p-time 0.1 -o " + dir.file("t.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(test::read_text(dir.file("t.json")));
  EXPECT_EQ(doc.at("schema"), "ppbench.trace/1");
  EXPECT_TRUE(doc.at("context").contains("argv"));
  int ops = 0;
  for (const auto& e : doc.at("traceEvents")) ops += e.at("ph") == "X" && e.at("cat") != "transfer";
  EXPECT_EQ(ops, 2 * 4);
}

TEST(PpsimOutput, ImagesByExtensionOrAClearRefusal) {
  TempDir dir;
  for (const char* name : {"g.svg", "g.png", "g.pdf"}) {
    SCOPED_TRACE(name);
    const CommandResult r = ppsim("--schedule zb-h1 --transfers -o " + dir.file(name));
    if (image_output_available()) {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_GT(test::read_text(dir.file(name)).size(), 1000u);
    } else {
      expect_bad_input(r, "--output");
      EXPECT_NE(r.err.find("without cairo"), std::string::npos);
      EXPECT_FALSE(test::file_exists(dir.file(name)));
    }
  }
}

TEST(PpsimOutput, UnknownExtensionIsBadInputAndNothingIsWritten) {
  TempDir dir;
  const CommandResult r =
      ppsim("-o " + dir.file("t.gif") + " --metrics-json " + dir.file("m.json") + " --dump-schedule " +
            dir.file("s.json"));
  expect_bad_input(r, "--output");
  EXPECT_NE(r.err.find(".txt, .json, .svg, .png, .pdf"), std::string::npos) << r.err;
  for (const char* f : {"t.gif", "m.json", "s.json"}) EXPECT_FALSE(test::file_exists(dir.file(f))) << f;
}

// An output that names a directory, or a file another output flag names too,
// is refused before anything is written, naming the flag.
TEST(PpsimOutput, DirectoryOrSharedOutputFileIsBadInputAndNothingIsWritten) {
  TempDir dir;
  ASSERT_EQ(test::run_command("mkdir " + dir.file("d.txt")).exit_code, 0);
  const CommandResult into_directory = ppsim("--metrics-json " + dir.file("m.json") + " -o " + dir.file("d.txt"));
  expect_bad_input(into_directory, "--output: '" + dir.file("d.txt") + "' is a directory");
  EXPECT_FALSE(test::file_exists(dir.file("m.json")));

  const CommandResult shared = ppsim("--metrics-json " + dir.file("x.json") + " --timeline-json " + dir.file("x.json"));
  expect_bad_input(shared, "--timeline-json: '" + dir.file("x.json") + "' is also --metrics-json's file");
  EXPECT_FALSE(test::file_exists(dir.file("x.json")));
}

TEST(PpsimOutput, NoVisualizationWritesNoPicture) {
  TempDir dir;
  const CommandResult r = ppsim("--no-visualization -o " + dir.file("t.txt") + " --metrics-json " + dir.file("m.json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(test::file_exists(dir.file("t.txt")));
  EXPECT_TRUE(test::file_exists(dir.file("m.json")));
  EXPECT_EQ(r.out.find("GPU 0"), std::string::npos) << r.out;  // nor on the console
}

TEST(PpsimOutput, ConsoleHonoursWidthAndNeverColoursAPipe) {
  const CommandResult r = ppsim("--width 70");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\033'), std::string::npos);
  const std::size_t row = r.out.find("GPU 0 (stage 0) |");
  ASSERT_NE(row, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\n', row) - row, 70u);
}

TEST(PpsimSweep, TableCoversEveryPointInOrderAndSkipsInfeasibleInterleaved) {
  const CommandResult r = ppsim("sweep --schedule 1f1b,interleaved --num-stages 4 --num-batches 2,4,6,8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.out, "\n1f1b "), 4) << r.out;
  EXPECT_EQ(count_lines_with(r.out, "skipped: --num-batches: interleaved needs the microbatch count"), 2) << r.out;
  EXPECT_NE(r.out.find("8 points, 2 skipped"), std::string::npos) << r.out;
  // 1F1B at M=8 on 4 stages: the uniform-stage bubble 3/11.
  EXPECT_NE(r.out.find("27.27 %    27.27 %"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("\n1f1b            4     8"), r.out.find("\ninterleaved     4     2")) << r.out;
}

TEST(PpsimSweep, CsvAndThreadCountDoNotChangeTheResults) {
  TempDir dir;
  const std::string args = "sweep --schedule gpipe,1f1b,interleaved,zb-h1 -s 2,4 -b 1,2,4,8,16 --p2p-time 0.1 --csv ";
  const CommandResult one = ppsim(args + dir.file("one.csv") + " --jobs 1");
  const CommandResult many = ppsim(args + dir.file("many.csv") + " --jobs 4");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(many.exit_code, 0) << many.err;
  EXPECT_EQ(one.out, many.out);
  const std::string csv = test::read_text(dir.file("one.csv"));
  EXPECT_EQ(csv, test::read_text(dir.file("many.csv")));
  EXPECT_EQ(csv.rfind("schedule,num_stages,num_batches,chunks,makespan_us,bubble_fraction,analytic_bubble,"
                      "peak_activations,status,reason\n",
                      0),
            0u);
  EXPECT_EQ(count_lines_with(csv, "\n"), 1 + 4 * 2 * 5);
  EXPECT_EQ(count_lines_with(csv, ",skipped,\""), 3);  // interleaved M=1 on P=2; M=1,2 on P=4
  EXPECT_NE(csv.find("\ngpipe,2,1,1,6200.000000,0.516129032,0.500000000,1,ok,\n"), std::string::npos) << csv;
}

TEST(PpsimSweep, ChartThroughTheImageRenderer) {
  if (!image_output_available()) GTEST_SKIP() << "built without cairo";
  TempDir dir;
  const CommandResult r = ppsim("sweep -s 4,8 -o " + dir.file("sweep.svg"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const CommandResult lint = test::run_command("xmllint --noout " + dir.file("sweep.svg"));
  EXPECT_EQ(lint.exit_code, 0) << lint.err;
}

TEST(PpsimSweep, BadInputExitsTwoAndWritesNothing) {
  TempDir dir;
  // Without cairo any chart request is itself bad input: ask for one only with cairo.
  const std::string outputs =
      " --csv " + dir.file("s.csv") + (image_output_available() ? " -o " + dir.file("s.svg") : std::string());
  expect_bad_input(ppsim("sweep --schedule 1f1b,pipedream" + outputs), "--schedule");
  expect_bad_input(ppsim("sweep --num-stages 4,0" + outputs), "--num-stages");
  expect_bad_input(ppsim("sweep --num-batches 8,-1" + outputs), "--num-batches");
  expect_bad_input(ppsim("sweep --chunks 1" + outputs), "--chunks");
  // 0 is a count like 1, not "not given" (which means 2).
  expect_bad_input(ppsim("sweep --chunks 0" + outputs), "--chunks: interleaved needs at least 2 chunks");
  expect_bad_input(ppsim("sweep -s 2,4 -f 1,2" + outputs), "--forward-times");
  expect_bad_input(ppsim("sweep -o " + dir.file("s.gif")), "--output");
  expect_bad_input(ppsim("sweep --csv " + dir.file("missing/s.csv")), "--csv");
  // Flags before `sweep` belong to a single simulation: refused, not ignored.
  expect_bad_input(ppsim("-f 2 sweep" + outputs), "--forward-times");
  test::write_text(dir.file("c.yaml"), "num_stages: 2\n");
  expect_bad_input(ppsim("-c " + dir.file("c.yaml") + " sweep" + outputs), "--config");
  EXPECT_FALSE(test::file_exists(dir.file("s.csv")));
  EXPECT_FALSE(test::file_exists(dir.file("s.svg")));
}

}  // namespace
}  // namespace ppb
