// FaceAnalyzer on real photos with the real detector and landmark net and an
// untrained small AU model: faces, landmarks, AU vectors and thresholds, pixel
// formats and strides, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "analyzer_fixtures.h"
#include "hicomex/face_analyzer.h"
#include "hicomex/geometry.h"

using namespace hicomex;
using namespace hicomex::test;

namespace {

std::string small_model() {
  static const std::string path = write_small_model(process_temp_dir().file("hicomex_analyzer_small.safetensors"));
  return path;
}

AnalyzerOptions test_options() {
  AnalyzerOptions o;
  o.engine.weights = small_model();
  o.engine.device = "cpu";
  o.threads = 2;
  return o;
}

// One analyzer for the suite: loading the nets is the slow part.
FaceAnalyzer& shared_analyzer() {
  static FaceAnalyzer analyzer(test_options());
  return analyzer;
}

std::vector<FaceResult> analyze_once(FaceAnalyzer& a, const ImageView& v) {
  a.reset();
  return a.process(v, 0);
}

const cv::Mat& grace() {
  static const cv::Mat rgb = load_rgb(kGraceHopper);
  return rgb;
}

// Mean landmark distance between two results, relative to the face box size.
float landmark_error(const FaceResult& a, const FaceResult& b) {
  double sum = 0.0;
  for (int k = 0; k < 68; ++k)
    sum += std::hypot(a.landmarks[k].x - b.landmarks[k].x, a.landmarks[k].y - b.landmarks[k].y);
  return static_cast<float>(sum / 68.0 / std::max(a.box.width, a.box.height));
}

}  // namespace

TEST(FaceAnalyzer, FindsGraceHoppersFaceWithLandmarksInsideItsBox) {
  FaceAnalyzer& a = shared_analyzer();
  const auto faces = analyze_once(a, ImageView::packed(grace().data, grace().cols, grace().rows, PixelFormat::RGB));
  ASSERT_EQ(faces.size(), 1u);
  const FaceResult& f = faces[0];
  EXPECT_GE(f.track_id, 0);
  EXPECT_TRUE(f.success);
  EXPECT_GE(f.confidence, 0.5f);
  EXPECT_GT(f.detection_score, 0.5f);
  // The face fills the middle of the 512x512 portrait.
  EXPECT_GT(f.box.width, 150.f);
  EXPECT_LT(f.box.width, 400.f);
  EXPECT_GT(f.box.x, 0.f);
  EXPECT_GT(f.box.y, 0.f);
  EXPECT_LT(f.box.x + f.box.width, 512.f);
  EXPECT_LT(f.box.y + f.box.height, 512.f);
  for (const auto& p : f.landmarks) {
    EXPECT_GE(p.x, f.box.x - 1.f);
    EXPECT_LE(p.x, f.box.x + f.box.width + 1.f);
    EXPECT_GE(p.y, f.box.y - 1.f);
    EXPECT_LE(p.y, f.box.y + f.box.height + 1.f);
  }
  // Eyes above the nose tip above the mouth, subject's right eye on the image left.
  EXPECT_LT(f.landmarks[36].x, f.landmarks[45].x);
  EXPECT_LT(f.landmarks[37].y, f.landmarks[30].y);
  EXPECT_LT(f.landmarks[30].y, f.landmarks[57].y);
  EXPECT_LT(std::fabs(f.pose.yaw), 35.f);
  EXPECT_LT(std::fabs(f.pose.roll), 25.f);
}

TEST(FaceAnalyzer, ReportsOneAuValueOfEachKindPerModelAu) {
  FaceAnalyzer& a = shared_analyzer();
  const auto faces = analyze_once(a, ImageView::packed(grace().data, grace().cols, grace().rows, PixelFormat::RGB));
  ASSERT_EQ(faces.size(), 1u);
  const FaceResult& f = faces[0];
  EXPECT_EQ(a.model_id(), "hicomex-test-small");
  EXPECT_EQ(a.au_ids(), (std::vector<int>{1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24}));
  EXPECT_EQ(f.au_ids, a.au_ids());
  ASSERT_EQ(f.au_probability.size(), 12u);
  ASSERT_EQ(f.au_occurrence.size(), 12u);
  const auto thresholds = small_model_thresholds();
  EXPECT_EQ(a.model_thresholds(), thresholds);
  for (size_t k = 0; k < 12; ++k) {
    EXPECT_GE(f.au_probability[k], 0.f);
    EXPECT_LE(f.au_probability[k], 1.f);
    EXPECT_EQ(f.au_occurrence[k], f.au_probability[k] >= thresholds[k] ? 1 : 0) << "AU" << f.au_ids[k];
  }
}

