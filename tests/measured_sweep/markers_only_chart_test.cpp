// LineSeries::line = false (the measured points of `ppbench sweep`): the
// series' markers are drawn, its connecting line (and legend line) is not.
#include <gtest/gtest.h>

#include "render/image.h"

namespace ppb {
namespace {

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// A series with a stroke width no other part of the chart uses, so that the
// SVG's strokes of that width are the series' own.
std::string svg_with(bool line) {
  LineChart chart;
  chart.title = "t";
  ChartPanel panel;
  panel.series.push_back({"points", 2, false, true, {1, 2, 4}, {0.5, 0.3, 0.2}, 3.25, 1.0, line});
  chart.panels = {panel};
  return draw_line_chart(ImageFormat::Svg, chart);
}

TEST(MarkersOnlySeries, DrawsMarkersWithoutTheLine) {
  if (!image_output_available()) GTEST_SKIP() << "built without cairo";
  const std::string with_line = svg_with(true);
  const std::string markers_only = svg_with(false);
  EXPECT_EQ(count_of(with_line, "stroke-width:3.25"), 2) << "the legend's line and the panel's";
  EXPECT_EQ(count_of(markers_only, "stroke-width:3.25"), 0);
  // The triangles (colour 2) are filled paths in both: legend plus three points.
  EXPECT_EQ(count_of(markers_only, "fill-rule:nonzero;fill:"), count_of(with_line, "fill-rule:nonzero;fill:"));
}

}  // namespace
}  // namespace ppb
