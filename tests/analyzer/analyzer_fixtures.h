// Shared by the analyzer tests: an untrained small HiCOMEX weights file (the
// whole load path, honest about weights: the tests check plumbing, not AU
// accuracy), photos, and a picture laid out in every pixel format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "hicomex/image.h"

namespace hicomex::test {

inline const std::string kGraceHopper = "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg";
inline const std::string kLandscape = "/usr/share/doc/facedetect/examples/640px-IceBlockNearJoekullsarlon.jpg";

/// The AU thresholds written into the small model (one per AU, all different).
std::vector<float> small_model_thresholds();
/// Writes an untrained small model (seeded, 12 AUs) to `path` once per process
/// and returns `path`.
std::string write_small_model(const std::string& path);
/// A fresh folder under the temp dir, removed and re-created.
std::string fresh_temp_dir(const std::string& name);

/// Loads a photo as RGB; throws naming the path if it cannot be read.
cv::Mat load_rgb(const std::string& path);

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
