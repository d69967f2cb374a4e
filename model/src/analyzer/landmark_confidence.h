// How much to trust a face's landmarks on a frame (FaceResult::confidence).
//
// The landmark net has no score of its own and returns a face shape for any
// crop, so the signal comes from the face detector: a face must be seen where
// the points are. On frames where the detector ran over the whole frame and
// matched the track, its detection is used; in between, the detector runs
// again on the small square crop the landmark net just saw (BlazeFace front,
// 128x128 input). Either way the confidence is
//   score x agreement,  agreement = min(1, IoU(detection box, landmark box) / kAgreementIoU),
// so a face that walked out of its crop (no detection), a crop on something
// face-like but not where the points are (low IoU), or a real face the points
// slid off all fall below the threshold and make the detector run.
//
// Reuse. The check on the crop costs more than the landmark net itself, and
// on most frames of a video the crop shows what it showed a frame earlier.
// Each track keeps its last check (the detection's place in the crop square,
// its score, and a 16x16 grey thumbnail of the crop). For up to
// `verify_interval - 1` frames after a check, a crop whose thumbnail still
// matches the checked one (normalised cross-correlation >= kReuseSimilarity:
// the same picture up to brightness and contrast) reuses that detection,
// placed in the current square, and the agreement is recomputed with the
// current points. Any real change in the crop (the face left it, turned away,
// something covered it) runs the check again at once.
#pragma once
#include <array>
#include <memory>
#include <unordered_map>
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
  /// Thumbnail correlation above which a crop counts as unchanged since the
  /// last check (docs/analyzer.md, "Landmark confidence").
  static constexpr float kReuseSimilarity = 0.95f;
  static constexpr int kThumbSize = 16;

  /// Loads its own BlazeFace front detector with a low score threshold, so
  /// weak faces still give a graded score. Throws like make_face_detector.
  LandmarkConfidence();

  /// score x agreement for a detection and the landmarks (image pixels).
  static float from_detection(const Detection& detection, const Landmarks68& points);

  /// The detector on the crop of `square` (`crop` = crop_face(frame, square, ...)),
  /// the best score x agreement with the landmarks (image pixels); 0 without a face.
  float from_crop(const cv::Mat& crop, const Box& square, const Landmarks68& points);

  /// A track's confidence on this frame. With a `detection` (the whole-frame
  /// detector matched the track) it is from_detection(); otherwise the track's
  /// last check is reused when it is younger than `verify_interval` frames and
  /// the crop still looks the same, else the detector runs on the crop.
  /// Either way the result becomes the track's last check. `verify_interval`
  /// 1 checks every frame. `ran_check` (optional) says whether the detector ran.
  float for_track(int track_id, const cv::Mat& crop, const Box& square, const Landmarks68& points,
                  const Detection* detection, int verify_interval, bool* ran_check = nullptr);

  /// Forgets the tracks not in `track_ids`.
  void retain(const std::vector<int>& track_ids);
  /// Forgets every track.
  void clear() { checks_.clear(); }

  /// Normalised cross-correlation of two thumbnails, in [-1, 1] (1: the same
  /// picture up to brightness and contrast; 0 for a flat one).
  static float similarity(const std::array<float, kThumbSize * kThumbSize>& a,
                          const std::array<float, kThumbSize * kThumbSize>& b);
  /// The crop's grey thumbnail, zero mean and unit norm (all zero when flat).
  static std::array<float, kThumbSize * kThumbSize> thumbnail(const cv::Mat& crop);

 private:
  struct Check {
    std::array<float, kThumbSize * kThumbSize> thumb{};
    bool found = false;  // the detector saw a face
    Box relative_box;    // the detection, in units of the square (0..1 across it)
    float score = 0.f;
    int age = 0;  // frames since the check ran
  };
  // The best-agreeing detection on the crop, in image pixels; false without one.
  bool detect_in_crop(const cv::Mat& crop, const Box& square, const Landmarks68& points, Detection* best);

  std::unique_ptr<FaceDetector> verifier_;
  std::unordered_map<int, Check> checks_;
};

}  // namespace hicomex
