// OpenCV's Haar and LBP frontal-face cascades (Debian opencv-data): no model
// download, no keypoints, no calibrated score; a fallback for BlazeFace.
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <fstream>
#include <stdexcept>

#include "face/blazeface_decode.h"
#include "face/detectors.h"
#include "hicomex/errors.h"

namespace hicomex {
namespace {

ModelFileError::Kind missing_or_corrupt(const std::string& path) {
  return std::ifstream(path).good() ? ModelFileError::Kind::Corrupt : ModelFileError::Kind::NotFound;
}

std::string default_cascade(CascadeKind kind) {
  const std::string file = kind == CascadeKind::Haar ? "haarcascades/haarcascade_frontalface_default.xml"
                                                     : "lbpcascades/lbpcascade_frontalface_improved.xml";
  const char* dirs[] = {"/usr/share/opencv4", "/usr/local/share/opencv4", "/usr/share/opencv"};
  for (const char* d : dirs) {
    const std::string path = std::string(d) + "/" + file;
    if (std::ifstream(path).good()) return path;
  }
  throw ModelFileError(ModelFileError::Kind::NotFound, std::string(dirs[0]) + "/" + file,
                       "face cascade not found: " + std::string(dirs[0]) + "/" + file +
                           " (install Debian's opencv-data, or set FaceDetectorOptions::model_path)");
}

class CascadeDetector final : public FaceDetector {
 public:
  CascadeDetector(CascadeKind kind, const FaceDetectorOptions& options) : kind_(kind), options_(options) {
    path_ = options.model_path.empty() ? default_cascade(kind) : options.model_path;
    bool ok = false;
    try {
      ok = cascade_.load(path_);
    } catch (const cv::Exception& e) {
      throw ModelFileError(missing_or_corrupt(path_), path_, "cannot load face cascade " + path_ + ": " + e.what());
    }
    if (!ok || cascade_.empty())
      throw ModelFileError(missing_or_corrupt(path_), path_, "cannot load face cascade " + path_);
  }

  std::string name() const override { return kind_ == CascadeKind::Haar ? "haar" : "lbp"; }

  std::vector<Detection> detect(const cv::Mat& rgb) override {
    check_rgb_input(rgb, "cascade detect");
    cv::Mat gray;
    cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
    cv::equalizeHist(gray, gray);
    std::vector<cv::Rect> rects;
    std::vector<int> neighbours;
    const int min_side = std::max(24, options_.min_face_size);
    cascade_.detectMultiScale(gray, rects, neighbours, 1.1, kind_ == CascadeKind::Haar ? 5 : 4, 0,
                              cv::Size(min_side, min_side));
    std::vector<Detection> faces;
    for (size_t i = 0; i < rects.size(); ++i) {
      Detection d;
      d.box = {float(rects[i].x), float(rects[i].y), float(rects[i].width), float(rects[i].height)};
      d.score = 1.f;
      d.has_keypoints = false;
      faces.push_back(d);
    }
    // Largest first, since there is no score to rank by; the cascade's own
    // grouping already merged overlapping windows, but nested ones survive it.
    std::stable_sort(faces.begin(), faces.end(), [](const Detection& a, const Detection& b) {
      return a.box.width * a.box.height > b.box.width * b.box.height;
    });
    std::vector<Detection> kept;
    for (const auto& f : faces) {
      bool overlaps = false;
      for (const auto& k : kept) overlaps = overlaps || iou(f.box, k.box) > options_.nms_iou;
      if (!overlaps) kept.push_back(f);
    }
    apply_size_and_count_limits(kept, options_);
    return kept;
  }

 private:
  CascadeKind kind_;
  FaceDetectorOptions options_;
  std::string path_;
  cv::CascadeClassifier cascade_;
};

}  // namespace

std::unique_ptr<FaceDetector> make_cascade_detector(CascadeKind kind, const FaceDetectorOptions& options) {
  return std::make_unique<CascadeDetector>(kind, options);
}

}  // namespace hicomex
