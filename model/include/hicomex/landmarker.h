// 68-point facial landmarks (iBUG order) from face boxes: face-api's
// FaceLandmark68Net run by LibTorch. No torch in this header.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "hicomex/geometry.h"

namespace hicomex {

using Landmarks68 = std::array<Point2f, 68>;

struct LandmarkerOptions {
  /// tfjs manifest of face_landmark_68_model; empty = the one in face_models_dir().
  std::string manifest_path;
  /// "cpu", "cuda", "cuda:N", or "auto" (CUDA when available).
  std::string device = "cpu";
  /// > 0: LibTorch intra-op threads (process-wide setting); 0 leaves it alone.
  int threads = 0;
  /// The square crop fed to the net, relative to the detector's box: side =
  /// crop_scale * max(width, height), centre moved down by crop_shift_y * side.
  /// The defaults suit BlazeFace boxes (measured against dlib; docs/face-models.md).
  float crop_scale = 1.05f;
  float crop_shift_y = 0.05f;
  /// Run the net a second time on a crop re-centred on the first pass's points
  /// (landmark_crop_box from points): more accurate, twice the cost. A tracker
  /// gets the same effect for free by cropping around the previous frame's points.
  bool refine = false;
};

/// The square region (image pixels) cut out for a face box; may extend past the
/// image, where the crop is black as in face-api's padding.
Box landmark_crop_box(const Box& face, const LandmarkerOptions& options = {});

/// The square crop around landmarks found before (previous frame or first
/// pass): side = 1.3 x the larger side of the points' bounding box, centre
/// moved down by 0.05 x side (measured against dlib, docs/face-models.md).
Box landmark_crop_box(const Landmarks68& points);

/// Cuts `square` out of an RGB image and resizes it to size x size (CV_8UC3),
/// black outside the image.
cv::Mat crop_face(const cv::Mat& rgb, const Box& square, int size);

class Landmarker68 {
 public:
  static constexpr int kInputSize = 112;

  /// Loads the weights once. Throws ModelFileError (a std::runtime_error)
  /// naming the file when the manifest or its .bin is missing or broken,
  /// DeviceError (a std::invalid_argument) for a bad device string or a CUDA
  /// device without CUDA.
  explicit Landmarker68(const LandmarkerOptions& options = {});
  ~Landmarker68();
  Landmarker68(Landmarker68&&) noexcept;
  Landmarker68& operator=(Landmarker68&&) noexcept;

  /// Landmarks in image pixels for each face box of an RGB (CV_8UC3) frame; all
  /// faces go through the net as one batch.
  std::vector<Landmarks68> detect(const cv::Mat& rgb, const std::vector<Box>& faces);

  /// The net on prepared kInputSize x kInputSize RGB crops (one batch); points
  /// in crop pixels. For callers that build crops themselves (e.g. a tracker
  /// cropping around the previous frame's landmarks).
  std::vector<Landmarks68> run_crops(const std::vector<cv::Mat>& crops);

  /// The net on square regions of the frame (e.g. landmark_crop_box of the
  /// previous frame's points); landmarks in image pixels, one batch.
  std::vector<Landmarks68> run_squares(const cv::Mat& rgb, const std::vector<Box>& squares);

  /// The device the net runs on, e.g. "cpu".
  std::string device() const;
  const LandmarkerOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hicomex
