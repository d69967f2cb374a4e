// Pixel format names and frame conversion to RGB.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "hicomex/image.h"
#include "hicomex/image_convert.h"

namespace hicomex {
namespace {

// One row per pixel layout (not clang-formatted).
// clang-format off
const PixelFormat kAllFormats[] = {PixelFormat::RGB,  PixelFormat::BGR,  PixelFormat::RGBA,
                                   PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx,
                                   PixelFormat::xRGB, PixelFormat::xBGR, PixelFormat::GRAY8,
                                   PixelFormat::I420, PixelFormat::NV12};
// clang-format on

// A colourful picture whose colour is constant over 2x2 blocks and stays in
// mid range, so 4:2:0 subsampling and the limited YUV range lose nothing but
// rounding.
cv::Mat test_picture(int width, int height) {
  cv::Mat rgb(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int bx = x / 2, by = y / 2;
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<std::uint8_t>(40 + (bx * 37 + by * 11) % 170),
                                          static_cast<std::uint8_t>(40 + (bx * 13 + by * 29) % 170),
                                          static_cast<std::uint8_t>(40 + (bx * 53 + by * 7) % 170));
    }
  return rgb;
}

int max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  double mx = 0;
  cv::minMaxLoc(d.reshape(1), nullptr, &mx);
  return static_cast<int>(mx);
}

// Writes `rgb` in a packed format, byte by byte, into rows of `stride` bytes;
// the padding holds garbage so a converter that ignores the stride shows it.
std::vector<std::uint8_t> pack(const cv::Mat& rgb, PixelFormat f, int stride) {
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(stride) * rgb.rows, 0xEE);
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x) {
      const cv::Vec3b c = rgb.at<cv::Vec3b>(y, x);
      const std::uint8_t r = c[0], g = c[1], b = c[2], a = 0x5A;
      std::uint8_t* p = buf.data() + static_cast<std::size_t>(y) * stride;
      // One line per pixel layout (not clang-formatted).
      // clang-format off
      switch (f) {
        case PixelFormat::RGB: p += 3 * x; p[0] = r; p[1] = g; p[2] = b; break;
        case PixelFormat::BGR: p += 3 * x; p[0] = b; p[1] = g; p[2] = r; break;
        case PixelFormat::RGBA:
        case PixelFormat::RGBx: p += 4 * x; p[0] = r; p[1] = g; p[2] = b; p[3] = a; break;
        case PixelFormat::BGRA:
        case PixelFormat::BGRx: p += 4 * x; p[0] = b; p[1] = g; p[2] = r; p[3] = a; break;
        case PixelFormat::xRGB: p += 4 * x; p[0] = a; p[1] = r; p[2] = g; p[3] = b; break;
        case PixelFormat::xBGR: p += 4 * x; p[0] = a; p[1] = b; p[2] = g; p[3] = r; break;
        default: ADD_FAILURE() << "not a packed colour format";
          // clang-format on
      }
    }
  return buf;
}

// An I420 or NV12 frame of `rgb` with padded strides and the planes stored
// out of order (chroma before luma), as a GstVideoFrame may lay them out.
struct YuvFrame {
  std::vector<std::uint8_t> memory;
  ImageView view;
};

YuvFrame make_yuv(const cv::Mat& rgb_even, PixelFormat f, int width, int height) {
  cv::Mat i420;
  cv::cvtColor(rgb_even, i420, cv::COLOR_RGB2YUV_I420);  // BT.601 limited range
  const int W = rgb_even.cols, H = rgb_even.rows, cw = W / 2, ch = H / 2;
  const std::uint8_t* y_src = i420.data;
  const std::uint8_t* u_src = y_src + W * H;
  const std::uint8_t* v_src = u_src + cw * ch;

  YuvFrame fr;
  const int y_stride = W + 9, c_stride = (f == PixelFormat::I420 ? cw : 2 * cw) + 5;
  const std::size_t c_size = static_cast<std::size_t>(c_stride) * ch;
  fr.memory.assign(2 * c_size + static_cast<std::size_t>(y_stride) * H + 64, 0xEE);
  std::uint8_t* base = fr.memory.data();
  std::uint8_t* c1 = base + 7;         // first chroma plane
  std::uint8_t* c2 = c1 + c_size;      // second chroma plane (I420 only)
  std::uint8_t* yp = c2 + c_size + 3;  // luma last
  for (int y = 0; y < H; ++y) std::memcpy(yp + y * y_stride, y_src + y * W, W);
  for (int y = 0; y < ch; ++y)
    for (int x = 0; x < cw; ++x) {
      const std::uint8_t u = u_src[y * cw + x], v = v_src[y * cw + x];
      if (f == PixelFormat::I420) {
        c2[y * c_stride + x] = u;  // V plane before the U plane in memory
        c1[y * c_stride + x] = v;
      } else {
        c1[y * c_stride + 2 * x] = u;
        c1[y * c_stride + 2 * x + 1] = v;
      }
    }
  fr.view.width = width;
  fr.view.height = height;
  fr.view.format = f;
  fr.view.data[0] = yp;
  fr.view.stride[0] = y_stride;
  if (f == PixelFormat::I420) {
    fr.view.data[1] = c2;
    fr.view.data[2] = c1;
    fr.view.stride[1] = fr.view.stride[2] = c_stride;
  } else {
    fr.view.data[1] = c1;
    fr.view.stride[1] = c_stride;
  }
  return fr;
}

