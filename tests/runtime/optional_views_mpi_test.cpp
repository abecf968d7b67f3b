// The views of a run or sweep directory (trace.json, timeline.txt, gantt.png,
// sweep.png) are optional: one that cannot be drawn is a warning, and the
// measurements are written regardless. PPB_FAIL_VIEWS makes the named views
// fail as a broken renderer would (cairo without fonts, out of memory).
#include <gtest/gtest.h>

#include <string>

#include "mpi_commands.h"
#include "render/image.h"

namespace ppb::test {
namespace {

std::string warning(const std::string& view) {
  return "ppbench: warning: " + view + " left out (PPB_FAIL_VIEWS names it); the measurements are written\n";
}

TEST(PpbenchViews, ARunWhoseViewsCannotBeDrawnStillWritesItsMeasurements) {
  TempDir dir;
  const std::string out = dir.file("run");
  const CommandResult r = run_command("PPB_FAIL_VIEWS=trace.json,timeline.txt,gantt.png " + mpirun(2) +
                                      " --backend cpu -b 4 --iters 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* f : {"measured.json", "predicted.json", "replay.json", "summary.json"}) {
    EXPECT_TRUE(file_exists(out + "/" + f)) << f;
  }
  for (const char* f : {"trace.json", "timeline.txt", "gantt.png"}) EXPECT_FALSE(file_exists(out + "/" + f)) << f;
  EXPECT_NE(r.err.find(warning("trace.json")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(warning("timeline.txt")), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(warning("gantt.png")) != std::string::npos, image_output_available()) << r.err;
  EXPECT_NE(r.out.find("ppbench: wrote " + out), std::string::npos) << r.out;
}

TEST(PpbenchViews, ASweepWhoseChartCannotBeDrawnStillWritesEveryPoint) {
  TempDir dir;
  const std::string out = dir.file("sweep");
  const CommandResult r = run_command("PPB_FAIL_VIEWS=sweep.png,gantt.png " + mpirun(2) +
                                      " sweep --backend cpu --schedule 1f1b -b 2,4 --iters 2 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* f : {"sweep.csv", "sweep.json", "points/1f1b-M2/summary.json", "points/1f1b-M4/trace.json"}) {
    EXPECT_TRUE(file_exists(out + "/" + f)) << f;
  }
  EXPECT_FALSE(file_exists(out + "/sweep.png"));
  EXPECT_EQ(r.err.find(warning("sweep.png")) != std::string::npos, image_output_available()) << r.err;
  // Drawing failed; cairo was there: the console does not blame the build.
  EXPECT_EQ(r.out.find("built without cairo") == std::string::npos, image_output_available()) << r.out;
}

// 120 transfers of 20 ms predicted against 0.1 ms ops all overlap: the trace
// spreads them over more transfer lanes than a timeline's block of thread ids
// and is written, with the rest of the run directory.
TEST(PpbenchViews, ATraceOfMoreOverlappingTransfersThanLanesIsWritten) {
  TempDir dir;
  const std::string out = dir.file("run");
  const CommandResult r = run_command(mpirun(2) + " --backend cpu --schedule gpipe -b 120 -f 0.1 --backward-times 0.1"
                                      " --p2p-time 20 --iters 1 --warmup 0 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  const nlohmann::json trace = load_json(out + "/trace.json");
  int top_tid = 0;
  for (const auto& e : trace["traceEvents"]) top_tid = std::max(top_tid, e["tid"].get<int>());
  EXPECT_GT(top_tid, 200) << "the predicted timeline's lanes go beyond its block";
}

}  // namespace
}  // namespace ppb::test
