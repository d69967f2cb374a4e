// How much to trust a face's landmarks on a frame (FaceResult::confidence).
//
// The landmark net has no score of its own and returns a face shape for any
// crop, so the signal comes from the face detector: a face must be seen where
// the points are. On frames where the detector ran over the whole frame and
// matched the track, its detection is used; in between, the detector runs
// again on the small square crop the landmark net just saw (BlazeFace front,
// 128x128 input: about a millisecond). Either way the confidence is
//   score x agreement,  agreement = min(1, IoU(detection box, landmark box) / kAgreementIoU),
// so a face that walked out of its crop (no detection), a crop on something
// face-like but not where the points are (low IoU), or a real face the points
// slid off all fall below the threshold and make the detector run.
#pragma once
#include <memory>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "hicomex/face_detector.h"
#include "hicomex/landmarker.h"

namespace hicomex {

class LandmarkConfidence {
 public:
  /// BlazeFace boxes (brows to chin) and the 68 points' extent (jaw line
  /// included) of a well-tracked face overlap with IoU about 0.5-0.7
  /// (docs/analyzer.md); at this IoU the agreement saturates.
  static constexpr float kAgreementIoU = 0.45f;

  /// Loads its own BlazeFace front detector with a low score threshold, so
  /// weak faces still give a graded score. Throws like make_face_detector.
  LandmarkConfidence();

  /// score x agreement for a detection and the landmarks (image pixels).
  static float from_detection(const Detection& detection, const Landmarks68& points);

  /// The detector on the crop of `square` (`crop` = crop_face(frame, square, ...)),
  /// the best score x agreement with the landmarks (image pixels); 0 without a face.
  float from_crop(const cv::Mat& crop, const Box& square, const Landmarks68& points);

 private:
  std::unique_ptr<FaceDetector> verifier_;
};

}  // namespace hicomex