TEST(PixelFormat, NamesRoundTripThroughStrings) {
  for (PixelFormat f : kAllFormats) EXPECT_EQ(pixel_format_from_string(to_string(f)), f);
}

TEST(PixelFormat, NamesAreParsedIgnoringCase) {
  EXPECT_EQ(pixel_format_from_string("nv12"), PixelFormat::NV12);
  EXPECT_EQ(pixel_format_from_string("rgbx"), PixelFormat::RGBx);
  EXPECT_EQ(pixel_format_from_string("XBGR"), PixelFormat::xBGR);
  EXPECT_STREQ(to_string(PixelFormat::xRGB), "xRGB");
}

TEST(PixelFormat, UnknownNameFailsNamingIt) {
  try {
    pixel_format_from_string("YUY2");
    FAIL() << "YUY2 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("YUY2"), std::string::npos) << e.what();
  }
}

TEST(PixelFormat, PlaneCountsFollowGStreamer) {
  EXPECT_EQ(plane_count(PixelFormat::RGB), 1);
  EXPECT_EQ(plane_count(PixelFormat::xBGR), 1);
  EXPECT_EQ(plane_count(PixelFormat::GRAY8), 1);
  EXPECT_EQ(plane_count(PixelFormat::I420), 3);
  EXPECT_EQ(plane_count(PixelFormat::NV12), 2);
}

TEST(ImageToRgb, EveryPackedFormatWithPaddedStrideGivesTheSameRgb) {
  const cv::Mat rgb = test_picture(37, 21);
  for (PixelFormat f : kAllFormats) {
    if (f == PixelFormat::GRAY8 || f == PixelFormat::I420 || f == PixelFormat::NV12) continue;
    const int bpp = (f == PixelFormat::RGB || f == PixelFormat::BGR) ? 3 : 4;
    const int stride = rgb.cols * bpp + 13;
    const std::vector<std::uint8_t> buf = pack(rgb, f, stride);
    cv::Mat scratch;
    const cv::Mat out = image_to_rgb(ImageView::packed(buf.data(), rgb.cols, rgb.rows, f, stride), scratch);
    ASSERT_EQ(out.type(), CV_8UC3) << to_string(f);
    ASSERT_EQ(out.size(), rgb.size()) << to_string(f);
    EXPECT_EQ(max_abs_diff(out, rgb), 0) << to_string(f);
  }
}

TEST(ImageToRgb, YuvFormatsWithPlanesAnywhereMatchTheRgbWithinRounding) {
  const cv::Mat rgb = test_picture(64, 48);
  for (PixelFormat f : {PixelFormat::I420, PixelFormat::NV12}) {
    const YuvFrame fr = make_yuv(rgb, f, rgb.cols, rgb.rows);
    cv::Mat scratch;
    const cv::Mat out = image_to_rgb(fr.view, scratch);
    ASSERT_EQ(out.size(), rgb.size()) << to_string(f);
    EXPECT_LE(max_abs_diff(out, rgb), 3) << to_string(f);
  }
}

TEST(ImageToRgb, YuvFormatsWithOddSizesCoverTheLastRowAndColumn) {
  const cv::Mat rgb = test_picture(34, 26);
  const cv::Mat expected = rgb(cv::Rect(0, 0, 33, 25));
  for (PixelFormat f : {PixelFormat::I420, PixelFormat::NV12}) {
    const YuvFrame fr = make_yuv(rgb, f, 33, 25);
    cv::Mat scratch;
    const cv::Mat out = image_to_rgb(fr.view, scratch);
    ASSERT_EQ(out.size(), expected.size()) << to_string(f);
    EXPECT_LE(max_abs_diff(out, expected), 3) << to_string(f);
  }
}

