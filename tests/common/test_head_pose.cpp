// Head pose from 68 landmarks with the generic 3D face.
#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>
#include <opencv2/calib3d.hpp>

#include "hicomex/head_pose.h"

namespace hicomex {
namespace {

constexpr int kWidth = 640, kHeight = 480;

// Projects the generic face seen with `pose` into a 640x480 camera; the
// landmarks the model does not use are left at the image centre.
std::vector<cv::Point2f> project(const HeadPose& pose) {
  const auto& model = generic_head_model();
  std::vector<cv::Point3f> object;
  for (const auto& m : model) object.push_back(m.position_mm);
  cv::Vec3d rvec;
  cv::Rodrigues(head_rotation(pose), rvec);
  const cv::Vec3d tvec(pose.tx, pose.ty, pose.tz);
  std::vector<cv::Point2f> image;
  cv::projectPoints(object, rvec, tvec, head_pose_camera_matrix(kWidth, kHeight), cv::noArray(), image);
  std::vector<cv::Point2f> pts68(68, cv::Point2f(kWidth / 2.f, kHeight / 2.f));
  for (std::size_t i = 0; i < model.size(); ++i) pts68[model[i].landmark68] = image[i];
  return pts68;
}

HeadPose pose(float pitch, float yaw, float roll, float tx = 20.f, float ty = -10.f, float tz = 600.f) {
  HeadPose p;
  p.pitch = pitch;
  p.yaw = yaw;
  p.roll = roll;
  p.tx = tx;
  p.ty = ty;
  p.tz = tz;
  return p;
}

TEST(HeadPose, RotationAndAnglesRoundTrip) {
  const HeadPose p = pose(12.f, -31.f, 7.5f);
  const HeadPose q = head_pose_from_rotation(head_rotation(p), {1, 2, 3});
  EXPECT_NEAR(q.pitch, p.pitch, 1e-4);
  EXPECT_NEAR(q.yaw, p.yaw, 1e-4);
  EXPECT_NEAR(q.roll, p.roll, 1e-4);
  EXPECT_FLOAT_EQ(q.tz, 3.f);
}

TEST(HeadPose, FrontalFaceGivesZeroAngles) {
  const HeadPose est = estimate_head_pose(project(pose(0, 0, 0, 0, 0, 500)), kWidth, kHeight);
  EXPECT_NEAR(est.pitch, 0.f, 0.1);
  EXPECT_NEAR(est.yaw, 0.f, 0.1);
  EXPECT_NEAR(est.roll, 0.f, 0.1);
  EXPECT_NEAR(est.tz, 500.f, 1.0);
}

TEST(HeadPose, RecoversKnownRotationsOfTheGenericFace) {
  for (const HeadPose& truth : {pose(15, 0, 0), pose(-20, 0, 0), pose(0, 35, 0), pose(0, -25, 0), pose(0, 0, 20),
                                pose(10, -30, -15), pose(-12, 40, 8, -80, 40, 900)}) {
    const HeadPose est = estimate_head_pose(project(truth), kWidth, kHeight);
    EXPECT_NEAR(est.pitch, truth.pitch, 1.0);
    EXPECT_NEAR(est.yaw, truth.yaw, 1.0);
    EXPECT_NEAR(est.roll, truth.roll, 1.0);
    EXPECT_NEAR(est.tx, truth.tx, 5.0);
    EXPECT_NEAR(est.ty, truth.ty, 5.0);
    EXPECT_NEAR(est.tz, truth.tz, 10.0);
  }
}

TEST(HeadPose, SignsFollowTheDocumentedConventions) {
  const auto nose_minus_eyes = [](const std::vector<cv::Point2f>& p) { return p[30] - 0.5f * (p[39] + p[42]); };
  const cv::Point2f frontal = nose_minus_eyes(project(pose(0, 0, 0, 0, 0, 600)));
  // Positive yaw: the face turns to its left, the nose moves to the image right.
  EXPECT_GT(nose_minus_eyes(project(pose(0, 20, 0, 0, 0, 600))).x, frontal.x + 5);
  // Positive pitch: chin up, the nose rises towards the eyes in the image.
  EXPECT_LT(nose_minus_eyes(project(pose(20, 0, 0, 0, 0, 600))).y, frontal.y - 5);
  // Positive roll: clockwise on screen, the image-right eye is lower.
  const auto rolled = project(pose(0, 0, 10, 0, 0, 600));
  EXPECT_GT(rolled[45].y, rolled[36].y + 5);
  EXPECT_NEAR(std::atan2(rolled[42].y - rolled[39].y, rolled[42].x - rolled[39].x) * 180 / CV_PI, 10.0, 0.5);
}

TEST(HeadPose, ArrayOverloadAgreesWithTheVectorOne) {
  const auto pts = project(pose(5, 10, -3));
  std::array<Point2f, 68> arr{};
  for (int i = 0; i < 68; ++i) arr[i] = Point2f{pts[i].x, pts[i].y};
  const HeadPose a = estimate_head_pose(arr, kWidth, kHeight);
  const HeadPose b = estimate_head_pose(pts, kWidth, kHeight);
  EXPECT_FLOAT_EQ(a.yaw, b.yaw);
  EXPECT_FLOAT_EQ(a.pitch, b.pitch);
}

TEST(HeadPose, RejectsBadInput) {
  EXPECT_THROW(estimate_head_pose(std::vector<cv::Point2f>(49), kWidth, kHeight), std::invalid_argument);
  EXPECT_THROW(estimate_head_pose(project(pose(0, 0, 0)), 0, kHeight), std::invalid_argument);
  auto pts = project(pose(0, 0, 0));
  pts[30].y = INFINITY;
  EXPECT_THROW(estimate_head_pose(pts, kWidth, kHeight), std::invalid_argument);
}

}  // namespace
}  // namespace hicomex
