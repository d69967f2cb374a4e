// Head pose from landmarks (hicomex/head_pose.h).
#include "hicomex/head_pose.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <opencv2/calib3d.hpp>

namespace hicomex {
namespace {

constexpr double kDeg = 180.0 / CV_PI;

cv::Matx33d rot_x(double a) {
  const double c = std::cos(a), s = std::sin(a);
  return {1, 0, 0, 0, c, -s, 0, s, c};
}
cv::Matx33d rot_y(double a) {
  const double c = std::cos(a), s = std::sin(a);
  return {c, 0, s, 0, 1, 0, -s, 0, c};
}
cv::Matx33d rot_z(double a) {
  const double c = std::cos(a), s = std::sin(a);
  return {c, -s, 0, s, c, 0, 0, 0, 1};
}

}  // namespace

// Rounded adult averages (Farkas-style anthropometric proportions), origin at
// the midpoint of the inner eye corners: inner corners 33 mm apart, outer 90,
// mouth 50 wide, nose tip 38 mm below the eyes and 30 in front of them, chin
// 112 below. Only points that stay put when the face moves its muscles are used
// (no brows, no jaw line except the chin, no inner lips); the exact values
// matter little for the angles, which come mostly from the eye/nose/mouth layout.
const std::vector<HeadModelPoint>& generic_head_model() {
  static const std::vector<HeadModelPoint> model = {
      {8, {0.f, 112.f, -5.f}},     // chin (menton)
      {27, {0.f, -4.f, -12.f}},    // top of the nose bridge
      {30, {0.f, 38.f, -30.f}},    // nose tip
      {31, {-14.f, 45.f, -14.f}},  // nostril, image-left
      {33, {0.f, 47.f, -20.f}},    // below the nose (subnasale)
      {35, {14.f, 45.f, -14.f}},   // nostril, image-right
      {36, {-45.f, -2.f, 14.f}},   // outer corner, image-left eye
      {39, {-16.5f, 0.f, 0.f}},    // inner corner, image-left eye
      {42, {16.5f, 0.f, 0.f}},     // inner corner, image-right eye
      {45, {45.f, -2.f, 14.f}},    // outer corner, image-right eye
      {48, {-25.f, 72.f, -5.f}},   // mouth corner, image-left
      {54, {25.f, 72.f, -5.f}},    // mouth corner, image-right
  };
  return model;
}

cv::Matx33d head_pose_camera_matrix(int image_width, int image_height) {
  if (image_width <= 0 || image_height <= 0)
    throw std::invalid_argument("head pose: image size " + std::to_string(image_width) + "x" +
                                std::to_string(image_height) + " must be positive");
  const double f = std::max(image_width, image_height);
  return {f, 0, image_width / 2.0, 0, f, image_height / 2.0, 0, 0, 1};
}

cv::Matx33d head_rotation(const HeadPose& pose) {
  return rot_x(-pose.pitch / kDeg) * rot_y(-pose.yaw / kDeg) * rot_z(pose.roll / kDeg);
}

HeadPose head_pose_from_rotation(const cv::Matx33d& r, const cv::Vec3d& t_mm) {
  // R = Rx(a) Ry(b) Rz(c): R02 = sin b, R12 = -sin a cos b, R22 = cos a cos b,
  // R01 = -cos b sin c, R00 = cos b cos c. Faces never reach |b| = 90 degrees.
  const double a = std::atan2(-r(1, 2), r(2, 2));
  const double b = std::asin(std::clamp(r(0, 2), -1.0, 1.0));
  const double c = std::atan2(-r(0, 1), r(0, 0));
  HeadPose pose;
  pose.pitch = static_cast<float>(-a * kDeg);
  pose.yaw = static_cast<float>(-b * kDeg);
  pose.roll = static_cast<float>(c * kDeg);
  pose.tx = static_cast<float>(t_mm[0]);
  pose.ty = static_cast<float>(t_mm[1]);
  pose.tz = static_cast<float>(t_mm[2]);
  return pose;
}

HeadPose estimate_head_pose(const std::vector<cv::Point2f>& pts68, int image_width, int image_height) {
  if (pts68.size() != 68)
    throw std::invalid_argument("estimate_head_pose: expected 68 landmarks, got " + std::to_string(pts68.size()));
  const cv::Matx33d k = head_pose_camera_matrix(image_width, image_height);
  const auto& model = generic_head_model();
  std::vector<cv::Point3d> object;
  std::vector<cv::Point2d> image;
  for (const HeadModelPoint& m : model) {
    const cv::Point2f& p = pts68[m.landmark68];
    if (!std::isfinite(p.x) || !std::isfinite(p.y))
      throw std::invalid_argument("estimate_head_pose: landmark " + std::to_string(m.landmark68) + " is not finite");
    object.emplace_back(m.position_mm);
    image.emplace_back(p);
  }

  // Start from a frontal face at the distance the outer eye corners suggest,
  // rolled like the eye line: Levenberg-Marquardt from there lands on the
  // face-forward solution rather than a mirrored one behind the camera.
  const cv::Point2d le = image[6], re = image[9];  // landmarks 36 and 45
  const double eye_px = cv::norm(re - le);
  if (!(eye_px > 1e-3)) throw std::invalid_argument("estimate_head_pose: the outer eye corners coincide");
  const double f = k(0, 0);
  const double z = f * 90.0 / eye_px;
  const cv::Point2d mid = 0.5 * (image[7] + image[8]);  // between the inner eye corners
  cv::Vec3d rvec(0, 0, std::atan2(re.y - le.y, re.x - le.x));
  cv::Vec3d tvec((mid.x - k(0, 2)) * z / f, (mid.y - k(1, 2)) * z / f, z);
  const bool ok = cv::solvePnP(object, image, k, cv::noArray(), rvec, tvec,
                               /*useExtrinsicGuess=*/true, cv::SOLVEPNP_ITERATIVE);
  if (!ok || !std::isfinite(tvec[2]) || tvec[2] <= 0 || !std::isfinite(rvec[0]) || !std::isfinite(rvec[1]) ||
      !std::isfinite(rvec[2]))
    throw std::runtime_error("estimate_head_pose: no pose in front of the camera fits the landmarks");
  cv::Matx33d r;
  cv::Rodrigues(rvec, r);
  return head_pose_from_rotation(r, tvec);
}

HeadPose estimate_head_pose(const std::array<Point2f, 68>& pts68, int image_width, int image_height) {
  std::vector<cv::Point2f> pts(68);
  for (int i = 0; i < 68; ++i) pts[i] = cv::Point2f(pts68[i].x, pts68[i].y);
  return estimate_head_pose(pts, image_width, image_height);
}

}  // namespace hicomex
