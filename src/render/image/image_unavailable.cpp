// Image output when ppbench was built without cairo: the API stays, and every
// request for a picture is refused with one line that says how to get one.
#include "core/errors.h"
#include "render/image.h"

namespace ppb {
namespace {
[[noreturn]] void refuse(const std::string& flag, const std::string& what) {
  PPB_THROW(InputError, flag, ": cannot write ", what,
            ": this ppsim was built without cairo (install libcairo2-dev and reconfigure; .txt and .json work)");
}
}  // namespace

bool image_output_available() { return false; }

std::string draw_gantt(ImageFormat, const Timeline*, const Timeline*, const GanttOptions& options) {
  refuse(options.flag, "an image");
}
void render_gantt(const std::string& path, const Timeline*, const Timeline*, const GanttOptions& options) {
  refuse(options.flag, "'" + path + "'");
}
std::string draw_line_chart(ImageFormat, const LineChart& chart) { refuse(chart.flag, "an image"); }
void render_line_chart(const std::string& path, const LineChart& chart) { refuse(chart.flag, "'" + path + "'"); }

}  // namespace ppb
