// Loading a test photo as RGB. Header-only, so that the test_support library
// itself needs no OpenCV; the tests that include this link OpenCV anyway.
#pragma once
#include <stdexcept>
#include <string>

#include <opencv2/core/mat.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace hicomex::test {

/// The photo at `path` as RGB (CV_8UC3); throws std::runtime_error naming
/// the path if it is missing or unreadable.
inline cv::Mat load_rgb(const std::string& path) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) throw std::runtime_error("test photo missing or unreadable: " + path);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

}  // namespace hicomex::test
