// The face detectors on real photos: a face where there is one, none where
// there is none, every detector name, and clear errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>

#include "hicomex/face_detector.h"
#include "hicomex/model_paths.h"
#include "media_paths.h"
#include "photo.h"
#include "temp_dir.h"

using namespace hicomex;

namespace {

// Grace Hopper's face in grace_hopper_512x512.jpg, measured by eye: the face
// (brow to chin, ear to ear) spans about x 150..360, y 70..330.
bool covers_grace_hoppers_face(const Box& b) {
  const float cx = b.x + b.width / 2, cy = b.y + b.height / 2;
  return cx > 200 && cx < 310 && cy > 140 && cy < 260 && b.width > 100 && b.width < 300;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

class EveryDetector : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryDetector, FindsOneFaceOverGraceHoppersFace) {
  auto detector = make_face_detector(GetParam());
  EXPECT_EQ(detector->name(), GetParam());
  const auto faces = detector->detect(test::load_rgb(test::kGraceHopper));
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_TRUE(covers_grace_hoppers_face(faces[0].box))
      << faces[0].box.x << " " << faces[0].box.y << " " << faces[0].box.width << " " << faces[0].box.height;
}

TEST_P(EveryDetector, FindsNoFaceInALandscape) {
  auto detector = make_face_detector(GetParam());
  EXPECT_TRUE(detector->detect(test::load_rgb(test::kLandscape)).empty());
}

TEST_P(EveryDetector, FindsTheAstronautsFace) {
  auto detector = make_face_detector(GetParam());
  const auto faces = detector->detect(test::load_rgb(test::kAstronaut));
  ASSERT_EQ(faces.size(), 1u);
  // Eileen Collins' face in the 512x512 astronaut.png lies around (215, 115).
  const Box& b = faces[0].box;
  EXPECT_NEAR(b.x + b.width / 2, 215, 40);
  EXPECT_NEAR(b.y + b.height / 2, 115, 40);
}

INSTANTIATE_TEST_SUITE_P(FaceDetector, EveryDetector, ::testing::Values("blazeface", "blazeface-back", "haar", "lbp"));

TEST(BlazeFace, PlacesKeypointsOnTheFaceInAnatomicalOrder) {
  auto detector = make_face_detector("blazeface");
  const auto faces = detector->detect(test::load_rgb(test::kGraceHopper));
  ASSERT_EQ(faces.size(), 1u);
  const auto& f = faces[0];
  ASSERT_TRUE(f.has_keypoints);
  const auto kp = [&](FaceKeypoint k) { return f.keypoints[static_cast<int>(k)]; };
  // The subject's right eye appears on the image's left.
  EXPECT_LT(kp(FaceKeypoint::RightEye).x, kp(FaceKeypoint::LeftEye).x);
  EXPECT_LT(kp(FaceKeypoint::RightEye).y, kp(FaceKeypoint::NoseTip).y);
  EXPECT_LT(kp(FaceKeypoint::NoseTip).y, kp(FaceKeypoint::Mouth).y);
  for (const auto& p : f.keypoints) {
    EXPECT_GT(p.x, f.box.x - f.box.width * 0.3f);
    EXPECT_LT(p.x, f.box.x + f.box.width * 1.3f);
  }
  EXPECT_GT(f.score, 0.8f);
}

TEST(BlazeFace, FindsSeveralFacesInEachGroupPhoto) {
  auto front = make_face_detector("blazeface");
  auto back = make_face_detector("blazeface-back");
  for (const auto& path : test::sample_photos()) {
    const cv::Mat rgb = test::load_rgb(path);
    const size_t n = std::max(front->detect(rgb).size(), back->detect(rgb).size());
    EXPECT_GE(n, 2u) << path;
  }
}

TEST(BlazeFace, KeepsAtMostMaxFacesBestFirst) {
  FaceDetectorOptions all;
  all.score_threshold = 0.5f;
  auto detector = make_face_detector("blazeface-back", all);
  const cv::Mat rgb = test::load_rgb(test::sample_photos()[0]);
  const auto faces = detector->detect(rgb);
  ASSERT_GE(faces.size(), 2u);
  for (size_t i = 1; i < faces.size(); ++i) EXPECT_GE(faces[i - 1].score, faces[i].score);

  FaceDetectorOptions one = all;
  one.max_faces = 1;
  const auto best = make_face_detector("blazeface-back", one)->detect(rgb);
  ASSERT_EQ(best.size(), 1u);
  EXPECT_FLOAT_EQ(best[0].score, faces[0].score);
}

TEST(BlazeFace, DropsFacesBelowTheMinimumSize) {
  FaceDetectorOptions options;
  options.min_face_size = 400;  // larger than Grace Hopper's face in the 512 image
  EXPECT_TRUE(make_face_detector("blazeface", options)->detect(test::load_rgb(test::kGraceHopper)).empty());
}

TEST(BlazeFace, GivesTheSameFaceForAPaddedImage) {
  // Letterboxing must map boxes back to the original pixels whatever the aspect ratio.
  auto detector = make_face_detector("blazeface");
  const cv::Mat rgb = test::load_rgb(test::kGraceHopper);
  cv::Mat wide(rgb.rows, rgb.cols + 256, CV_8UC3, cv::Scalar::all(0));
  rgb.copyTo(wide(cv::Rect(0, 0, rgb.cols, rgb.rows)));
  const auto a = detector->detect(rgb), b = detector->detect(wide);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NEAR(a[0].box.x, b[0].box.x, 8);
  EXPECT_NEAR(a[0].box.y, b[0].box.y, 8);
  EXPECT_NEAR(a[0].box.width, b[0].box.width, 12);
}

TEST(FaceDetector, RejectsAnUnknownNameListingTheValidOnes) {
  const std::string msg = message_of([] { make_face_detector("retinaface"); });
  EXPECT_NE(msg.find("retinaface"), std::string::npos);
  for (const auto& name : face_detector_names()) EXPECT_NE(msg.find(name), std::string::npos) << msg;
  EXPECT_THROW(make_face_detector("retinaface"), std::invalid_argument);
}

TEST(FaceDetector, RejectsBadOptions) {
  FaceDetectorOptions options;
  options.score_threshold = 1.5f;
  EXPECT_THROW(make_face_detector("blazeface", options), std::invalid_argument);
  options = {};
  options.nms_iou = 0.f;
  EXPECT_THROW(make_face_detector("blazeface", options), std::invalid_argument);
}

TEST(FaceDetector, RejectsImagesThatAreNotRgb) {
  auto detector = make_face_detector("blazeface");
  EXPECT_THROW(detector->detect(cv::Mat()), std::invalid_argument);
  EXPECT_THROW(detector->detect(cv::Mat(64, 64, CV_8UC1, cv::Scalar(0))), std::invalid_argument);
}

TEST(FaceDetector, NamesAMissingModelFileInTheError) {
  ::setenv("HICOMEX_FACE_MODELS", "/nonexistent/face-models", 1);
  const std::string msg = message_of([] { make_face_detector("blazeface"); });
  ::setenv("HICOMEX_FACE_MODELS", test::source_face_models_dir().c_str(), 1);
  EXPECT_NE(msg.find("/nonexistent/face-models/face_detection_front_128x128_barracuda.onnx"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fetch-face-models.sh"), std::string::npos) << msg;
}

TEST(FaceDetector, NamesACorruptModelFileInTheError) {
  const test::TempDir tmp("hicomex-face-detector");
  const std::string path = tmp.file("corrupt_blazeface.onnx");
  std::ofstream(path) << "this is not an onnx file";
  FaceDetectorOptions options;
  options.model_path = path;
  const std::string msg = message_of([&] { make_face_detector("blazeface", options); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  options.model_path = "/nonexistent/cascade.xml";
  const std::string msg2 = message_of([&] { make_face_detector("haar", options); });
  EXPECT_NE(msg2.find("/nonexistent/cascade.xml"), std::string::npos) << msg2;
}
