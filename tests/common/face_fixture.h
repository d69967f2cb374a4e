// A hand-made frontal face in iBUG-68 points, symmetric about x = 100, with
// level eyes: the known landmark set the geometry tests compute against.
#pragma once
#include <cmath>
#include <vector>

#include <opencv2/core/types.hpp>

namespace hicomex::test {

inline std::vector<cv::Point2f> canonical_face68() {
  std::vector<cv::Point2f> p(68);
  for (int i = 0; i <= 16; ++i) {  // jaw: lower half of an ellipse
    const double t = CV_PI - i * CV_PI / 16.0;
    p[i] = cv::Point2f(static_cast<float>(100 + 60 * std::cos(t)), static_cast<float>(90 + 75 * std::sin(t)));
  }
  const float pts[][2] = {
      {50, 66},   {58, 61},   {67, 59},   {76, 60},   {85, 62},                // 17-21 brow
      {115, 62},  {124, 60},  {133, 59},  {142, 61},  {150, 66},               // 22-26 brow
      {100, 75},  {100, 85},  {100, 95},  {100, 105},                          // 27-30 nose
      {88, 112},  {94, 114},  {100, 115}, {106, 114}, {112, 112},              // 31-35
      {58, 80},   {65, 76},   {75, 76},   {82, 80},   {75, 83},   {65, 83},    // 36-41 eye
      {118, 80},  {125, 76},  {135, 76},  {142, 80},  {135, 83},  {125, 83},   // 42-47 eye
      {78, 135},  {86, 130},  {94, 128},  {100, 129}, {106, 128}, {114, 130},  // 48-53
      {122, 135}, {114, 141}, {106, 144}, {100, 145}, {94, 144},  {86, 141},   // 54-59
      {82, 135},  {94, 133},  {100, 133}, {106, 133}, {118, 135},              // 60-64
      {106, 137}, {100, 137}, {94, 137},                                       // 65-67
  };
  for (int i = 17; i < 68; ++i) p[i] = cv::Point2f(pts[i - 17][0], pts[i - 17][1]);
  return p;
}

/// Applies x' = s * R(angle) * x + t to every point.
inline std::vector<cv::Point2f> similarity(const std::vector<cv::Point2f>& pts, double angle_deg, double scale,
                                           cv::Point2d t) {
  const double a = angle_deg * CV_PI / 180.0;
  const double c = scale * std::cos(a), s = scale * std::sin(a);
  std::vector<cv::Point2f> out;
  for (const auto& q : pts)
    out.emplace_back(static_cast<float>(c * q.x - s * q.y + t.x), static_cast<float>(s * q.x + c * q.y + t.y));
  return out;
}

}  // namespace hicomex::test
