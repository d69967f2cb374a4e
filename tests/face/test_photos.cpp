#include "test_photos.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <stdexcept>

#include "hicomex/model_paths.h"

namespace hicomex::test {

std::vector<std::string> sample_photos() {
  std::vector<std::string> out;
  for (int i = 1; i <= 6; ++i) out.push_back(face_models_dir() + "/samples/sample" + std::to_string(i) + ".jpg");
  return out;
}

cv::Mat load_rgb(const std::string& path) {
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) throw std::runtime_error("test photo missing or unreadable: " + path);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

}  // namespace hicomex::test
