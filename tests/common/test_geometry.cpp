// Box helpers of hicomex/geometry.h: area, IoU, bounds and bounding boxes of points.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core/types.hpp>

#include "face_fixture.h"
#include "hicomex/geometry.h"

namespace hicomex {
namespace {

TEST(Geometry, AreaCountsANegativeSideAsZero) {
  EXPECT_FLOAT_EQ(area({1.f, 2.f, 3.f, 4.f}), 12.f);
  EXPECT_FLOAT_EQ(area({0.f, 0.f, -3.f, 4.f}), 0.f);
  EXPECT_FLOAT_EQ(area({0.f, 0.f, 3.f, -4.f}), 0.f);
  EXPECT_FLOAT_EQ(area({}), 0.f);
}

TEST(Geometry, IouOfIdenticalDisjointAndTouchingBoxes) {
  const Box a{10.f, 20.f, 30.f, 40.f};
  EXPECT_FLOAT_EQ(iou(a, a), 1.f);
  EXPECT_FLOAT_EQ(iou(a, {100.f, 100.f, 5.f, 5.f}), 0.f);
  EXPECT_FLOAT_EQ(iou(a, {40.f, 20.f, 30.f, 40.f}), 0.f);  // shares an edge only
  EXPECT_FLOAT_EQ(iou({}, {}), 0.f);                       // both empty: no division by zero
  EXPECT_FLOAT_EQ(iou(a, {}), 0.f);
}

TEST(Geometry, IouOfOverlappingBoxesIsSymmetric) {
  const Box a{0.f, 0.f, 10.f, 10.f}, b{5.f, 0.f, 10.f, 10.f};  // half of each overlaps
  EXPECT_FLOAT_EQ(iou(a, b), 50.f / 150.f);
  EXPECT_FLOAT_EQ(iou(b, a), iou(a, b));
  const Box inner{2.f, 2.f, 5.f, 5.f};  // inside a
  EXPECT_FLOAT_EQ(iou(a, inner), 25.f / 100.f);
}

TEST(Geometry, IouIgnoresTheNegativePartOfADegenerateBox) {
  // A box with a negative side has no area: it overlaps nothing.
  EXPECT_FLOAT_EQ(iou({0.f, 0.f, 10.f, 10.f}, {5.f, 5.f, -3.f, 4.f}), 0.f);
}

TEST(Geometry, BoundsAndBoundingBoxOfPoints) {
  const std::array<Point2f, 4> pts{{{3.f, -1.f}, {-2.f, 5.f}, {7.f, 2.f}, {0.f, 0.f}}};
  const Bounds b = bounds_of(pts);
  EXPECT_FLOAT_EQ(b.x0, -2.f);
  EXPECT_FLOAT_EQ(b.y0, -1.f);
  EXPECT_FLOAT_EQ(b.x1, 7.f);
  EXPECT_FLOAT_EQ(b.y1, 5.f);
  const Box box = bounding_box(pts);
  EXPECT_FLOAT_EQ(box.x, -2.f);
  EXPECT_FLOAT_EQ(box.y, -1.f);
  EXPECT_FLOAT_EQ(box.width, 9.f);
  EXPECT_FLOAT_EQ(box.height, 6.f);
}

TEST(Geometry, BoundingBoxOfOnePointAndOfNone) {
  const Box one = bounding_box(std::vector<Point2f>{{4.f, 5.f}});
  EXPECT_FLOAT_EQ(one.x, 4.f);
  EXPECT_FLOAT_EQ(one.y, 5.f);
  EXPECT_FLOAT_EQ(one.width, 0.f);
  EXPECT_FLOAT_EQ(one.height, 0.f);
  const Box none = bounding_box(std::vector<Point2f>{});
  EXPECT_FLOAT_EQ(none.width, 0.f);
  EXPECT_FLOAT_EQ(none.height, 0.f);
}

TEST(Geometry, BoundingBoxOf68LandmarksAnyPointType) {
  // The canonical face as OpenCV points and as the API's points: the same box,
  // equal to a plain min / max loop (what the tracker, the landmark crop and the
  // confidence used to write out each).
  const std::vector<cv::Point2f> cv_pts = test::canonical_face68();
  ASSERT_EQ(cv_pts.size(), 68u);
  std::array<Point2f, 68> pts;
  float x0 = cv_pts[0].x, y0 = cv_pts[0].y, x1 = x0, y1 = y0;
  for (std::size_t i = 0; i < 68; ++i) {
    pts[i] = {cv_pts[i].x, cv_pts[i].y};
    x0 = std::min(x0, cv_pts[i].x);
    y0 = std::min(y0, cv_pts[i].y);
    x1 = std::max(x1, cv_pts[i].x);
    y1 = std::max(y1, cv_pts[i].y);
  }
  const Box a = bounding_box(pts), b = bounding_box(cv_pts);
  EXPECT_EQ(a.x, x0);
  EXPECT_EQ(a.y, y0);
  EXPECT_EQ(a.width, x1 - x0);
  EXPECT_EQ(a.height, y1 - y0);
  EXPECT_EQ(b.x, a.x);
  EXPECT_EQ(b.y, a.y);
  EXPECT_EQ(b.width, a.width);
  EXPECT_EQ(b.height, a.height);
  // 3D points (the synthetic renderer's projected vertices) use x and y.
  const std::vector<cv::Point3f> p3{{1.f, 2.f, 9.f}, {-1.f, 4.f, -9.f}};
  const Bounds c = bounds_of(p3);
  EXPECT_FLOAT_EQ(c.x0, -1.f);
  EXPECT_FLOAT_EQ(c.y1, 4.f);
}

}  // namespace
}  // namespace hicomex