TEST(ImageToRgb, TightYuvBuffersFromOpenCvAreReadThroughPackedViews) {
  const cv::Mat rgb = test_picture(40, 30);
  cv::Mat i420;
  cv::cvtColor(rgb, i420, cv::COLOR_RGB2YUV_I420);
  cv::Mat scratch;
  const cv::Mat out = image_to_rgb(ImageView::packed(i420.data, 40, 30, PixelFormat::I420), scratch);
  EXPECT_LE(max_abs_diff(out, rgb), 3);
}

TEST(ImageToRgb, GrayIsCopiedToAllThreeChannels) {
  cv::Mat gray(9, 11, CV_8UC1);
  cv::randu(gray, 0, 256);
  cv::Mat scratch;
  const cv::Mat out = image_to_rgb(ImageView::packed(gray.data, gray.cols, gray.rows, PixelFormat::GRAY8), scratch);
  std::vector<cv::Mat> ch;
  cv::split(out, ch);
  ASSERT_EQ(ch.size(), 3u);
  for (const cv::Mat& c : ch) EXPECT_EQ(max_abs_diff(c, gray), 0);
}

TEST(ImageToRgb, RgbFramesAreWrappedWithoutCopying) {
  const cv::Mat rgb = test_picture(20, 10);
  const int stride = 20 * 3 + 4;
  const std::vector<std::uint8_t> buf = pack(rgb, PixelFormat::RGB, stride);
  cv::Mat scratch;
  const cv::Mat out = image_to_rgb(ImageView::packed(buf.data(), 20, 10, PixelFormat::RGB, stride), scratch);
  EXPECT_EQ(out.data, buf.data());
  EXPECT_EQ(out.step[0], static_cast<std::size_t>(stride));
  EXPECT_TRUE(scratch.empty());
  EXPECT_EQ(max_abs_diff(out, rgb), 0);
}

TEST(ImageToRgb, ScratchIsReusedFromFrameToFrame) {
  const cv::Mat rgb = test_picture(32, 16);
  for (PixelFormat f : {PixelFormat::BGR, PixelFormat::xRGB, PixelFormat::NV12, PixelFormat::I420}) {
    cv::Mat scratch;
    const std::uint8_t* first = nullptr;
    for (int frame = 0; frame < 3; ++frame) {
      cv::Mat out;
      if (f == PixelFormat::NV12 || f == PixelFormat::I420) {
        const YuvFrame fr = make_yuv(rgb, f, rgb.cols, rgb.rows);
        out = image_to_rgb(fr.view, scratch);
      } else {
        const std::vector<std::uint8_t> buf = pack(rgb, f, rgb.cols * 4);
        out = image_to_rgb(ImageView::packed(buf.data(), rgb.cols, rgb.rows, f, rgb.cols * 4), scratch);
      }
      EXPECT_EQ(out.data, scratch.data) << to_string(f);
      if (frame == 0) first = scratch.data;
      EXPECT_EQ(scratch.data, first) << to_string(f) << " frame " << frame;
    }
  }
}

void expect_rejected(const ImageView& v, const std::string& field) {
  cv::Mat scratch;
  try {
    image_to_rgb(v, scratch);
    ADD_FAILURE() << "accepted a view with a bad " << field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(ImageToRgb, RejectsViewsItCannotReadNamingTheField) {
  std::vector<std::uint8_t> buf(64 * 64 * 4, 0);
  expect_rejected(ImageView::packed(nullptr, 8, 8, PixelFormat::RGB), "data[0]");
  expect_rejected(ImageView::packed(buf.data(), 0, 8, PixelFormat::RGB), "width");
  expect_rejected(ImageView::packed(buf.data(), 8, -1, PixelFormat::BGRx), "height");
  expect_rejected(ImageView::packed(buf.data(), 8, 8, PixelFormat::RGBA, 31), "stride[0]");
  ImageView i420 = ImageView::packed(buf.data(), 8, 8, PixelFormat::I420);
  i420.data[2] = nullptr;
  expect_rejected(i420, "data[2]");
  ImageView nv12 = ImageView::packed(buf.data(), 8, 8, PixelFormat::NV12);
  nv12.stride[1] = 7;
  expect_rejected(nv12, "stride[1]");
}

}  // namespace
}  // namespace hicomex