TEST(FaceAnalyzer, AppliesThresholdOverridesFromTheNextFrame) {
  FaceAnalyzer a(test_options());
  const ImageView v = ImageView::packed(grace().data, grace().cols, grace().rows, PixelFormat::RGB);
  const auto base = a.process(v, 0);
  ASSERT_EQ(base.size(), 1u);
  a.set_thresholds({0.f});
  const auto all_on = a.process(v, 1).at(0).au_occurrence;
  EXPECT_EQ(all_on, std::vector<std::uint8_t>(12, 1));
  a.set_thresholds({1.f});
  const auto all_off = a.process(v, 2).at(0).au_occurrence;
  EXPECT_EQ(all_off, std::vector<std::uint8_t>(12, 0));
  // Per AU: on for the even positions, off for the odd ones.
  std::vector<float> per_au;
  for (size_t k = 0; k < 12; ++k) per_au.push_back(k % 2 == 0 ? 0.f : 1.f);
  a.set_thresholds(per_au);
  const auto f = a.process(v, 3).at(0);
  EXPECT_EQ(a.thresholds(), per_au);
  for (size_t k = 0; k < 12; ++k) EXPECT_EQ(f.au_occurrence[k], k % 2 == 0 ? 1 : 0) << "AU" << f.au_ids[k];
  a.set_thresholds({});
  EXPECT_EQ(a.thresholds(), small_model_thresholds());
}

TEST(FaceAnalyzer, RejectsAThresholdListOfTheWrongLength) {
  FaceAnalyzer& a = shared_analyzer();
  try {
    a.set_thresholds({0.1f, 0.2f});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("thresholds"), std::string::npos) << e.what();
  }
  EXPECT_THROW(a.set_thresholds({1.5f}), std::invalid_argument);
  EXPECT_THROW(a.set_detection_interval(0), std::invalid_argument);
}

TEST(FaceAnalyzer, FindsNoFaceInALandscape) {
  const cv::Mat rgb = load_rgb(kLandscape);
  EXPECT_TRUE(
      analyze_once(shared_analyzer(), ImageView::packed(rgb.data, rgb.cols, rgb.rows, PixelFormat::RGB)).empty());
}

TEST(FaceAnalyzer, GivesTheSameResultInEveryPixelFormat) {
  FaceAnalyzer& a = shared_analyzer();
  const OwnedFrame rgb_frame = make_frame(grace(), PixelFormat::RGB);
  const auto ref = analyze_once(a, rgb_frame.view);
  ASSERT_EQ(ref.size(), 1u);
  for (PixelFormat f :
       {PixelFormat::BGR, PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::RGBx, PixelFormat::BGRx, PixelFormat::xRGB,
        PixelFormat::xBGR, PixelFormat::I420, PixelFormat::NV12, PixelFormat::GRAY8}) {
    for (int padding : {0, 13}) {
      const OwnedFrame frame = make_frame(grace(), f, padding);
      const auto got = analyze_once(a, frame.view);
      ASSERT_EQ(got.size(), 1u) << to_string(f) << " padding " << padding;
      const bool same_pixels = f != PixelFormat::I420 && f != PixelFormat::NV12 && f != PixelFormat::GRAY8;
      if (same_pixels) {
        // The same RGB pixels reach the nets: the same numbers.
        EXPECT_NEAR(got[0].box.x, ref[0].box.x, 1e-3) << to_string(f);
        EXPECT_NEAR(got[0].box.width, ref[0].box.width, 1e-3) << to_string(f);
        EXPECT_LT(landmark_error(got[0], ref[0]), 1e-5f) << to_string(f);
        EXPECT_EQ(got[0].au_occurrence, ref[0].au_occurrence) << to_string(f);
      } else if (f == PixelFormat::GRAY8) {
        // The detector sees another picture; it must still find the face.
        EXPECT_GT(iou(got[0].box, ref[0].box), 0.7f) << to_string(f);
      } else {
        // Chroma subsampling and the YUV round trip move pixels by a few levels.
        EXPECT_GT(iou(got[0].box, ref[0].box), 0.95f) << to_string(f);
        EXPECT_LT(landmark_error(got[0], ref[0]), 0.01f) << to_string(f);
      }
    }
  }
}

