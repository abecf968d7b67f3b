// The terminal timeline: golden files for the exact text, and the properties a
// reader relies on (one row per rank, the width honoured, labels, colours only
// when asked, NO_COLOR).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <sstream>
#include <vector>

#include "render/ascii.h"
#include "render/metrics_table.h"
#include "render/render_fixtures.h"
#include "support/golden.h"

namespace ppb {
namespace {

using test::expect_golden;
using test::fake_measured;
using test::simulated;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

AsciiOptions plain(int width) {
  AsciiOptions o;
  o.width = width;
  return o;
}

TEST(AsciiGolden, OneFOneBFourStagesEightMicrobatches) {
  expect_golden("ascii_1f1b_p4_m8.txt", render_ascii(simulated("1f1b", 4, 8), plain(120)));
}

TEST(AsciiGolden, InterleavedShowsChunkStages) {
  expect_golden("ascii_interleaved_p4_m8.txt", render_ascii(simulated("interleaved", 4, 8), plain(140)));
}

TEST(AsciiGolden, ZeroBubbleWithOptimizerAndTransfers) {
  CostInputs costs;
  costs.p2p_time_ms = 0.25;
  costs.optimizer_ms = 1.5;
  expect_golden("ascii_zb_h1_p4_m8.txt", render_ascii(simulated("zb-h1", 4, 8, costs), plain(120)));
}

TEST(AsciiGolden, MeasuredAndPredictedInterleavePerRank) {
  const Timeline predicted = simulated("1f1b", 3, 4);
  const Timeline measured = fake_measured(predicted);
  expect_golden("ascii_measured_predicted_1f1b_p3_m4.txt", render_ascii(&measured, &predicted, plain(110)));
}

TEST(AsciiRender, EveryRowIsOneRankAtTheRequestedWidth) {
  for (int width : {40, 80, 200}) {
    const std::string text = render_ascii(simulated("gpipe", 4, 8), plain(width));
    int rows = 0;
    for (const std::string& line : lines_of(text)) {
      if (line.rfind("GPU ", 0) != 0) continue;
      ++rows;
      EXPECT_EQ(static_cast<int>(line.size()), width) << line;
      EXPECT_EQ(line.back(), '|');
    }
    EXPECT_EQ(rows, 4) << text;
  }
}

TEST(AsciiRender, WideEnoughEveryOpIsLabelled) {
  const Timeline t = simulated("1f1b", 2, 3);
  const std::vector<std::string> lines = lines_of(render_ascii(t, plain(300)));
  for (int r = 0; r < 2; ++r) {
    const std::string& row = lines[static_cast<std::size_t>(1 + r)];
    for (int m = 0; m < 3; ++m) {
      EXPECT_NE(row.find("F" + std::to_string(m)), std::string::npos) << row;
      EXPECT_NE(row.find("B" + std::to_string(m)), std::string::npos) << row;
    }
  }
}

TEST(AsciiRender, IdleIsDotsAndTheLastRankWaitsForTheFirstForward) {
  // 1F1B, P=4, M=4, F=1 ms, B=2 ms: makespan (M+P-1)*3 = 21 ms. A 39-column line
  // leaves 21 columns after the 15-character label and " |...|": 1 ms each.
  const std::vector<std::string> lines = lines_of(render_ascii(simulated("1f1b", 4, 4), plain(39)));
  const auto row = [&](int r) {
    const std::string& line = lines[static_cast<std::size_t>(1 + r)];
    return line.substr(line.find('|') + 1, 21);
  };
  EXPECT_EQ(row(0).substr(0, 4), "FFFF");      // four forwards back to back
  EXPECT_EQ(row(3).substr(0, 4), "...F");      // idle for three forward times
  EXPECT_EQ(row(3).substr(4, 3), "B0F");       // then F0 backward (2 ms), F1 at once
  EXPECT_EQ(row(0).substr(4, 6), "......");    // rank 0 waits for B0 to come back
}

TEST(AsciiRender, AxisCarriesTheUnitAndMetricsFollow) {
  const std::string text = render_ascii(simulated("1f1b", 4, 8), plain(100));
  EXPECT_NE(text.find("  ms\n"), std::string::npos) << text;
  EXPECT_NE(text.find("makespan 33.000 ms | bubble 27.27 % | analytic 27.27 % ((P-1)/(M+P-1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("peak activations 4 3 2 1"), std::string::npos) << text;
  AsciiOptions bare = plain(100);
  bare.metrics = false;
  bare.title = false;
  const std::string without = render_ascii(simulated("1f1b", 4, 8), bare);
  EXPECT_EQ(without.find("makespan"), std::string::npos);
  EXPECT_EQ(without.rfind("GPU 0", 0), 0u);
}

TEST(AsciiRender, ColoursOnlyWhenAsked) {
  const Timeline t = simulated("zb-h1", 2, 2);
  AsciiOptions o = plain(100);
  EXPECT_EQ(render_ascii(t, o).find('\033'), std::string::npos);
  o.color = true;
  const std::string coloured = render_ascii(t, o);
  EXPECT_NE(coloured.find("\033[34m"), std::string::npos);  // forward: blue
  EXPECT_NE(coloured.find("\033[32m"), std::string::npos);  // backward: green
  EXPECT_NE(coloured.find("\033[33m"), std::string::npos);  // weight gradient: yellow
}

TEST(AsciiRender, ColourWantedOnlyOnATerminalWithoutNoColor) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const int tty = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(tty, 0);
  ASSERT_EQ(::grantpt(tty), 0);
  ASSERT_EQ(::unlockpt(tty), 0);
  const int terminal = ::open(::ptsname(tty), O_RDWR | O_NOCTTY);
  ASSERT_GE(terminal, 0);

  ::unsetenv("NO_COLOR");
  EXPECT_FALSE(ascii_color_wanted(pipe_fds[1]));
  EXPECT_TRUE(ascii_color_wanted(terminal));
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(ascii_color_wanted(terminal));
  ::setenv("NO_COLOR", "", 1);  // an empty NO_COLOR does not count (no-color.org)
  EXPECT_TRUE(ascii_color_wanted(terminal));
  ::unsetenv("NO_COLOR");
  for (int fd : {pipe_fds[0], pipe_fds[1], tty, terminal}) ::close(fd);
}

TEST(AsciiRender, MeasuredRowsPrecedePredictedRowsOfTheSameRank) {
  const Timeline predicted = simulated("gpipe", 2, 2);
  const Timeline measured = fake_measured(predicted);
  std::vector<std::string> labels;
  for (const std::string& line : lines_of(render_ascii(&measured, &predicted, plain(100)))) {
    if (line.rfind("GPU ", 0) == 0) labels.push_back(line.substr(0, line.find(" |")));
  }
  ASSERT_EQ(labels.size(), 4u);
  EXPECT_EQ(labels[0], "GPU 0 (stage 0) measured ");
  EXPECT_EQ(labels[1], "GPU 0 (stage 0) predicted");
  EXPECT_EQ(labels[2], "GPU 1 (stage 1) measured ");
  EXPECT_EQ(labels[3], "GPU 1 (stage 1) predicted");
}

// Durations keep their significant digits at every scale: milliseconds from
// 1 ms, tenths of a microsecond below, thousandths below 1 us (a makespan of
// nanoseconds must not read "0.0 us").
TEST(DurationFormat, KeepsSignificantDigitsAtEveryScale) {
  EXPECT_EQ(format_duration(33000), "33.000 ms");
  EXPECT_EQ(format_duration(0), "0.000 ms");
  EXPECT_EQ(format_duration(250), "250.0 us");
  EXPECT_EQ(format_duration(0.005), "0.005 us");
  EXPECT_EQ(format_duration(-0.25), "-0.250 us");
  EXPECT_EQ(format_duration(-5), "-5.0 us");
}

}  // namespace
}  // namespace ppb
