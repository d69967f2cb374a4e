// Frame views to RGB (hicomex/image_convert.h).
#include "hicomex/image_convert.h"

#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>
#include <opencv2/imgproc/hal/hal.hpp>

#include "hicomex/errors.h"

namespace hicomex {
namespace {

int plane0_bytes_per_pixel(PixelFormat f) {
  switch (f) {
    case PixelFormat::RGB:
    case PixelFormat::BGR: return 3;
    case PixelFormat::GRAY8:
    case PixelFormat::I420:
    case PixelFormat::NV12: return 1;
    default: return 4;
  }
}

[[noreturn]] void fail(const ImageView& v, const std::string& what) {
  throw MediaError(std::string("ImageView (") + to_string(v.format) + " " + std::to_string(v.width) + "x" +
                   std::to_string(v.height) + "): " + what);
}

void check_plane(const ImageView& v, int plane, int min_stride) {
  const std::string name = "plane " + std::to_string(plane);
  if (v.data[plane] == nullptr) fail(v, "data[" + std::to_string(plane) + "] is null (" + name + ")");
  if (v.stride[plane] < min_stride)
    fail(v, "stride[" + std::to_string(plane) + "] = " + std::to_string(v.stride[plane]) + " is smaller than the " +
                std::to_string(min_stride) + " bytes a row of " + name + " needs");
}

cv::Mat plane_mat(const ImageView& v, int plane, int rows, int cols, int type) {
  // OpenCV takes non-const data for headers; the callers only ever read it.
  return cv::Mat(rows, cols, type, const_cast<std::uint8_t*>(v.data[plane]), static_cast<std::size_t>(v.stride[plane]));
}

// Y plane + interleaved UV plane (NV12 order) -> RGB in `dst`. OpenCV's kernel
// works on 2x2 blocks, so odd sizes are converted through an even-sized copy
// whose last row/column repeats the edge (the chroma plane already covers it).
void two_plane_to_rgb(const cv::Mat& y, const cv::Mat& uv, int width, int height, cv::Mat& dst) {
  dst.create(height, width, CV_8UC3);
  if (width % 2 == 0 && height % 2 == 0) {
    cv::hal::cvtTwoPlaneYUVtoBGR(y.data, y.step, uv.data, uv.step, dst.data, dst.step, width, height, 3,
                                 /*swapBlue=*/true, /*uIdx=*/0);
    return;
  }
  thread_local cv::Mat y_even, rgb_even;
  cv::copyMakeBorder(y, y_even, 0, height % 2, 0, width % 2, cv::BORDER_REPLICATE);
  rgb_even.create(y_even.rows, y_even.cols, CV_8UC3);
  cv::hal::cvtTwoPlaneYUVtoBGR(y_even.data, y_even.step, uv.data, uv.step, rgb_even.data, rgb_even.step, y_even.cols,
                               y_even.rows, 3, true, 0);
  rgb_even(cv::Rect(0, 0, width, height)).copyTo(dst);
}

}  // namespace

void validate_image_view(const ImageView& v) {
  if (v.width <= 0) fail(v, "width must be positive");
  if (v.height <= 0) fail(v, "height must be positive");
  check_plane(v, 0, v.width * plane0_bytes_per_pixel(v.format));
  const int chroma_cols = (v.width + 1) / 2;
  if (v.format == PixelFormat::I420) {
    check_plane(v, 1, chroma_cols);
    check_plane(v, 2, chroma_cols);
  } else if (v.format == PixelFormat::NV12) {
    check_plane(v, 1, 2 * chroma_cols);
  }
}

cv::Mat image_to_rgb(const ImageView& v, cv::Mat& scratch) {
  validate_image_view(v);
  const int w = v.width, h = v.height;
  switch (v.format) {
    case PixelFormat::RGB: return plane_mat(v, 0, h, w, CV_8UC3);
    case PixelFormat::BGR: cv::cvtColor(plane_mat(v, 0, h, w, CV_8UC3), scratch, cv::COLOR_BGR2RGB); return scratch;
    case PixelFormat::RGBA:
    case PixelFormat::RGBx: cv::cvtColor(plane_mat(v, 0, h, w, CV_8UC4), scratch, cv::COLOR_RGBA2RGB); return scratch;
    case PixelFormat::BGRA:
    case PixelFormat::BGRx: cv::cvtColor(plane_mat(v, 0, h, w, CV_8UC4), scratch, cv::COLOR_BGRA2RGB); return scratch;
    case PixelFormat::xRGB:
    case PixelFormat::xBGR: {
      // No cvtColor code has the padding byte first; pick the channels by hand.
      const cv::Mat src = plane_mat(v, 0, h, w, CV_8UC4);
      scratch.create(h, w, CV_8UC3);
      const int from_xrgb[] = {1, 0, 2, 1, 3, 2};
      const int from_xbgr[] = {3, 0, 2, 1, 1, 2};
      cv::mixChannels(&src, 1, &scratch, 1, v.format == PixelFormat::xRGB ? from_xrgb : from_xbgr, 3);
      return scratch;
    }
    case PixelFormat::GRAY8: cv::cvtColor(plane_mat(v, 0, h, w, CV_8UC1), scratch, cv::COLOR_GRAY2RGB); return scratch;
    case PixelFormat::NV12: {
      const int ch = (h + 1) / 2, cw = (w + 1) / 2;
      two_plane_to_rgb(plane_mat(v, 0, h, w, CV_8UC1), plane_mat(v, 1, ch, cw, CV_8UC2), w, h, scratch);
      return scratch;
    }
    case PixelFormat::I420: {
      // OpenCV's three-plane kernel wants the planes back to back with half the
      // luma stride; GStreamer's strides are rounded to 4 and its planes may be
      // anywhere. Interleaving U and V (a quarter of the pixels) lets the
      // two-plane kernel, which takes a stride per plane, do the work.
      const int ch = (h + 1) / 2, cw = (w + 1) / 2;
      thread_local cv::Mat uv;
      uv.create(ch, cw, CV_8UC2);
      const cv::Mat planes[] = {plane_mat(v, 1, ch, cw, CV_8UC1), plane_mat(v, 2, ch, cw, CV_8UC1)};
      cv::merge(planes, 2, uv);
      two_plane_to_rgb(plane_mat(v, 0, h, w, CV_8UC1), uv, w, h, scratch);
      return scratch;
    }
  }
  fail(v, "unsupported pixel format");
}

}  // namespace hicomex
