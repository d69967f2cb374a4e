#include "analyzer/landmark_confidence.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "hicomex/geometry.h"

namespace hicomex {
namespace {

FaceDetectorOptions verifier_options() {
  FaceDetectorOptions o;
  o.score_threshold = 0.05f;  // keep weak faces: the score is graded, not a yes/no
  return o;
}

Box to_square_units(const Box& b, const Box& square) {
  return {(b.x - square.x) / square.width, (b.y - square.y) / square.height, b.width / square.width,
          b.height / square.height};
}

Box from_square_units(const Box& r, const Box& square) {
  return {square.x + r.x * square.width, square.y + r.y * square.height, r.width * square.width,
          r.height * square.height};
}

}  // namespace

LandmarkConfidence::LandmarkConfidence() : verifier_(make_face_detector("blazeface", verifier_options())) {}

float LandmarkConfidence::from_detection(const Detection& detection, const Landmarks68& points) {
  const float agreement = std::min(1.f, iou(detection.box, bounding_box(points)) / kAgreementIoU);
  return std::clamp(detection.score, 0.f, 1.f) * agreement;
}

bool LandmarkConfidence::detect_in_crop(const cv::Mat& crop, const Box& square, const Landmarks68& points,
                                        Detection* best) {
  if (crop.empty() || !(square.width > 0.f)) return false;
  const float sx = square.width / static_cast<float>(crop.cols);
  const float sy = square.height / static_cast<float>(crop.rows);
  float best_c = -1.f;
  for (Detection d : verifier_->detect(crop)) {
    d.box = {square.x + d.box.x * sx, square.y + d.box.y * sy, d.box.width * sx, d.box.height * sy};
    const float c = from_detection(d, points);
    if (c > best_c) {
      best_c = c;
      *best = d;
    }
  }
  return best_c >= 0.f;
}

float LandmarkConfidence::from_crop(const cv::Mat& crop, const Box& square, const Landmarks68& points) {
  Detection d;
  return detect_in_crop(crop, square, points, &d) ? from_detection(d, points) : 0.f;
}

std::array<float, LandmarkConfidence::kThumbSize * LandmarkConfidence::kThumbSize> LandmarkConfidence::thumbnail(
    const cv::Mat& crop) {
  std::array<float, kThumbSize * kThumbSize> t{};
  if (crop.empty()) return t;
  cv::Mat small;
  cv::resize(crop, small, cv::Size(kThumbSize, kThumbSize), 0, 0, cv::INTER_AREA);
  const int ch = small.channels();
  double mean = 0.0;
  for (int y = 0; y < kThumbSize; ++y) {
    const uint8_t* row = small.ptr<uint8_t>(y);
    for (int x = 0; x < kThumbSize; ++x) {
      float v = 0.f;
      for (int c = 0; c < ch; ++c) v += row[x * ch + c];
      t[y * kThumbSize + x] = v / static_cast<float>(ch);
      mean += t[y * kThumbSize + x];
    }
  }
  mean /= static_cast<double>(t.size());
  double norm = 0.0;
  for (float& v : t) {
    v = static_cast<float>(v - mean);
    norm += static_cast<double>(v) * v;
  }
  // A flat crop (a blank frame, a uniform wall) has no picture to compare.
  if (norm < 1e-3 * static_cast<double>(t.size())) {
    t.fill(0.f);
    return t;
  }
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& v : t) v *= inv;
  return t;
}

float LandmarkConfidence::similarity(const std::array<float, kThumbSize * kThumbSize>& a,
                                     const std::array<float, kThumbSize * kThumbSize>& b) {
  float s = 0.f;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return std::clamp(s, -1.f, 1.f);
}

float LandmarkConfidence::for_track(int track_id, const cv::Mat& crop, const Box& square, const Landmarks68& points,
                                    const Detection* detection, int verify_interval, bool* ran_check) {
  if (ran_check) *ran_check = false;
  if (crop.empty() || !(square.width > 0.f) || !(square.height > 0.f)) {
    checks_.erase(track_id);
    return detection ? from_detection(*detection, points) : 0.f;
  }
  const auto thumb = thumbnail(crop);
  auto it = checks_.find(track_id);
  if (!detection && it != checks_.end() && it->second.age + 1 < verify_interval &&
      similarity(thumb, it->second.thumb) >= kReuseSimilarity) {
    Check& c = it->second;
    ++c.age;
    if (!c.found) return 0.f;
    Detection d;
    d.box = from_square_units(c.relative_box, square);
    d.score = c.score;
    return from_detection(d, points);
  }
  Check c;
  c.thumb = thumb;
  Detection d;
  if (detection) {
    d = *detection;
    c.found = true;
  } else {
    c.found = detect_in_crop(crop, square, points, &d);
    if (ran_check) *ran_check = true;
  }
  float confidence = 0.f;
  if (c.found) {
    c.relative_box = to_square_units(d.box, square);
    c.score = d.score;
    confidence = from_detection(d, points);
  }
  checks_[track_id] = c;  // a flat crop's thumbnail is all zero and never matches: checked every frame
  return confidence;
}

void LandmarkConfidence::retain(const std::vector<int>& track_ids) {
  for (auto it = checks_.begin(); it != checks_.end();) {
    if (std::find(track_ids.begin(), track_ids.end(), it->first) == track_ids.end())
      it = checks_.erase(it);
    else
      ++it;
  }
}

}  // namespace hicomex
