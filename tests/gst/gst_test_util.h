// Helpers shared by the GStreamer tests: faces and frames. Temporary
// folders, text files and child processes come from tests/support.
#pragma once
#include <gst/gst.h>
#include <gst/video/video.h>

#include <string>
#include <vector>

#include "hicomex/face_result.h"
#include "process.h"
#include "temp_dir.h"
#include "text_files.h"

namespace gsttest {

using hicomex::test::read_lines;
using hicomex::test::TempDir;

inline void init_gst() {
  static bool done = [] {
    gst_init(nullptr, nullptr);
    return true;
  }();
  (void)done;
}

inline hicomex::FaceResult make_face(int track_id, float x, float y, float w, float h) {
  hicomex::FaceResult f;
  f.track_id = track_id;
  f.box = {x, y, w, h};
  f.detection_score = 0.9f;
  f.confidence = 0.8f;
  f.success = true;
  for (int i = 0; i < 68; ++i)
    f.landmarks[i] = {x + w * (0.1f + 0.8f * (i % 17) / 16.f), y + h * (0.2f + 0.15f * (i / 17))};
  f.pose = {5.f, -10.f, 2.f, 10.f, -5.f, 550.f};
  f.au_ids = {1, 2, 4, 6, 12};
  f.au_probability = {0.1f, 0.2f, 0.3f, 0.75f, 0.9f};
  f.au_occurrence = {0, 0, 0, 1, 1};
  return f;
}

// The same face as a model with an intensity head reports it: calibrated and
// raw intensities (0-5) per AU.
inline hicomex::FaceResult with_intensity(hicomex::FaceResult f) {
  f.au_intensity = {0.f, 0.5f, 1.25f, 2.f, 3.5f};
  f.au_intensity_raw = {0.75f, 1.f, 2.f, 2.5f, 4.25f};
  return f;
}

// A frame of `format` filled with a deterministic texture (every pixel byte
// differs from its neighbours, so any drawing changes something).
inline GstBuffer* make_frame(GstVideoFormat format, int width, int height) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, width, height);
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame frame;
  gst_video_frame_map(&frame, &info, buf, GST_MAP_WRITE);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); ++p) {
    auto* data = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
    const int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p == 0 ? 0 : 1);
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < stride; ++x) data[y * stride + x] = static_cast<guint8>(40 + (x * 7 + y * 3 + p * 11) % 90);
  }
  gst_video_frame_unmap(&frame);
  return buf;
}

inline std::string caps_string(GstVideoFormat format, int width, int height) {
  return std::string("video/x-raw,format=") + gst_video_format_to_string(format) + ",width=" + std::to_string(width) +
         ",height=" + std::to_string(height) + ",framerate=30/1";
}

inline std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = line.find(", ", start);
    out.push_back(line.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 2;
  }
  return out;
}

}  // namespace gsttest
