#include "analyzer/landmark_confidence.h"

#include <algorithm>

#include "hicomex/geometry.h"

namespace hicomex {
namespace {

FaceDetectorOptions verifier_options() {
  FaceDetectorOptions o;
  o.score_threshold = 0.05f;  // keep weak faces: the score is graded, not a yes/no
  return o;
}

}  // namespace

LandmarkConfidence::LandmarkConfidence() : verifier_(make_face_detector("blazeface", verifier_options())) {}

float LandmarkConfidence::from_detection(const Detection& detection, const Landmarks68& points) {
  const float agreement = std::min(1.f, iou(detection.box, bounding_box(points)) / kAgreementIoU);
  return std::clamp(detection.score, 0.f, 1.f) * agreement;
}

float LandmarkConfidence::from_crop(const cv::Mat& crop, const Box& square, const Landmarks68& points) {
  if (crop.empty() || !(square.width > 0.f)) return 0.f;
  const float sx = square.width / static_cast<float>(crop.cols);
  const float sy = square.height / static_cast<float>(crop.rows);
  float best = 0.f;
  for (Detection d : verifier_->detect(crop)) {
    d.box = {square.x + d.box.x * sx, square.y + d.box.y * sy, d.box.width * sx, d.box.height * sy};
    best = std::max(best, from_detection(d, points));
  }
  return best;
}

}  // namespace hicomex
