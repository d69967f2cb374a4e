// Frames in every pixel format for the face-crop tests: random planes (any
// byte pattern is a valid frame) with padded strides and odd sizes, optionally
// smoothed so bilinear interpolation differences stay small.
#pragma once
#include <cmath>
#include <random>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "hicomex/face_crops.h"
#include "hicomex/image.h"

namespace hicomex::test {

inline const std::vector<PixelFormat>& all_pixel_formats() {
  static const std::vector<PixelFormat> formats = {
      PixelFormat::RGB,  PixelFormat::BGR,  PixelFormat::RGBA,  PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx,
      PixelFormat::xRGB, PixelFormat::xBGR, PixelFormat::GRAY8, PixelFormat::I420, PixelFormat::NV12};
  return formats;
}

/// A frame that owns its planes; `view` points into them.
struct OwnedFrame {
  std::vector<std::uint8_t> planes[3];
  ImageView view;
  OwnedFrame() = default;
  OwnedFrame(const OwnedFrame&) = delete;
  OwnedFrame& operator=(const OwnedFrame&) = delete;
};

/// Channels per pixel of plane p (0 = plane absent).
inline int plane_channels(PixelFormat f, int p) {
  switch (f) {
    case PixelFormat::I420: return 1;
    case PixelFormat::NV12: return p == 0 ? 1 : (p == 1 ? 2 : 0);
    case PixelFormat::RGB:
    case PixelFormat::BGR: return p == 0 ? 3 : 0;
    case PixelFormat::GRAY8: return p == 0 ? 1 : 0;
    default: return p == 0 ? 4 : 0;
  }
}

/// Random bytes in every plane; each row padded by `pad` bytes. With
/// `smooth_sigma` > 0 each plane is blurred and stretched to 0..255.
inline void fill_frame(OwnedFrame& frame, PixelFormat f, int width, int height, std::mt19937& rng,
                       double smooth_sigma = 0, int pad = 7) {
  frame.view = ImageView{};
  frame.view.width = width;
  frame.view.height = height;
  frame.view.format = f;
  std::uniform_int_distribution<int> byte(0, 255);
  for (int p = 0; p < 3; ++p) {
    const int ch = plane_channels(f, p);
    if (ch == 0) continue;
    const bool chroma = p > 0;
    const int cols = chroma ? (width + 1) / 2 : width, rows = chroma ? (height + 1) / 2 : height;
    const int stride = cols * ch + pad;
    frame.planes[p].resize(static_cast<std::size_t>(stride) * rows);
    for (auto& b : frame.planes[p]) b = static_cast<std::uint8_t>(byte(rng));
    if (smooth_sigma > 0) {
      cv::Mat m(rows, cols, CV_8UC(ch), frame.planes[p].data(), static_cast<std::size_t>(stride));
      cv::Mat blurred;
      cv::GaussianBlur(m, blurred, cv::Size(0, 0), smooth_sigma, smooth_sigma, cv::BORDER_REFLECT);
      cv::normalize(blurred, blurred, 0, 255, cv::NORM_MINMAX);
      blurred.copyTo(m);
    }
    frame.view.data[p] = frame.planes[p].data();
    frame.view.stride[p] = stride;
  }
}

/// A random similarity transform (image -> aligned) that maps a face of
/// roughly `face_px` pixels somewhere in (or partly outside) the frame to
/// the aligned square, rotated by up to +-40 degrees.
inline FaceTransform random_face_transform(int width, int height, int aligned_size, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(0, 1);
  const double face_px = std::max(8.0, std::min(width, height) * (0.2 + 0.9 * unit(rng)));
  const double scale = (aligned_size - 1) / face_px;
  const double angle = (unit(rng) - 0.5) * 2 * 40 * M_PI / 180;
  const double cx = (unit(rng) * 1.2 - 0.1) * width, cy = (unit(rng) * 1.2 - 0.1) * height;
  const double c = scale * std::cos(angle), s = scale * std::sin(angle);
  const double centre_out = (aligned_size - 1) / 2.0;
  const double m[6] = {c, s, centre_out - (c * cx + s * cy), -s, c, centre_out - (-s * cx + c * cy)};
  return FaceTransform::from_row_major(m);
}

}  // namespace hicomex::test
