// Helpers for the training tests: files written on the spot, a plausible
// 68-point face and a face image drawn around it. Temporary folders are
// tests/support's TempDir.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "temp_dir.h"

namespace hicomex::training::test {

using hicomex::test::TempDir;

/// Writes `text` to `path`, creating parent folders.
void write_text(const std::string& path, const std::string& text);
/// Writes a real image file (format from the extension) of w x h, filled with `value`.
void write_image(const std::string& path, int w, int h, int value = 128);

/// A frontal face's 68 iBUG points centred near (cx, cy), eye distance ~ scale * 0.4.
std::vector<cv::Point2f> face68(float cx = 160.f, float cy = 120.f, float scale = 100.f);
/// A BGR image (w x h) with a grey face-like ellipse and dots at the landmarks.
cv::Mat face_image(const std::vector<cv::Point2f>& pts, int w = 320, int h = 240);
/// JSON for a landmark list: [[x, y], ...].
std::string points_json(const std::vector<cv::Point2f>& pts);

}  // namespace hicomex::training::test
