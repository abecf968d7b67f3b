// The cairo pictures: every format is a well-formed file of its kind (SVG
// parsed by libxml2's xmllint), sizes follow the content, and without cairo
// every request is refused as bad input.
#include <gtest/gtest.h>

#include <cstdint>

#include "core/errors.h"
#include "render/image.h"
#include "render/render_fixtures.h"
#include "support/run_command.h"

namespace ppb {
namespace {

using test::fake_measured;
using test::simulated;

struct PngSize {
  std::uint32_t width = 0, height = 0;
};

PngSize png_size(const std::string& bytes) {
  // Signature, then the IHDR chunk: length, "IHDR", width, height (big endian).
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

void expect_well_formed_svg(const std::string& svg) {
  test::TempDir dir;
  const std::string path = dir.file("chart.svg");
  test::write_text(path, svg);
  const test::CommandResult r = test::run_command("xmllint --noout '" + path + "'");
  EXPECT_EQ(r.exit_code, 0) << "xmllint (libxml2-utils) rejected the SVG or is missing:\n" << r.err;
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
}

LineChart small_chart() {
  LineChart c;
  c.title = "bubble";
  c.x_label = "M";
  c.y_label = "bubble fraction";
  ChartPanel p;
  p.title = "P = 4";
  p.series.push_back({"1f1b", 1, false, true, {1, 2, 4, 8}, {0.75, 0.6, 0.43, 0.27}, 2.0, 1.0});
  p.series.push_back({"analytic", 6, true, false, {1, 2, 4, 8}, {0.75, 0.6, 0.43, 0.27}, 2.0, 1.0});
  c.panels = {p, p};
  return c;
}

class ImageRender : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!image_output_available()) GTEST_SKIP() << "built without cairo";
  }
};

TEST(ImageFormat, ChosenByExtension) {
  EXPECT_EQ(image_format_for("a/b.svg"), ImageFormat::Svg);
  EXPECT_EQ(image_format_for("b.png"), ImageFormat::Png);
  EXPECT_EQ(image_format_for("b.pdf"), ImageFormat::Pdf);
  EXPECT_FALSE(image_format_for("b.txt").has_value());
  EXPECT_FALSE(image_format_for(".svg.json").has_value());
  EXPECT_FALSE(image_format_for("svg").has_value());
}

TEST(ImageUnavailable, EveryRequestIsBadInputWithoutCairo) {
  if (image_output_available()) GTEST_SKIP() << "built with cairo";
  const Timeline t = simulated("1f1b", 2, 2);
  EXPECT_THROW(draw_gantt(ImageFormat::Svg, nullptr, &t, {}), InputError);
  EXPECT_THROW(draw_line_chart(ImageFormat::Png, small_chart()), InputError);
}

TEST_F(ImageRender, GanttSvgIsWellFormedForEverySchedule) {
  for (const char* schedule : {"gpipe", "1f1b", "interleaved", "zb-h1"}) {
    SCOPED_TRACE(schedule);
    const Timeline t = simulated(schedule, 4, 8);
    GanttOptions with_arrows;
    with_arrows.transfers = true;
    expect_well_formed_svg(draw_gantt(ImageFormat::Svg, nullptr, &t, with_arrows));
  }
}

TEST_F(ImageRender, GanttPngAndPdfAreFilesOfTheirKind) {
  const Timeline t = simulated("1f1b", 4, 8);
  const PngSize size = png_size(draw_gantt(ImageFormat::Png, nullptr, &t, {}));
  EXPECT_GE(size.width, 900u);
  EXPECT_GT(size.height, 4u * 20u);
  const std::string pdf = draw_gantt(ImageFormat::Pdf, nullptr, &t, {});
  EXPECT_EQ(pdf.substr(0, 5), "%PDF-");
  EXPECT_NE(pdf.find("%%EOF"), std::string::npos);
}

TEST_F(ImageRender, GanttGrowsWithRanksAndWithASecondTimeline) {
  const Timeline small = simulated("1f1b", 4, 8);
  const Timeline big = simulated("1f1b", 16, 64);
  const Timeline measured = fake_measured(small);
  const PngSize s = png_size(draw_gantt(ImageFormat::Png, nullptr, &small, {}));
  const PngSize b = png_size(draw_gantt(ImageFormat::Png, nullptr, &big, {}));
  const PngSize both = png_size(draw_gantt(ImageFormat::Png, &measured, &small, {}));
  EXPECT_GT(b.height, s.height + 12u * 20u);  // 12 more ranks, a row each
  EXPECT_GT(b.width, s.width);                // 64 microbatches need room for their labels
  EXPECT_LE(b.width, 4000u);                  // but the chart stays viewable
  EXPECT_GT(both.height, s.height + 4u * 10u);  // a measured row beside each predicted one
}

TEST_F(ImageRender, LineChartInEveryFormat) {
  expect_well_formed_svg(draw_line_chart(ImageFormat::Svg, small_chart()));
  const PngSize size = png_size(draw_line_chart(ImageFormat::Png, small_chart()));
  EXPECT_GT(size.width, 2u * 400u);  // two panels side by side
  EXPECT_EQ(draw_line_chart(ImageFormat::Pdf, small_chart()).substr(0, 5), "%PDF-");
}

TEST_F(ImageRender, RenderWritesTheFileAndRefusesOtherExtensions) {
  test::TempDir dir;
  const Timeline t = simulated("gpipe", 2, 2);
  render_gantt(dir.file("g.svg"), nullptr, &t, {});
  expect_well_formed_svg(test::read_text(dir.file("g.svg")));
  EXPECT_THROW(render_gantt(dir.file("g.gif"), nullptr, &t, {}), InputError);
  EXPECT_FALSE(test::file_exists(dir.file("g.gif")));
}

}  // namespace
}  // namespace ppb
