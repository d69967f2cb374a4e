#include "analyzer/landmark_confidence.h"

#include <algorithm>

namespace hicomex {
namespace {

float iou(const Box& a, const Box& b) {
  const float x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
  const float inter = std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0);
  const float uni = a.width * a.height + b.width * b.height - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

Box extent(const Landmarks68& pts) {
  float x0 = pts[0].x, y0 = pts[0].y, x1 = x0, y1 = y0;
  for (const auto& p : pts) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

FaceDetectorOptions verifier_options() {
  FaceDetectorOptions o;
  o.score_threshold = 0.05f;  // keep weak faces: the score is graded, not a yes/no
  return o;
}

}  // namespace

LandmarkConfidence::LandmarkConfidence() : verifier_(make_face_detector("blazeface", verifier_options())) {}

float LandmarkConfidence::from_detection(const Detection& detection, const Landmarks68& points) {
  const float agreement = std::min(1.f, iou(detection.box, extent(points)) / kAgreementIoU);
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
