#include "hicomex/face_detector.h"

#include <cmath>
#include <stdexcept>

#include "face/detectors.h"
#include "hicomex/errors.h"

namespace hicomex {

const std::vector<std::string>& face_detector_names() {
  static const std::vector<std::string> names = {"blazeface", "blazeface-back", "haar", "lbp"};
  return names;
}

void check_rgb_input(const cv::Mat& rgb, const char* who) {
  if (rgb.empty() || rgb.type() != CV_8UC3) {
    throw std::invalid_argument(
        std::string(who) + ": expected a non-empty 8-bit RGB image (CV_8UC3), got " +
        (rgb.empty() ? std::string("an empty image")
                     : "type " + std::to_string(rgb.type()) + " with " + std::to_string(rgb.channels()) + " channels"));
  }
}

void apply_size_and_count_limits(std::vector<Detection>& faces, const FaceDetectorOptions& options) {
  if (options.min_face_size > 0) {
    std::vector<Detection> kept;
    for (const auto& f : faces) {
      if (std::max(f.box.width, f.box.height) >= static_cast<float>(options.min_face_size)) kept.push_back(f);
    }
    faces.swap(kept);
  }
  if (options.max_faces > 0 && faces.size() > static_cast<size_t>(options.max_faces)) {
    faces.resize(options.max_faces);
  }
}

std::unique_ptr<FaceDetector> make_face_detector(const std::string& name, const FaceDetectorOptions& options) {
  if (!(options.score_threshold >= 0.f && options.score_threshold <= 1.f)) {
    throw OptionError(
        "detector.score_threshold", std::to_string(options.score_threshold),
        "face detector: score_threshold must be in [0, 1], got " + std::to_string(options.score_threshold));
  }
  if (!(options.nms_iou > 0.f && options.nms_iou <= 1.f)) {
    throw OptionError("detector.nms_iou", std::to_string(options.nms_iou),
                      "face detector: nms_iou must be in (0, 1], got " + std::to_string(options.nms_iou));
  }
  if (options.min_face_size < 0 || options.max_faces < 0) {
    throw OptionError("detector.min_face_size", std::to_string(options.min_face_size),
                      "face detector: min_face_size and max_faces must be >= 0, got " +
                          std::to_string(options.min_face_size) + " and " + std::to_string(options.max_faces));
  }
  if (name == "blazeface") return make_blazeface_detector(BlazeFaceModel::Front128, options);
  if (name == "blazeface-back") return make_blazeface_detector(BlazeFaceModel::Back256, options);
  if (name == "haar") return make_cascade_detector(CascadeKind::Haar, options);
  if (name == "lbp") return make_cascade_detector(CascadeKind::Lbp, options);
  std::string valid;
  for (const auto& n : face_detector_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw OptionError("detector", name, "unknown face detector '" + name + "' (valid: " + valid + ")");
}

}  // namespace hicomex
