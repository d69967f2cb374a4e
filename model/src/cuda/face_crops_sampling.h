// Per-pixel arithmetic of the face-crop operation (hicomex/face_crops.h), shared
// by the CPU reference and the CUDA kernel so the two cannot drift apart. Plain
// C++ that nvcc compiles for host and device; no std library calls on the
// device path. The kernel is compiled with --fmad=false so the float operations
// happen in the same order, unfused, on both sides.
#pragma once
#include <cstdint>

#include "hicomex/image.h"

#if defined(__CUDACC__)
#define HICOMEX_HD __host__ __device__ __forceinline__
#else
#define HICOMEX_HD inline
#endif

namespace hicomex {
namespace detail {

/// An ImageView reduced to what the sampler reads (trivially copyable, so it
/// can be a kernel parameter). Pointers are host or device memory.
struct FramePlanes {
  const std::uint8_t* plane[3];
  int stride[3];
  int width;
  int height;
  PixelFormat format;
};

/// Crop pixel (u, v) -> source position (x, y) = (m0 u + m1 v + m2, m3 u + m4 v + m5):
/// the inverse of the image -> aligned transform with the crop offset folded in.
struct CropMap {
  float m[6];
};

constexpr float kBorderGrey = 128.f;

HICOMEX_HD int clamp_u8(int v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }

/// BT.601 limited range YUV -> RGB in OpenCV's 20-bit fixed point
/// (imgproc color_yuv: ITUR_BT_601_*), so the colours equal image_to_rgb's.
HICOMEX_HD void yuv_to_rgb(int y, int u, int v, float rgb[3]) {
  const int kShift = 20, kCY = 1220542, kCUB = 2116026, kCUG = -409993, kCVG = -852492, kCVR = 1673527;
  const int half = 1 << (kShift - 1);
  const int uu = u - 128, vv = v - 128;
  const int yy = (y > 16 ? y - 16 : 0) * kCY;
  rgb[0] = static_cast<float>(clamp_u8((yy + half + kCVR * vv) >> kShift));
  rgb[1] = static_cast<float>(clamp_u8((yy + half + kCVG * vv + kCUG * uu) >> kShift));
  rgb[2] = static_cast<float>(clamp_u8((yy + half + kCUB * uu) >> kShift));
}

/// RGB of pixel (x, y), which must lie inside the frame. Chroma is taken from
/// the 2x2 block's sample (nearest), as OpenCV's 4:2:0 conversion does.
HICOMEX_HD void fetch_rgb(const FramePlanes& f, int x, int y, float rgb[3]) {
  const std::uint8_t* row = f.plane[0] + static_cast<long long>(y) * f.stride[0];
  // Byte offsets of R, G, B within a packed pixel.
  int bpp = 4, r = 0, g = 1, b = 2;
  switch (f.format) {
    case PixelFormat::RGB: bpp = 3; break;
    case PixelFormat::BGR:
      bpp = 3;
      r = 2;
      b = 0;
      break;
    case PixelFormat::RGBA:
    case PixelFormat::RGBx: break;
    case PixelFormat::BGRA:
    case PixelFormat::BGRx:
      r = 2;
      b = 0;
      break;
    case PixelFormat::xRGB:
      r = 1;
      g = 2;
      b = 3;
      break;
    case PixelFormat::xBGR:
      r = 3;
      g = 2;
      b = 1;
      break;
    case PixelFormat::GRAY8: rgb[0] = rgb[1] = rgb[2] = static_cast<float>(row[x]); return;
    case PixelFormat::I420: {
      const long long cy = y / 2;
      const int cx = x / 2;
      yuv_to_rgb(row[x], f.plane[1][cy * f.stride[1] + cx], f.plane[2][cy * f.stride[2] + cx], rgb);
      return;
    }
    case PixelFormat::NV12: {
      const std::uint8_t* uv = f.plane[1] + static_cast<long long>(y / 2) * f.stride[1] + (x / 2) * 2;
      yuv_to_rgb(row[x], uv[0], uv[1], rgb);
      return;
    }
  }
  const std::uint8_t* p = row + x * bpp;
  rgb[0] = p[r];
  rgb[1] = p[g];
  rgb[2] = p[b];
}

/// Bilinear sample at (sx, sy); taps outside the frame read the border grey,
/// as cv::warpAffine with BORDER_CONSTANT does.
HICOMEX_HD void sample_bilinear(const FramePlanes& f, float sx, float sy, float rgb[3]) {
  // Float floor without <cmath> on the device: truncate, then step down for negatives.
  int x0 = static_cast<int>(sx);
  if (static_cast<float>(x0) > sx) --x0;
  int y0 = static_cast<int>(sy);
  if (static_cast<float>(y0) > sy) --y0;
  const float fx = sx - static_cast<float>(x0), fy = sy - static_cast<float>(y0);
  float tap[4][3];
  for (int k = 0; k < 4; ++k) {
    const int x = x0 + (k & 1), y = y0 + (k >> 1);
    if (x >= 0 && y >= 0 && x < f.width && y < f.height) {
      fetch_rgb(f, x, y, tap[k]);
    } else {
      tap[k][0] = tap[k][1] = tap[k][2] = kBorderGrey;
    }
  }
  for (int c = 0; c < 3; ++c) {
    const float top = (1.f - fx) * tap[0][c] + fx * tap[1][c];
    const float bottom = (1.f - fx) * tap[2][c] + fx * tap[3][c];
    rgb[c] = (1.f - fy) * top + fy * bottom;
  }
}

/// Rounds to the 8-bit value the aligned image would hold, then normalises as
/// normalise_rgb_to_chw does: v * (2 / 255) - 1.
HICOMEX_HD float normalise_channel(float v) {
  const int q = clamp_u8(static_cast<int>(v + 0.5f));  // v >= 0: truncation is floor
  return static_cast<float>(q) * (2.f / 255.f) - 1.f;
}

/// Writes crop pixel (u, v) of one face: three floats, one per CHW plane.
HICOMEX_HD void crop_pixel(const FramePlanes& f, const CropMap& map, int u, int v, int crop_size, float* face_out) {
  const float fu = static_cast<float>(u), fv = static_cast<float>(v);
  const float sx = map.m[0] * fu + map.m[1] * fv + map.m[2];
  const float sy = map.m[3] * fu + map.m[4] * fv + map.m[5];
  float rgb[3];
  // Far outside (or NaN-free but huge) positions: all four taps are border.
  if (!(sx > -2.f && sy > -2.f && sx < static_cast<float>(f.width) + 1.f && sy < static_cast<float>(f.height) + 1.f)) {
    rgb[0] = rgb[1] = rgb[2] = kBorderGrey;
  } else {
    sample_bilinear(f, sx, sy, rgb);
  }
  const long long plane = static_cast<long long>(crop_size) * crop_size;
  const long long at = static_cast<long long>(v) * crop_size + u;
  for (int c = 0; c < 3; ++c) face_out[c * plane + at] = normalise_channel(rgb[c]);
}

}  // namespace detail
}  // namespace hicomex
