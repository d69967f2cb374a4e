// Head pose from 68 landmarks: a generic 3D face fitted with cv::solvePnP.
//
// Conventions (degrees; the face as the camera sees it, camera not mirrored):
// - yaw   > 0: the face turns to its own left, i.e. towards the camera's right
//              (the nose moves to larger image x);
// - pitch > 0: the face tilts up (chin up; the nose moves up in the image);
// - roll  > 0: the head tilts clockwise on screen (towards its own left
//              shoulder); equals the angle of the eye line in image coordinates.
// Internally R = Rx(-pitch) * Ry(-yaw) * Rz(roll) maps the generic face (x to
// the image right when frontal, y down, z away from the camera) into camera
// coordinates (x right, y down, z forward), so a frontal face has R = I.
// Translation: the model origin (midpoint of the inner eye corners) in camera
// coordinates, millimetres; tz is the distance from the camera.
// Camera: focal length max(width, height) pixels, principal point the image
// centre, no distortion (a guess that holds for webcams and most video).
#pragma once
#include <array>
#include <vector>

#include <opencv2/core.hpp>

#include "hicomex/geometry.h"

namespace hicomex {

/// One point of the generic 3D face: an iBUG-68 index and its position in mm.
struct HeadModelPoint {
  int landmark68;
  cv::Point3f position_mm;
};

/// The rigid points used for the fit (eye corners, nose, mouth corners, chin).
const std::vector<HeadModelPoint>& generic_head_model();

/// The pinhole camera assumed for an image of this size.
cv::Matx33d head_pose_camera_matrix(int image_width, int image_height);

/// Fits the generic face to the landmarks. Throws std::invalid_argument for a
/// wrong point count, non-finite points or a non-positive image size, and
/// std::runtime_error if no pose in front of the camera fits.
HeadPose estimate_head_pose(const std::array<Point2f, 68>& pts68, int image_width, int image_height);
HeadPose estimate_head_pose(const std::vector<cv::Point2f>& pts68, int image_width, int image_height);

/// Rotation (model -> camera) of a pose, and the pose of a rotation + translation.
cv::Matx33d head_rotation(const HeadPose& pose);
HeadPose head_pose_from_rotation(const cv::Matx33d& r, const cv::Vec3d& t_mm);

}  // namespace hicomex
