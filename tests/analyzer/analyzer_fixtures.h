// Shared by the analyzer tests: an untrained small HiCOMEX weights file (the
// whole load path, honest about weights: the tests check plumbing, not AU
// accuracy) and a picture laid out in every pixel format. The photos, their
// loading and temporary folders come from tests/support.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "hicomex/image.h"
#include "media_paths.h"
#include "photo.h"
#include "temp_dir.h"

namespace hicomex::test {

/// The AU thresholds written into the small model (one per AU, all different).
std::vector<float> small_model_thresholds();
/// Writes an untrained small model (seeded, 12 AUs) to `path` once per process
/// and returns `path`.
std::string write_small_model(const std::string& path);
/// A frame in `format` that owns its memory, with `padding` extra bytes at the
/// end of every row (and the planes of I420/NV12 in separate blocks).
struct OwnedFrame {
  std::vector<std::uint8_t> memory[3];
  ImageView view;
};
/// `rgb` (CV_8UC3, even size for I420/NV12) converted to `format`. The YUV
/// formats use BT.601 limited range like GStreamer's default.
OwnedFrame make_frame(const cv::Mat& rgb, PixelFormat format, int padding = 0);

}  // namespace hicomex::test
