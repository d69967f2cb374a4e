// Face detectors chosen by name: BlazeFace (ONNX through OpenCV DNN) and the
// OpenCV Haar/LBP cascades as a fallback. No torch and no OpenCV DNN here.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "hicomex/geometry.h"

namespace hicomex {

/// BlazeFace keypoint order (subject's right = image left on a frontal face).
enum class FaceKeypoint { RightEye = 0, LeftEye = 1, NoseTip = 2, Mouth = 3, RightEarTragion = 4, LeftEarTragion = 5 };

struct Detection {
  Box box;                             ///< image pixels
  float score = 0.f;                   ///< in [0, 1]; 1 for the cascades, which have no calibrated score
  std::array<Point2f, 6> keypoints{};  ///< see FaceKeypoint; valid if has_keypoints
  bool has_keypoints = false;
};

struct FaceDetectorOptions {
  /// Detections below this score are dropped (MediaPipe's min_score_thresh).
  float score_threshold = 0.5f;
  /// Overlapping detections above this IoU are merged (weighted blending).
  float nms_iou = 0.3f;
  /// Faces whose box is smaller than this (larger side, pixels) are dropped.
  int min_face_size = 0;
  /// At most this many faces, highest scores first; 0 = no limit.
  int max_faces = 0;
  /// Model file; empty = the detector's default (face_models_dir() for BlazeFace,
  /// the opencv-data cascade for haar/lbp).
  std::string model_path;
};

/// One detector instance is not thread safe (OpenCV DNN nets are not): use one
/// per thread.
class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  /// Faces in an 8-bit RGB image (CV_8UC3), highest score first.
  /// Throws std::invalid_argument for another type or an empty image.
  virtual std::vector<Detection> detect(const cv::Mat& rgb) = 0;
  virtual std::string name() const = 0;
};

/// "blazeface" (front camera model, 128x128 input, faces filling much of the
/// frame; the default), "blazeface-back" (full-range 256x256 model, smaller
/// faces), "haar", "lbp". Throws std::invalid_argument for another name (the
/// message lists the valid ones) or bad options, std::runtime_error naming the
/// file when a model is missing or cannot be read.
std::unique_ptr<FaceDetector> make_face_detector(const std::string& name = "blazeface",
                                                 const FaceDetectorOptions& options = {});

/// The names make_face_detector accepts.
const std::vector<std::string>& face_detector_names();

}  // namespace hicomex
