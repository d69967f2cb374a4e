// Face alignment to 200x200, crops and normalisation.
#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "face_fixture.h"
#include "hicomex/align.h"
#include "hicomex/geometry.h"
#include "hicomex/landmarks.h"

namespace hicomex {
namespace {

std::vector<cv::Point2f> canonical49() { return landmarks68_to_49(test::canonical_face68()); }

TEST(AlignmentTransform, MatchesTheHandComputedBoxForALevelFace) {
  // Eye centres (70, 79.67) and (130, 79.67), nose tip (100, 105), mouth corners
  // (78, 135) and (122, 135): box 60 x 55.33, centre (100, 107.33), half size
  // 0.5 * 2.9 * 60 = 87, scale 99.5 / 87.
  const cv::Matx23d m = alignment_transform49(canonical49());
  const double s = 99.5 / 87.0, cy = 0.5 * (478.0 / 6.0 + 135.0);
  EXPECT_NEAR(m(0, 0), s, 1e-9);
  EXPECT_NEAR(m(0, 1), 0.0, 1e-9);
  EXPECT_NEAR(m(1, 0), 0.0, 1e-9);
  EXPECT_NEAR(m(1, 1), s, 1e-9);
  EXPECT_NEAR(m(0, 2), 99.5 - s * 100.0, 1e-6);
  EXPECT_NEAR(m(1, 2), 99.5 - s * cy, 1e-4);
}

TEST(AlignmentTransform, MapsARotatedScaledShiftedFaceBackToTheCanonicalOne) {
  const auto pts = canonical49();
  const auto reference = transform_points(pts, alignment_transform49(pts));
  for (double angle : {-40.0, -12.5, 0.0, 25.0, 60.0})
    for (double scale : {0.4, 1.0, 3.7}) {
      const auto moved = test::similarity(pts, angle, scale, {313.0, -41.0});
      const auto aligned = transform_points(moved, alignment_transform49(moved));
      for (int i = 0; i < 49; ++i) {
        EXPECT_NEAR(aligned[i].x, reference[i].x, 2e-3) << angle << " " << scale << " point " << i;
        EXPECT_NEAR(aligned[i].y, reference[i].y, 2e-3) << angle << " " << scale << " point " << i;
      }
    }
}

TEST(AlignmentTransform, LevelsTheEyesAndCentresTheFiveBox) {
  const auto moved = test::similarity(canonical49(), 33.0, 2.2, {50.0, 80.0});
  const auto aligned = transform_points(moved, alignment_transform49(moved));
  const cv::Point2f l = left_eye_centre49(aligned), r = right_eye_centre49(aligned);
  EXPECT_NEAR(l.y, r.y, 1e-3);
  EXPECT_LT(l.x, r.x);
  // The symmetric fixture puts the eyes' midpoint on the vertical centre line.
  EXPECT_NEAR(0.5 * (l.x + r.x), 99.5, 1e-3);
  const cv::Point2f five[] = {l, r, aligned[13], aligned[31], aligned[37]};
  const auto [x0, y0, x1, y1] = bounds_of(five);
  EXPECT_NEAR(0.5 * (x0 + x1), 99.5, 1e-3);
  EXPECT_NEAR(0.5 * (y0 + y1), 99.5, 1e-3);
  EXPECT_NEAR(std::max(x1 - x0, y1 - y0), 199.0 / 2.9, 1e-3);
}

TEST(AlignmentTransform, RejectsBadLandmarks) {
  EXPECT_THROW(alignment_transform49(std::vector<cv::Point2f>(68)), std::invalid_argument);
  EXPECT_THROW(alignment_transform49(std::vector<cv::Point2f>(49)), std::invalid_argument);
  auto pts = canonical49();
  pts[40].x = NAN;
  EXPECT_THROW(alignment_transform49(pts), std::invalid_argument);
}

TEST(AlignFace, WarpsTheImageWithTheSameTransformAsTheLandmarks) {
  // A bright dot at the nose tip must end up at the aligned nose tip.
  const auto pts = test::similarity(canonical49(), -20.0, 1.5, {60.0, 90.0});
  cv::Mat image(400, 400, CV_8UC3, cv::Scalar(20, 20, 20));
  cv::circle(image, cv::Point(cvRound(pts[13].x), cvRound(pts[13].y)), 3, cv::Scalar(250, 250, 250), cv::FILLED);
  const AlignedFace face = align_face(image, pts);
  ASSERT_EQ(face.image.size(), cv::Size(kAlignedSize, kAlignedSize));
  ASSERT_EQ(face.image.type(), CV_8UC3);
  const cv::Point2f nose = face.landmarks[13];
  EXPECT_GT(face.image.at<cv::Vec3b>(cvRound(nose.y), cvRound(nose.x))[0], 200);
  EXPECT_LT(face.image.at<cv::Vec3b>(cvRound(nose.y) + 15, cvRound(nose.x))[0], 40);
  const auto expected = transform_points(pts, face.transform);
  EXPECT_NEAR(face.landmarks[31].x, expected[31].x, 1e-4);
}

TEST(AlignFace, FillsOutsideTheImageWithGrey128InEveryChannel) {
  // The face sits at the top-left corner of a 60x60 image, so the aligned
  // square reaches past the image edges.
  const auto pts = test::similarity(canonical49(), 0.0, 0.3, {-20.0, -20.0});
  for (int type : {CV_8UC1, CV_8UC3, CV_8UC4}) {
    cv::Mat image(60, 60, type, cv::Scalar::all(7));
    const AlignedFace face = align_face(image, pts);
    ASSERT_EQ(face.image.type(), type);
    const cv::Mat corner = face.image(cv::Rect(0, 0, 1, 1));
    const cv::Mat centre = face.image(cv::Rect(100, 100, 1, 1));
    for (int c = 0; c < image.channels(); ++c) {
      EXPECT_EQ(corner.ptr<std::uint8_t>(0)[c], 128) << "channel " << c;
      EXPECT_EQ(centre.ptr<std::uint8_t>(0)[c], 7) << "channel " << c;
    }
  }
}

TEST(AlignFace, RejectsImagesItCannotWarp) {
  EXPECT_THROW(align_face(cv::Mat(), canonical49()), std::invalid_argument);
  EXPECT_THROW(align_face(cv::Mat(50, 50, CV_32FC3), canonical49()), std::invalid_argument);
}

TEST(InvertTransform, UndoesTheTransform) {
  const auto pts = test::similarity(canonical49(), 17.0, 0.8, {5.0, 9.0});
  const cv::Matx23d m = alignment_transform49(pts);
  const auto back = transform_points(transform_points(pts, m), invert_transform(m));
  for (int i = 0; i < 49; ++i) {
    EXPECT_NEAR(back[i].x, pts[i].x, 1e-3);
    EXPECT_NEAR(back[i].y, pts[i].y, 1e-3);
  }
  EXPECT_THROW(invert_transform(cv::Matx23d(1, 2, 0, 2, 4, 0)), std::invalid_argument);
}

TEST(CentreCrop, IsTwelvePixelsInFor176From200) {
  EXPECT_EQ(centre_crop_offset(), 12);
  EXPECT_EQ(centre_crop_offset(200, 176), 12);
  EXPECT_THROW(centre_crop_offset(176, 200), std::invalid_argument);
}

TEST(NormaliseRgbToChw, ScalesToMinusOneOneInPlanarRgbOrder) {
  cv::Mat crop(2, 3, CV_8UC3, cv::Scalar(0, 255, 51));
  crop.at<cv::Vec3b>(1, 2) = cv::Vec3b(255, 0, 102);
  std::vector<float> out(3 * 2 * 3, 99.f);
  normalise_rgb_to_chw(crop, out.data());
  EXPECT_FLOAT_EQ(out[0], -1.f);               // R plane, (0, 0)
  EXPECT_FLOAT_EQ(out[6], 1.f);                // G plane, (0, 0)
  EXPECT_NEAR(out[12], 51 / 127.5 - 1, 1e-6);  // B plane, (0, 0)
  EXPECT_FLOAT_EQ(out[5], 1.f);                // R plane, (1, 2)
  EXPECT_FLOAT_EQ(out[11], -1.f);              // G plane, (1, 2)
  EXPECT_NEAR(out[17], 102 / 127.5 - 1, 1e-6);
  EXPECT_THROW(normalise_rgb_to_chw(cv::Mat(2, 2, CV_8UC4), out.data()), std::invalid_argument);
}

}  // namespace
}  // namespace hicomex
