// Pixel format names and packed views (hicomex/image.h).
#include "hicomex/image.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace hicomex {
namespace {

struct FormatName {
  PixelFormat format;
  const char* name;  // exactly as GstVideoFormat spells it
};

constexpr FormatName kFormatNames[] = {
    {PixelFormat::RGB, "RGB"},   {PixelFormat::BGR, "BGR"},   {PixelFormat::RGBA, "RGBA"},
    {PixelFormat::BGRA, "BGRA"}, {PixelFormat::RGBx, "RGBx"}, {PixelFormat::BGRx, "BGRx"},
    {PixelFormat::xRGB, "xRGB"}, {PixelFormat::xBGR, "xBGR"}, {PixelFormat::GRAY8, "GRAY8"},
    {PixelFormat::I420, "I420"}, {PixelFormat::NV12, "NV12"},
};

bool equal_ignoring_case(const std::string& a, const char* b) {
  std::size_t i = 0;
  for (; i < a.size() && b[i] != '\0'; ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return i == a.size() && b[i] == '\0';
}

// Bytes per pixel of plane 0 (the luma plane for the YUV formats).
int bytes_per_pixel(PixelFormat f) {
  switch (f) {
    case PixelFormat::RGB:
    case PixelFormat::BGR: return 3;
    case PixelFormat::RGBA:
    case PixelFormat::BGRA:
    case PixelFormat::RGBx:
    case PixelFormat::BGRx:
    case PixelFormat::xRGB:
    case PixelFormat::xBGR: return 4;
    case PixelFormat::GRAY8:
    case PixelFormat::I420:
    case PixelFormat::NV12: return 1;
  }
  return 1;
}

}  // namespace

PixelFormat pixel_format_from_string(const std::string& name) {
  for (const auto& entry : kFormatNames)
    if (equal_ignoring_case(name, entry.name)) return entry.format;
  std::string known;
  for (const auto& entry : kFormatNames) known += std::string(known.empty() ? "" : ", ") + entry.name;
  throw std::invalid_argument("unknown pixel format '" + name + "' (known: " + known + ")");
}

const char* to_string(PixelFormat f) {
  for (const auto& entry : kFormatNames)
    if (entry.format == f) return entry.name;
  return "unknown";
}

int plane_count(PixelFormat f) {
  switch (f) {
    case PixelFormat::I420: return 3;
    case PixelFormat::NV12: return 2;
    default: return 1;
  }
}

// For the YUV formats the chroma planes follow the luma plane back to back, with
// half the luma stride (I420) or the luma stride (NV12): the layout of a plain
// .yuv file and of cv::cvtColor(..., COLOR_RGB2YUV_I420), so a file or an OpenCV
// buffer can be viewed without setting three pointers by hand.
ImageView ImageView::packed(const std::uint8_t* pixels, int width, int height, PixelFormat format, int stride) {
  ImageView v;
  v.width = width;
  v.height = height;
  v.format = format;
  v.data[0] = pixels;
  v.stride[0] = stride > 0 ? stride : width * bytes_per_pixel(format);
  const int chroma_rows = (height + 1) / 2;
  if (format == PixelFormat::I420) {
    v.stride[1] = v.stride[2] = (v.stride[0] + 1) / 2;
    if (pixels != nullptr) {
      v.data[1] = pixels + static_cast<std::size_t>(v.stride[0]) * std::max(height, 0);
      v.data[2] = v.data[1] + static_cast<std::size_t>(v.stride[1]) * std::max(chroma_rows, 0);
    }
  } else if (format == PixelFormat::NV12) {
    v.stride[1] = v.stride[0] + (v.stride[0] % 2);
    if (pixels != nullptr) v.data[1] = pixels + static_cast<std::size_t>(v.stride[0]) * std::max(height, 0);
  }
  return v;
}

}  // namespace hicomex
