// Augmentation: crops, flip consistency (landmarks mirrored and permuted), seeding.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "fixtures.h"
#include "hicomex/align.h"
#include "hicomex/landmarks.h"
#include "training/augment.h"

using namespace hicomex::training;

namespace {

/// A 200x200 black face with 49 distinct landmarks, a white dot under landmark `marked`.
struct MarkedFace {
  cv::Mat rgb{200, 200, CV_8UC3, cv::Scalar::all(0)};
  std::vector<cv::Point2f> pts;
  explicit MarkedFace(int marked) {
    for (int i = 0; i < 49; ++i) pts.emplace_back(float(40 + (i * 7) % 120), float(50 + (i * 13) % 100));
    const auto& p = pts[marked];
    rgb.at<cv::Vec3b>(int(p.y), int(p.x)) = {255, 255, 255};
  }
};

AugmentOptions no_jitter(bool train, bool flip) {
  AugmentOptions o;
  o.train = train;
  o.flip = flip;
  o.brightness = o.contrast = o.saturation = 0.f;
  return o;
}

std::uint64_t seed_that_flips(bool want) {
  for (std::uint64_t s = 0;; ++s)
    if (augment_face(MarkedFace(0).rgb, {}, no_jitter(true, true), s).flipped == want) return s;
}

}  // namespace

TEST(Augment, TestModeTakesTheCentreCrop) {
  const MarkedFace f(0);
  const auto a = augment_face(f.rgb, f.pts, no_jitter(false, true), 123);
  EXPECT_EQ(a.rgb.size(), cv::Size(176, 176));
  EXPECT_EQ(a.offset_x, 12);
  EXPECT_EQ(a.offset_y, 12);
  EXPECT_FALSE(a.flipped);
  EXPECT_FLOAT_EQ(a.landmarks[5].x, f.pts[5].x - 12.f);
}

TEST(Augment, RandomCropMovesLandmarksWithThePixels) {
  const MarkedFace f(7);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto a = augment_face(f.rgb, f.pts, no_jitter(true, false), seed);
    const auto& p = a.landmarks[7];
    EXPECT_EQ(a.rgb.at<cv::Vec3b>(int(p.y), int(p.x))[0], 255) << "seed " << seed;
  }
}

TEST(Augment, FlipMirrorsTheImageAndPermutesLandmarks) {
  const std::uint64_t seed = seed_that_flips(true);
  for (int marked : {0, 19, 31, 45}) {  // brow end, eye, mouth corner, lip
    const MarkedFace f(marked);
    const auto flipped = augment_face(f.rgb, f.pts, no_jitter(true, true), seed);
    const auto plain = augment_face(f.rgb, f.pts, no_jitter(true, false), seed);
    ASSERT_TRUE(flipped.flipped);
    ASSERT_EQ(flipped.offset_x, plain.offset_x);  // same crop, only the flip differs
    cv::Mat mirrored;
    cv::flip(plain.rgb, mirrored, 1);
    EXPECT_EQ(cv::norm(flipped.rgb, mirrored, cv::NORM_INF), 0.0);
    const auto& perm = hicomex::flip_permutation49();
    int j = -1;  // the flipped point that names the marked one
    for (int i = 0; i < 49; ++i)
      if (perm[i] == marked) j = i;
    ASSERT_GE(j, 0);
    EXPECT_FLOAT_EQ(flipped.landmarks[j].x, 175.f - plain.landmarks[marked].x);
    EXPECT_FLOAT_EQ(flipped.landmarks[j].y, plain.landmarks[marked].y);
    const auto& p = flipped.landmarks[j];
    EXPECT_EQ(flipped.rgb.at<cv::Vec3b>(int(p.y), int(p.x))[0], 255) << "landmark " << marked;
  }
}

TEST(Augment, SameSeedSameResultOtherSeedOtherResult) {
  cv::Mat rgb(200, 200, CV_8UC3);
  cv::randu(rgb, 0, 255);
  AugmentOptions o;
  const auto a = augment_face(rgb, {}, o, 99), b = augment_face(rgb, {}, o, 99), c = augment_face(rgb, {}, o, 100);
  EXPECT_EQ(cv::norm(a.rgb, b.rgb, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(a.rgb, c.rgb, cv::NORM_INF), 0.0);
}

TEST(Augment, JitterChangesPixelsButNotGeometry) {
  const MarkedFace f(3);
  cv::Mat rgb = f.rgb.clone();
  rgb.setTo(cv::Scalar(100, 120, 140));
  AugmentOptions o;
  o.flip = false;
  const auto jittered = augment_face(rgb, f.pts, o, 5);
  const auto plain = augment_face(rgb, f.pts, no_jitter(true, false), 5);
  EXPECT_EQ(jittered.offset_x, plain.offset_x);
  EXPECT_EQ(jittered.landmarks, plain.landmarks);
  EXPECT_GT(cv::norm(jittered.rgb, plain.rgb, cv::NORM_INF), 0.0);
}

TEST(Augment, NormalisesToChwInMinusOneToOne) {
  cv::Mat rgb(200, 200, CV_8UC3, cv::Scalar(255, 0, 128));
  std::vector<float> out(3 * 176 * 176);
  augment_to_chw(rgb, {}, no_jitter(false, false), 0, out.data());
  EXPECT_FLOAT_EQ(out[0], 1.f);                    // R plane
  EXPECT_FLOAT_EQ(out[176 * 176], -1.f);           // G plane
  EXPECT_NEAR(out[2 * 176 * 176], 0.0039f, 1e-3);  // B plane, 128 / 255 * 2 - 1
}

TEST(Augment, RejectsASmallImageOrAWrongLandmarkCount) {
  EXPECT_THROW(augment_face(cv::Mat(100, 100, CV_8UC3), {}, {}, 0), std::invalid_argument);
  EXPECT_THROW(augment_face(cv::Mat(200, 200, CV_8UC3), {{1.f, 1.f}}, {}, 0), std::invalid_argument);
}

TEST(Augment, RescaledCacheFaceMatchesAligningStraightToTheModelsSize) {
  // A 200 cache face rescaled to 80 must be what align_face(..., 80) gives at inference.
  std::vector<cv::Point2f> pts68 = test::face68(160.f, 120.f, 100.f), pts49;
  for (int i : hicomex::landmarks49_from68_indices()) pts49.push_back(pts68[i]);
  const cv::Mat img = test::face_image(pts68);
  const auto big = hicomex::align_face(img, pts49, 200), direct = hicomex::align_face(img, pts49, 80);
  cv::Mat rescaled;
  std::vector<cv::Point2f> lm;
  rescale_aligned(big.image, big.landmarks, 80, rescaled, lm);
  ASSERT_EQ(rescaled.size(), cv::Size(80, 80));
  for (int k = 0; k < 49; ++k) {
    EXPECT_NEAR(lm[k].x, direct.landmarks[k].x, 1e-3);
    EXPECT_NEAR(lm[k].y, direct.landmarks[k].y, 1e-3);
  }
  cv::Mat diff;
  cv::absdiff(rescaled, direct.image, diff);
  EXPECT_LT(cv::mean(diff)[0], 6.0);  // two interpolations instead of one: close, not identical

  // augment_face rescales first when options.aligned differs, then centre-crops 64.
  AugmentOptions o;
  o.train = false;
  o.aligned = 80;
  o.crop = 64;
  const auto face = augment_face(big.image, big.landmarks, o, 1);
  EXPECT_EQ(face.rgb.size(), cv::Size(64, 64));
  EXPECT_NEAR(face.landmarks[13].x, direct.landmarks[13].x - 8.f, 1e-3);
}
