// Realism bar of issue 5: the project's own detector (BlazeFace, trained on
// real faces) must find >= 95% of rendered faces.
#include <gtest/gtest.h>

#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "hicomex/face_detector.h"
#include "scene.h"

using namespace hicomex::synth;

TEST(Realism, TheBlazeFaceDetectorFindsAtLeast95PercentOfRenderedFaces) {
  auto detector = hicomex::make_face_detector("blazeface");
  const SceneOptions scene;  // the dataset defaults: 256 px, poses up to 25 degrees, occluders, camera effects
  const auto rules = default_expression_rules();
  const int n = 50;
  int found = 0;
  for (int i = 0; i < n; ++i) {
    const SynthIdentity who = make_identity(2024, i % 25);
    const Sample s = render_sample(2024, i, who, scene, rules);
    cv::Mat rgb;
    cv::cvtColor(s.image, rgb, cv::COLOR_BGR2RGB);
    bool hit = false;
    for (const auto& d : detector->detect(rgb)) {
      const cv::Point2f c(d.box.x + 0.5f * d.box.width, d.box.y + 0.5f * d.box.height);
      hit = hit || s.face.box.contains(c);
    }
    found += hit;
  }
  std::printf("detected %d of %d rendered faces (%.1f%%)\n", found, n, 100.0 * found / n);
  EXPECT_GE(found, 48);
}
