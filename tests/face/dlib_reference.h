// dlib's 68-point shape predictor as the reference for the landmark tests
// (Debian libdlib-data; trained on iBUG 300-W, non-commercial: tests only).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "hicomex/landmarker.h"

namespace hicomex::test {

inline const std::string kDlibPredictor = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

struct DlibFace {
  Box box;             ///< dlib's HOG detector box
  Landmarks68 points;  ///< dlib's 68 points, iBUG order as ours
};

class DlibReference {
 public:
  DlibReference();  ///< loads the predictor; throws naming the file if absent
  ~DlibReference();
  /// Faces found by dlib's HOG detector (on a half-size copy of large images)
  /// and their 68 points, in image pixels.
  std::vector<DlibFace> faces(const cv::Mat& rgb);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Mean point-to-point distance over the 68 points (or 51 without the jaw,
/// points 17..67), divided by the reference's outer-eye-corner distance
/// (points 36 and 45).
double normalised_mean_error(const Landmarks68& points, const Landmarks68& reference, bool with_jaw = true);

}  // namespace hicomex::test
