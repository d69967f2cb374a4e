// The landmark check and its reuse (analyzer/landmark_confidence.h) on a real
// photo with the real BlazeFace verifier and landmark net, and in FaceAnalyzer:
// the check is skipped only while the face's crop shows the same picture, and
// runs at once when the crop changes.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "analyzer/landmark_confidence.h"
#include "analyzer_fixtures.h"
#include "hicomex/face_analyzer.h"
#include "hicomex/face_detector.h"
#include "hicomex/landmarker.h"

using namespace hicomex;
using namespace hicomex::test;

namespace {

struct CropCase {
  cv::Mat rgb;
  Box square;
  cv::Mat crop;
  Landmarks68 points;  // image pixels
  Detection detection;
};

// Grace Hopper's face as the analyzer sees it on a detection frame: the
// detection, the landmark square, its crop and the landmarks in image pixels.
const CropCase& grace_case() {
  static const CropCase c = [] {
    CropCase k;
    k.rgb = load_rgb(kGraceHopper);
    auto dets = make_face_detector("blazeface")->detect(k.rgb);
    if (dets.size() != 1) throw std::runtime_error("expected one face in " + kGraceHopper);
    k.detection = dets[0];
    k.square = landmark_crop_box(k.detection.box, LandmarkerOptions{});
    k.crop = crop_face(k.rgb, k.square, Landmarker68::kInputSize);
    Landmarker68 lm;
    k.points = lm.run_crops({k.crop})[0];
    const float s = k.square.width / Landmarker68::kInputSize;
    for (auto& p : k.points) p = {k.square.x + p.x * s, k.square.y + p.y * s};
    return k;
  }();
  return c;
}

// The same square cut from a photo without a face.
cv::Mat landscape_crop(const Box& square) {
  cv::Mat land = load_rgb(kLandscape);
  return crop_face(land, square, Landmarker68::kInputSize);
}

}  // namespace

TEST(LandmarkConfidence, ReusesACheckWhileTheCropShowsTheSamePictureUpToTheInterval) {
  const CropCase& g = grace_case();
  LandmarkConfidence lc;
  bool ran = false;
  const float first = lc.for_track(7, g.crop, g.square, g.points, nullptr, 3, &ran);
  EXPECT_TRUE(ran);
  EXPECT_GE(first, 0.5f);
  EXPECT_FLOAT_EQ(first, lc.from_crop(g.crop, g.square, g.points));
  // Two frames reuse it (brighter and lower contrast is still the same picture) ...
  EXPECT_FLOAT_EQ(lc.for_track(7, g.crop, g.square, g.points, nullptr, 3, &ran), first);
  EXPECT_FALSE(ran);
  cv::Mat brighter;
  g.crop.convertTo(brighter, -1, 0.8, 30.0);
  EXPECT_FLOAT_EQ(lc.for_track(7, brighter, g.square, g.points, nullptr, 3, &ran), first);
  EXPECT_FALSE(ran);
  // ... and the third runs the check again.
  lc.for_track(7, g.crop, g.square, g.points, nullptr, 3, &ran);
  EXPECT_TRUE(ran);
}

TEST(LandmarkConfidence, ChecksAtOnceWhenTheCropChanges) {
  const CropCase& g = grace_case();
  LandmarkConfidence lc;
  bool ran = false;
  EXPECT_GE(lc.for_track(1, g.crop, g.square, g.points, nullptr, 10, &ran), 0.5f);
  // The face left its crop: the same square now shows a landscape.
  const float c = lc.for_track(1, landscape_crop(g.square), g.square, g.points, nullptr, 10, &ran);
  EXPECT_TRUE(ran);
  EXPECT_LT(c, 0.5f);
  // The check that found nothing is reused while nothing changes: still low.
  EXPECT_LT(lc.for_track(1, landscape_crop(g.square), g.square, g.points, nullptr, 10, &ran), 0.5f);
  EXPECT_FALSE(ran);
}

TEST(LandmarkConfidence, IntervalOneChecksEveryFrame) {
  const CropCase& g = grace_case();
  LandmarkConfidence lc;
  for (int frame = 0; frame < 3; ++frame) {
    bool ran = false;
    lc.for_track(1, g.crop, g.square, g.points, nullptr, 1, &ran);
    EXPECT_TRUE(ran) << "frame " << frame;
  }
}

