// Crop preparation for the landmark net: the square region around a face box
// and its resampling to the net's input size (no LibTorch here).
#include <opencv2/imgproc.hpp>

#include <stdexcept>

#include "hicomex/geometry.h"
#include "hicomex/landmarker.h"

namespace hicomex {

Box landmark_crop_box(const Box& face, const LandmarkerOptions& options) {
  const float side = options.crop_scale * std::max(face.width, face.height);
  const float cx = face.x + face.width / 2;
  const float cy = face.y + face.height / 2 + options.crop_shift_y * side;
  return {cx - side / 2, cy - side / 2, side, side};
}

Box landmark_crop_box(const Landmarks68& points) {
  const auto [x0, y0, x1, y1] = bounds_of(points);
  const float side = 1.3f * std::max(x1 - x0, y1 - y0);
  const float cx = (x0 + x1) / 2, cy = (y0 + y1) / 2 + 0.05f * side;
  return {cx - side / 2, cy - side / 2, side, side};
}

cv::Mat crop_face(const cv::Mat& rgb, const Box& square, int size) {
  if (rgb.empty() || rgb.type() != CV_8UC3) {
    throw std::invalid_argument("crop_face: expected a non-empty 8-bit RGB image (CV_8UC3)");
  }
  if (!(square.width > 0.f && square.height > 0.f) || size <= 0) {
    throw std::invalid_argument("crop_face: empty crop box (width " + std::to_string(square.width) + ", height " +
                                std::to_string(square.height) + ")");
  }
  // A large face shrunk in one bilinear step aliases. Halve it with pyrDown
  // first (exact in continuous coordinates: x -> x / 2) until the last step
  // shrinks by less than 2, then map the box exactly with warpAffine.
  Box box = square;
  cv::Mat src = rgb;
  if (size / double(square.width) < 0.5) {
    const cv::Rect roi(int(std::floor(square.x)) - 2, int(std::floor(square.y)) - 2, int(std::ceil(square.width)) + 5,
                       int(std::ceil(square.height)) + 5);
    const cv::Rect inside = roi & cv::Rect(0, 0, rgb.cols, rgb.rows);
    cv::Mat region(roi.size(), CV_8UC3, cv::Scalar::all(0));
    if (!inside.empty()) rgb(inside).copyTo(region(inside - roi.tl()));
    box.x -= roi.x;
    box.y -= roi.y;
    while (size / double(box.width) < 0.5) {
      cv::pyrDown(region, region);
      box = {box.x / 2, box.y / 2, box.width / 2, box.height / 2};
    }
    src = region;
  }
  // Continuous coordinates (pixel centres at +0.5) map box onto [0, size).
  const double sx = size / double(box.width), sy = size / double(box.height);
  const cv::Matx23d m(sx, 0, -box.x * sx + 0.5 * sx - 0.5, 0, sy, -box.y * sy + 0.5 * sy - 0.5);
  cv::Mat out;
  cv::warpAffine(src, out, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return out;
}

}  // namespace hicomex
