// Realism bar of issue 5, second half: the project's 68-point landmark net
// (face-api, trained on real faces) must land within a normalised mean error
// of 0.10 of the synthetic ground truth.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "hicomex/face_detector.h"
#include "hicomex/landmarker.h"
#include "scene.h"

using namespace hicomex::synth;

namespace {

// Mean point error over the 68 points divided by the outer-eye-corner distance
// (the 300-W "inter-ocular" normalisation).
double nme(const hicomex::Landmarks68& found, const std::vector<cv::Point2f>& truth) {
  double sum = 0.0;
  for (int i = 0; i < 68; ++i) sum += std::hypot(found[i].x - truth[i].x, found[i].y - truth[i].y);
  return sum / 68.0 / std::hypot(truth[45].x - truth[36].x, truth[45].y - truth[36].y);
}

}  // namespace

TEST(Realism, TheLandmarkNetLandsWithinNme010OfTheGroundTruth) {
  auto detector = hicomex::make_face_detector("blazeface");
  hicomex::Landmarker68 landmarker;
  const SceneOptions scene;
  const auto rules = default_expression_rules();
  const int n = 50;
  int detected = 0;
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    const SynthIdentity who = make_identity(2024, i % 25);
    const Sample s = render_sample(2024, i, who, scene, rules);
    cv::Mat rgb;
    cv::cvtColor(s.image, rgb, cv::COLOR_BGR2RGB);
    for (const auto& d : detector->detect(rgb)) {
      const cv::Point2f c(d.box.x + 0.5f * d.box.width, d.box.y + 0.5f * d.box.height);
      if (!s.face.box.contains(c)) continue;
      total += nme(landmarker.detect(rgb, {d.box}).at(0), s.face.landmarks);
      ++detected;
      break;
    }
  }
  ASSERT_GT(detected, 0);
  const double mean_nme = total / detected;
  std::printf("detected %d of %d; landmark NME (outer-eye-corner normalised) %.4f\n", detected, n, mean_nme);
  EXPECT_LE(mean_nme, 0.10);
}
