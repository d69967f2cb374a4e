// Landmark schemes, flips and the AU catalogue.
#include <iterator>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "face_fixture.h"
#include "hicomex/au_catalog.h"
#include "hicomex/landmarks.h"

namespace hicomex {
namespace {

using test::canonical_face68;

void expect_same(const std::vector<cv::Point2f>& a, const std::vector<cv::Point2f>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_FLOAT_EQ(a[i].x, b[i].x) << "point " << i;
    EXPECT_FLOAT_EQ(a[i].y, b[i].y) << "point " << i;
  }
}

TEST(Landmarks68To49, DropsTheJawAndTheInnerMouthCorners) {
  const auto& idx = landmarks49_from68_indices();
  std::set<int> chosen(idx.begin(), idx.end());
  EXPECT_EQ(chosen.size(), 49u);
  for (int i = 0; i <= 16; ++i) EXPECT_EQ(chosen.count(i), 0u) << "jaw point " << i;
  EXPECT_EQ(chosen.count(60), 0u);
  EXPECT_EQ(chosen.count(64), 0u);
  // Anchors the rest of the code relies on.
  EXPECT_EQ(idx[0], 17);   // first brow point
  EXPECT_EQ(idx[13], 30);  // nose tip
  EXPECT_EQ(idx[19], 36);  // outer corner of the image-left eye
  EXPECT_EQ(idx[22], 39);  // inner corners
  EXPECT_EQ(idx[25], 42);
  EXPECT_EQ(idx[31], 48);  // mouth corners
  EXPECT_EQ(idx[37], 54);
  EXPECT_EQ(idx[43], 61);
  EXPECT_EQ(idx[46], 65);
  EXPECT_EQ(idx[48], 67);
}

TEST(Landmarks68To49, SelectsThePointsAtThoseIndices) {
  std::vector<cv::Point2f> pts68(68);
  for (int i = 0; i < 68; ++i) pts68[i] = cv::Point2f(static_cast<float>(i), 1000.f + i);
  const auto pts49 = landmarks68_to_49(pts68);
  ASSERT_EQ(pts49.size(), 49u);
  for (int i = 0; i < 49; ++i) EXPECT_EQ(pts49[i].x, landmarks49_from68_indices()[i]);
  EXPECT_THROW(landmarks68_to_49(std::vector<cv::Point2f>(67)), std::invalid_argument);
}

TEST(Landmarks66To49, PicksTheSamePointsAsFrom68) {
  // Drop 60 and 64 from a 68-point set to get DISFA's 66: the 49 must agree.
  const auto pts68 = canonical_face68();
  std::vector<cv::Point2f> pts66;
  for (int i = 0; i < 68; ++i)
    if (i != 60 && i != 64) pts66.push_back(pts68[i]);
  expect_same(landmarks66_to_49(pts66), landmarks68_to_49(pts68));
  EXPECT_THROW(landmarks66_to_49(pts68), std::invalid_argument);
}

TEST(FlipPermutation, IsItsOwnInverseFor49And68Points) {
  const auto& p49 = flip_permutation49();
  for (int i = 0; i < 49; ++i) EXPECT_EQ(p49[p49[i]], i) << i;
  const auto& p68 = flip_permutation68();
  for (int i = 0; i < 68; ++i) EXPECT_EQ(p68[p68[i]], i) << i;
}

TEST(FlipPermutation, Of49AgreesWithThe68PointMirror) {
  const auto& idx = landmarks49_from68_indices();
  for (int i = 0; i < 49; ++i) EXPECT_EQ(idx[flip_permutation49()[i]], flip_permutation68()[idx[i]]) << i;
}

TEST(FlipLandmarks, TwiceIsTheIdentity) {
  const auto pts68 = test::similarity(canonical_face68(), 13.0, 1.3, {20, 7});
  expect_same(flip_landmarks(flip_landmarks(pts68, 321), 321), pts68);
  const auto pts49 = landmarks68_to_49(pts68);
  expect_same(flip_landmarks(flip_landmarks(pts49, 250), 250), pts49);
}

TEST(FlipLandmarks, MapsASymmetricFaceOntoItself) {
  // The fixture is symmetric about x = 100, so mirroring in a 201-pixel-wide
  // image only swaps left and right names: every point lands on its twin.
  const auto pts68 = canonical_face68();
  const auto flipped68 = flip_landmarks(pts68, 201);
  for (int i = 0; i < 68; ++i) {
    EXPECT_NEAR(flipped68[i].x, pts68[i].x, 1e-4) << i;
    EXPECT_NEAR(flipped68[i].y, pts68[i].y, 1e-4) << i;
  }
  const auto pts49 = landmarks68_to_49(pts68);
  const auto flipped49 = flip_landmarks(pts49, 201);
  for (int i = 0; i < 49; ++i) {
    EXPECT_NEAR(flipped49[i].x, pts49[i].x, 1e-4) << i;
    EXPECT_NEAR(flipped49[i].y, pts49[i].y, 1e-4) << i;
  }
}

TEST(FlipLandmarks, SwapsTheLeftAndRightEyes) {
  const auto pts49 = landmarks68_to_49(test::similarity(canonical_face68(), 0, 1.0, {37, 0}));
  const int width = 300;
  const auto flipped = flip_landmarks(pts49, width);
  const cv::Point2f l = left_eye_centre49(pts49), r = right_eye_centre49(pts49);
  const cv::Point2f fl = left_eye_centre49(flipped), fr = right_eye_centre49(flipped);
  // The new left eye is the mirror image of the old right eye, and vice versa.
  EXPECT_NEAR(fl.x, width - 1 - r.x, 1e-4);
  EXPECT_NEAR(fr.x, width - 1 - l.x, 1e-4);
  EXPECT_NEAR(fl.y, r.y, 1e-4);
  EXPECT_LT(fl.x, fr.x);  // still left of right in the image
  // Outer corner of the left eye (19) comes from the right eye's outer corner (28).
  EXPECT_NEAR(flipped[19].x, width - 1 - pts49[28].x, 1e-4);
  // Mouth corners swap too.
  EXPECT_NEAR(flipped[31].x, width - 1 - pts49[37].x, 1e-4);
}

TEST(FlipLandmarks, RejectsOtherPointCounts) {
  EXPECT_THROW(flip_landmarks(std::vector<cv::Point2f>(66), 100), std::invalid_argument);
}

TEST(EyeCentres, AreTheMeansOfTheSixEyePoints) {
  const auto pts49 = landmarks68_to_49(canonical_face68());
  const cv::Point2f l = left_eye_centre49(pts49), r = right_eye_centre49(pts49);
  EXPECT_FLOAT_EQ(l.x, 70.f);
  EXPECT_NEAR(l.y, 478.f / 6.f, 1e-4);
  EXPECT_FLOAT_EQ(r.x, 130.f);
  EXPECT_FLOAT_EQ(inter_ocular49(pts49), 60.f);
  EXPECT_THROW(inter_ocular49(std::vector<cv::Point2f>(68)), std::invalid_argument);
}

TEST(AuCatalog, NamesTheActionUnitsWithFacsNames) {
  EXPECT_STREQ(au_info(1).name, "Inner Brow Raiser");
  EXPECT_STREQ(au_info(12).name, "Lip Corner Puller");
  EXPECT_STREQ(au_info(26).name, "Jaw Drop");
  EXPECT_EQ(au_label(12), "AU12");
  EXPECT_FALSE(is_known_au(3));
  EXPECT_THROW(au_info(3), std::invalid_argument);
}

TEST(AuCatalog, IsSortedAndCoversEveryDatasetAu) {
  const auto& c = au_catalog();
  for (std::size_t i = 1; i < c.size(); ++i) EXPECT_LT(c[i - 1].id, c[i].id);
  for (const auto* set : {&bp4d_aus(), &disfa_aus(), &synthetic_aus()})
    for (int au : *set) EXPECT_TRUE(is_known_au(au)) << au;
  EXPECT_EQ(bp4d_aus().size(), 12u);
  EXPECT_EQ(disfa_aus().size(), 8u);
  EXPECT_EQ(synthetic_aus().size(), 17u);
}

TEST(AuCatalog, SyntheticAusAreTheGeneratorsListAscending) {
  // training/synth's rendered_aus() is built from kSyntheticAus too.
  const auto& aus = synthetic_aus();
  EXPECT_EQ(aus, std::vector<int>(std::begin(kSyntheticAus), std::end(kSyntheticAus)));
  for (std::size_t i = 1; i < aus.size(); ++i) EXPECT_LT(aus[i - 1], aus[i]);
}

}  // namespace
}  // namespace hicomex
