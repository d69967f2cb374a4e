// Plain geometry types shared by the core API and the glue (no OpenCV, no torch).
#pragma once

namespace hicomex {

struct Point2f {
  float x = 0.f;
  float y = 0.f;
};

/// Axis-aligned box in image pixels: top-left corner and size.
struct Box {
  float x = 0.f;
  float y = 0.f;
  float width = 0.f;
  float height = 0.f;
};

/// Head rotation in degrees (OpenFace's pose_Rx/Ry/Rz are these in radians):
/// pitch about x (nodding), yaw about y (turning), roll about z (tilting).
/// Signs (hicomex/head_pose.h): pitch > 0 chin up, yaw > 0 the face turns to
/// its own left (towards the camera's right), roll > 0 clockwise on screen.
struct HeadPose {
  float pitch = 0.f;
  float yaw = 0.f;
  float roll = 0.f;
  /// Translation of the head centre in millimetres, camera coordinates
  /// (x right, y down, z forward; the generic face's origin, between the eyes).
  float tx = 0.f, ty = 0.f, tz = 0.f;
};

}  // namespace hicomex
