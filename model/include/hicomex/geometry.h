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
struct HeadPose {
  float pitch = 0.f;
  float yaw = 0.f;
  float roll = 0.f;
  /// Translation of the head centre in millimetres, camera coordinates.
  float tx = 0.f, ty = 0.f, tz = 0.f;
};

}  // namespace hicomex
