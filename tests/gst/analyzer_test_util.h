// Helpers for the tests that run the hicomex analyzer element: the small test
// model, photos as GstBuffers in any layout. The photos' paths, load_rgb and
// the process runner come from tests/support.
#pragma once
#include <glib.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "gst_test_util.h"
#include "media_paths.h"
#include "photo.h"

namespace gsttest {

using hicomex::test::kGraceHopper;
using hicomex::test::kLandscape;
using hicomex::test::load_rgb;

// The untrained small model (12 AUs, id "hicomex-gst-test", thresholds 0.5),
// written once per test binary by the write-test-model program.
inline const std::string& small_model() {
  static TempDir dir;
  static const std::string path = [] {
    const char* writer = g_getenv("HICOMEX_WRITE_TEST_MODEL");
    if (!writer) throw std::runtime_error("HICOMEX_WRITE_TEST_MODEL not set by meson");
    const std::string p = dir.file("small.safetensors");
    const hicomex::test::RunResult r = hicomex::test::run({writer, p});
    if (r.status != 0) throw std::runtime_error("write-test-model failed: " + r.err);
    return p;
  }();
  return path;
}

// The same small model with the intensity head (id "hicomex-gst-test-intensity").
inline const std::string& intensity_model() {
  static TempDir dir;
  static const std::string path = [] {
    const char* writer = g_getenv("HICOMEX_WRITE_TEST_MODEL");
    if (!writer) throw std::runtime_error("HICOMEX_WRITE_TEST_MODEL not set by meson");
    const std::string p = dir.file("small-intensity.safetensors");
    const hicomex::test::RunResult r = hicomex::test::run({writer, "--intensity", p});
    if (r.status != 0) throw std::runtime_error("write-test-model --intensity failed: " + r.err);
    return p;
  }();
  return path;
}

// `rgb` (CV_8UC3) as a GstBuffer of `format` (RGB, GRAY8, I420 or NV12). With
// `padding` > 0 every row is that many bytes longer than needed and the
// layout is carried by a GstVideoMeta, as from a decoder with aligned strides.
inline GstBuffer* buffer_from_rgb(const cv::Mat& rgb, GstVideoFormat format, int padding = 0) {
  const int w = rgb.cols, h = rgb.rows;
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, w, h);
  // The source planes, tightly packed.
  std::vector<cv::Mat> planes;
  switch (format) {
    case GST_VIDEO_FORMAT_RGB: planes.push_back(rgb); break;
    case GST_VIDEO_FORMAT_GRAY8: {
      cv::Mat g;
      cv::cvtColor(rgb, g, cv::COLOR_RGB2GRAY);
      planes.push_back(g);
      break;
    }
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_NV12: {
      if (w % 2 || h % 2) throw std::invalid_argument("buffer_from_rgb: YUV needs an even size");
      cv::Mat yuv;
      cv::cvtColor(rgb, yuv, cv::COLOR_RGB2YUV_I420);  // BT.601 limited, as GStreamer's default
      const int cw = w / 2, ch = h / 2;
      cv::Mat y(h, w, CV_8UC1, yuv.data);
      cv::Mat u(ch, cw, CV_8UC1, yuv.data + w * h);
      cv::Mat v(ch, cw, CV_8UC1, yuv.data + w * h + cw * ch);
      planes.push_back(y.clone());
      if (format == GST_VIDEO_FORMAT_I420) {
        planes.push_back(u.clone());
        planes.push_back(v.clone());
      } else {
        cv::Mat uv;
        cv::merge(std::vector<cv::Mat>{u, v}, uv);
        planes.push_back(uv.reshape(1, ch));
      }
      break;
    }
    default: throw std::invalid_argument("buffer_from_rgb: unsupported format");
  }
  gsize offset[GST_VIDEO_MAX_PLANES] = {};
  gint stride[GST_VIDEO_MAX_PLANES] = {};
  gsize size = 0;
  for (size_t p = 0; p < planes.size(); ++p) {
    const int row_bytes = planes[p].cols * static_cast<int>(planes[p].elemSize());
    stride[p] = padding > 0 ? row_bytes + padding : GST_VIDEO_INFO_PLANE_STRIDE(&info, p);
    offset[p] = padding > 0 ? size : GST_VIDEO_INFO_PLANE_OFFSET(&info, p);
    size = padding > 0 ? size + static_cast<gsize>(stride[p]) * planes[p].rows : GST_VIDEO_INFO_SIZE(&info);
  }
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, size, nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  std::memset(map.data, 0xEE, map.size);
  for (size_t p = 0; p < planes.size(); ++p) {
    const int row_bytes = planes[p].cols * static_cast<int>(planes[p].elemSize());
    for (int r = 0; r < planes[p].rows; ++r)
      std::memcpy(map.data + offset[p] + static_cast<gsize>(r) * stride[p], planes[p].ptr(r), row_bytes);
  }
  gst_buffer_unmap(buf, &map);
  if (padding > 0)
    gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, format, w, h, static_cast<guint>(planes.size()),
                                   offset, stride);
  return buf;
}

// A flat grey RGB image (no face anywhere).
inline cv::Mat grey_rgb(int w, int h) { return cv::Mat(h, w, CV_8UC3, cv::Scalar(128, 128, 128)); }

}  // namespace gsttest
