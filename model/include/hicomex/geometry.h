// Plain geometry types shared by the core API and the glue (no OpenCV, no torch),
// and the few box helpers every part uses (one definition: src/common/geometry.cpp).
#pragma once
#include <iterator>

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

/// Area of a box; a negative side counts as 0.
float area(const Box& b);

/// Intersection over union of two boxes, in [0, 1]; 0 when both are empty.
float iou(const Box& a, const Box& b);

/// Corners of an axis-aligned region: (x0, y0) top-left, (x1, y1) bottom-right.
struct Bounds {
  float x0 = 0.f;
  float y0 = 0.f;
  float x1 = 0.f;
  float y1 = 0.f;
};

/// Smallest and largest x and y of a range of points: anything with float
/// members `x` and `y` (Point2f, cv::Point2f, cv::Point3f), e.g. a face's 68
/// landmarks. An empty range gives all zeros.
template <class Points>
Bounds bounds_of(const Points& points) {
  auto it = std::begin(points);
  const auto end = std::end(points);
  if (it == end) return {};
  Bounds b{it->x, it->y, it->x, it->y};
  for (; it != end; ++it) {
    // std::min / std::max, spelled out so this header needs no <algorithm>.
    if (it->x < b.x0) b.x0 = it->x;
    if (it->y < b.y0) b.y0 = it->y;
    if (b.x1 < it->x) b.x1 = it->x;
    if (b.y1 < it->y) b.y1 = it->y;
  }
  return b;
}

/// Bounding box of a range of points (see bounds_of()).
template <class Points>
Box bounding_box(const Points& points) {
  const Bounds b = bounds_of(points);
  return {b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0};
}

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