TEST(FaceAnalyzer, RunsTheDetectorEveryDetectionIntervalFramesOnAStillFace) {
  AnalyzerOptions o = test_options();
  o.tracker.detection_interval = 4;
  FaceAnalyzer a(o);
  const ImageView v = ImageView::packed(grace().data, grace().cols, grace().rows, PixelFormat::RGB);
  int id = -1;
  for (int frame = 0; frame < 10; ++frame) {
    const auto faces = a.process(v, frame * 33'333'333LL);
    ASSERT_EQ(faces.size(), 1u) << "frame " << frame;
    if (frame == 0) id = faces[0].track_id;
    EXPECT_EQ(faces[0].track_id, id);
    EXPECT_EQ(a.last_timing().detector_ran, frame % 4 == 0) << "frame " << frame;
  }
  EXPECT_EQ(a.detector_runs(), 3);  // frames 0, 4, 8
  EXPECT_EQ(a.frames_processed(), 10);
}

TEST(FaceAnalyzer, ReusesTheLastAusBetweenInferenceFrames) {
  AnalyzerOptions o = test_options();
  o.inference_interval = 2;
  FaceAnalyzer a(o);
  // A slightly different picture each frame, so fresh AUs would differ.
  std::vector<std::vector<float>> probs;
  for (int frame = 0; frame < 4; ++frame) {
    cv::Mat shifted;
    cv::warpAffine(grace(), shifted, cv::Matx23d(1, 0, 3.0 * frame, 0, 1, 0), grace().size());
    const auto faces = a.process(ImageView::packed(shifted.data, shifted.cols, shifted.rows, PixelFormat::RGB), frame);
    ASSERT_EQ(faces.size(), 1u);
    EXPECT_EQ(a.last_timing().au_ran, frame % 2 == 0) << "frame " << frame;
    probs.push_back(faces[0].au_probability);
  }
  EXPECT_EQ(probs[1], probs[0]);
  EXPECT_NE(probs[2], probs[1]);
  EXPECT_EQ(probs[3], probs[2]);
}

TEST(FaceAnalyzer, RejectsAnUnreadableViewNamingTheField) {
  ImageView v;
  v.width = 64;
  v.height = 64;
  v.format = PixelFormat::RGB;
  v.stride[0] = 64 * 3;  // but no data
  try {
    shared_analyzer().process(v, 0);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("data"), std::string::npos) << e.what();
  }
  std::vector<std::uint8_t> pixels(64 * 64 * 3);
  ImageView narrow = ImageView::packed(pixels.data(), 64, 64, PixelFormat::RGB);
  narrow.stride[0] = 10;
  EXPECT_THROW(shared_analyzer().process(narrow, 0), std::invalid_argument);
}

TEST(FaceAnalyzer, NamesAMissingModelFile) {
  AnalyzerOptions o = test_options();
  o.engine.weights = "/nonexistent/hicomex.safetensors";
  try {
    FaceAnalyzer a(o);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/hicomex.safetensors"), std::string::npos) << e.what();
  }
}

TEST(FaceAnalyzer, FindsTheDefaultModelThroughHicomexModel) {
  ::setenv("HICOMEX_MODEL", small_model().c_str(), 1);
  EXPECT_EQ(default_model_path(), small_model());
  ::setenv("HICOMEX_MODEL", "/nonexistent/default.safetensors", 1);
  try {
    default_model_path();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/default.safetensors"), std::string::npos) << e.what();
  }
  ::unsetenv("HICOMEX_MODEL");
}
