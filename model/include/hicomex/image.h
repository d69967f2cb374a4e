// Non-owning views of video frames, as they arrive from GStreamer or files.
#pragma once
#include <cstdint>
#include <string>

namespace hicomex {

/// Pixel layouts the analyzer accepts (names as in GstVideoFormat).
enum class PixelFormat { RGB, BGR, RGBA, BGRA, RGBx, BGRx, xRGB, xBGR, GRAY8, I420, NV12 };

/// Parses "RGB", "nv12", ... ; throws std::invalid_argument naming the value.
PixelFormat pixel_format_from_string(const std::string& name);
const char* to_string(PixelFormat f);
/// Number of planes of the format (1 for packed, 3 for I420, 2 for NV12).
int plane_count(PixelFormat f);

/// A frame the caller owns. Planes and strides follow GstVideoFrame:
/// packed formats use plane 0 only; I420 = Y, U, V; NV12 = Y, UV.
struct ImageView {
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::RGB;
  const std::uint8_t* data[3] = {nullptr, nullptr, nullptr};
  int stride[3] = {0, 0, 0};

  /// A tightly packed single-plane view (stride = width * bytes per pixel).
  static ImageView packed(const std::uint8_t* pixels, int width, int height, PixelFormat format, int stride = 0);
};

}  // namespace hicomex
