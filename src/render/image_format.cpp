#include "render/image.h"

namespace ppb {

std::optional<ImageFormat> image_format_for(const std::string& path) {
  const auto ends_with = [&](const char* ext) {
    const std::string e(ext);
    return path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends_with(".svg")) return ImageFormat::Svg;
  if (ends_with(".png")) return ImageFormat::Png;
  if (ends_with(".pdf")) return ImageFormat::Pdf;
  return std::nullopt;
}

}  // namespace ppb