TEST(LandmarkConfidence, ADetectionFrameCountsAsTheCheckAndMovesWithTheSquare) {
  const CropCase& g = grace_case();
  LandmarkConfidence lc;
  bool ran = true;
  const float on_detection = lc.for_track(2, g.crop, g.square, g.points, &g.detection, 3, &ran);
  EXPECT_FALSE(ran);
  EXPECT_FLOAT_EQ(on_detection, LandmarkConfidence::from_detection(g.detection, g.points));
  // Next frame, the face (crop, square and points) moved 20 px right: the
  // reused detection moves with the square, so the agreement holds.
  Box moved = g.square;
  moved.x += 20.f;
  Landmarks68 points = g.points;
  for (auto& p : points) p.x += 20.f;
  EXPECT_NEAR(lc.for_track(2, g.crop, moved, points, nullptr, 3, &ran), on_detection, 1e-4f);
  EXPECT_FALSE(ran);
  // Points that slid off the face inside an unchanged crop lose the agreement.
  for (auto& p : points) p.y += 0.6f * g.square.height;
  EXPECT_LT(lc.for_track(2, g.crop, moved, points, nullptr, 3, &ran), 0.5f * on_detection);
}

TEST(LandmarkConfidence, ForgetsTracksNotRetainedAndNeverReusesAFlatCrop) {
  const CropCase& g = grace_case();
  LandmarkConfidence lc;
  bool ran = false;
  lc.for_track(3, g.crop, g.square, g.points, nullptr, 5, &ran);
  lc.retain({4});
  lc.for_track(3, g.crop, g.square, g.points, nullptr, 5, &ran);
  EXPECT_TRUE(ran);
  const cv::Mat flat(g.crop.size(), g.crop.type(), cv::Scalar::all(90));
  const auto t = LandmarkConfidence::thumbnail(flat);
  EXPECT_FLOAT_EQ(LandmarkConfidence::similarity(t, t), 0.f);
  for (int frame = 0; frame < 2; ++frame) {
    lc.for_track(5, flat, g.square, g.points, nullptr, 5, &ran);
    EXPECT_TRUE(ran) << "frame " << frame;
  }
}

AnalyzerOptions checking_options(int verify_interval) {
  AnalyzerOptions o;
  o.engine.weights = write_small_model(process_temp_dir().file("hicomex_analyzer_small.safetensors"));
  o.engine.device = "cpu";
  o.tracker.detection_interval = 50;
  o.tracker.verify_interval = verify_interval;
  return o;
}

TEST(LandmarkConfidence, AnalyzerChecksAStillFaceOnlyWhileItsCropSettlesThenWhenThePictureChanges) {
  // An interval longer than the clip: a check runs only because the crop changed.
  FaceAnalyzer a(checking_options(100));
  const cv::Mat& grace = grace_case().rgb;
  const ImageView still = ImageView::packed(grace.data, grace.cols, grace.rows, PixelFormat::RGB);
  // The first frames after a detection move the crop square from the detection
  // box onto the landmarks (new pictures, so checks); then it stays put up to
  // the landmark net's jitter of a pixel or two, which is the same picture.
  int settling_checks = 0, still_checks = 0;
  for (int frame = 0; frame < 10; ++frame) {
    const auto faces = a.process(still, frame * 40'000'000LL);
    ASSERT_EQ(faces.size(), 1u) << "frame " << frame;
    EXPECT_TRUE(faces[0].success) << "frame " << frame;
    EXPECT_EQ(a.last_timing().detector_ran, frame == 0) << "frame " << frame;
    (frame < 4 ? settling_checks : still_checks) += a.last_timing().landmark_checks;
  }
  EXPECT_LE(settling_checks, 3);
  EXPECT_LE(still_checks, 1);  // of 6 frames; with verify_interval 1 all 6 check (next test)
  // The face is gone from the picture: the check runs at once and the face is
  // lost there ...
  cv::Mat land = load_rgb(kLandscape);
  cv::resize(land, land, grace.size());
  const ImageView empty = ImageView::packed(land.data, land.cols, land.rows, PixelFormat::RGB);
  const auto gone = a.process(empty, 10 * 40'000'000LL);
  EXPECT_FALSE(a.last_timing().detector_ran);
  EXPECT_EQ(a.last_timing().landmark_checks, 1);
  for (const auto& f : gone) EXPECT_FALSE(f.success);
  // ... so the detector runs on the next frame, long before its interval.
  a.process(empty, 11 * 40'000'000LL);
  EXPECT_TRUE(a.last_timing().detector_ran);
}

TEST(LandmarkConfidence, AnalyzerWithIntervalOneChecksEveryFrameBetweenDetections) {
  FaceAnalyzer a(checking_options(1));
  const cv::Mat& grace = grace_case().rgb;
  const ImageView still = ImageView::packed(grace.data, grace.cols, grace.rows, PixelFormat::RGB);
  for (int frame = 0; frame < 6; ++frame) {
    a.process(still, frame * 40'000'000LL);
    EXPECT_EQ(a.last_timing().landmark_checks, frame == 0 ? 0 : 1) << "frame " << frame;
  }
}
