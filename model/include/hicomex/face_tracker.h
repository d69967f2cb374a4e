// Multi-face tracking with stable ids between detector runs (no torch).
//
// One frame goes through the tracker in four calls:
//   bool detect = tracker.begin_frame(timestamp_ns);
//   if (detect) tracker.on_detections(detector.detect(frame), width, height);
//   for (const LandmarkJob& job : tracker.landmark_jobs())  // crop squares
//     tracker.on_landmarks(job.track_id, points, confidence); // from the landmark net
//   std::vector<TrackedFace> faces = tracker.end_frame();    // confirmed faces
// and, on frames where the AU network ran, on_aus() for each face.
//
// Association (on detector frames): every (track, detection) pair gets the cost
//   (1 - IoU(predicted track box, detection box)) + d,
// d = mean distance between the detection's keypoints (eyes, nose tip, mouth)
// and the same points of the track's landmarks (box centres when either has no
// points), divided by the track's face size. Pairs with IoU < min_iou and
// d > max_distance are not allowed; the others are taken greedily, cheapest
// first. With the handful of faces a frame holds, greedy equals the Hungarian
// optimum except in contrived ties, and it is simpler to reason about.
// The predicted box moves with the track's velocity (an average of its recent
// motion), so two faces that cross keep their ids.
//
// Between detector runs a face is followed by its landmarks: the next crop is
// the square around the previous frame's points (landmark_crop_box), moved by
// the velocity. The detector runs again after `detection_interval` frames, when
// a face's landmark confidence fell below `min_confidence`, or when there is no
// face to follow.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "hicomex/face_detector.h"
#include "hicomex/geometry.h"

namespace hicomex {

struct TrackerOptions {
  /// Run the detector every N frames (1 = every frame); it also runs when a
  /// track's confidence drops below min_confidence or no face is tracked.
  int detection_interval = 5;
  /// Landmark confidence below which a face counts as lost between detector
  /// runs (the detector runs on the next frame) and is reported unsuccessful.
  float min_confidence = 0.5f;
  /// A new track is reported after this many frames with a confident face
  /// (birth hysteresis). Tracks born in the first frames after a reset are
  /// reported at once, so a single image gives results.
  int confirm_hits = 2;
  /// Detector runs in a row that may miss a track before it ends (death
  /// hysteresis). A lost track is not reported and not followed by landmarks,
  /// but a detection near it within this window gets its id back.
  int max_missed = 3;
  /// At most this many faces (the largest boxes, then the highest scores); 0 = no limit.
  int max_faces = 0;
  /// Faces whose box (larger side, pixels) is smaller are ignored or dropped.
  int min_face_size = 0;
  /// Gating of the association (see the file comment).
  float min_iou = 0.1f;
  float max_distance = 0.6f;
  /// Landmark smoothing: One Euro filter minimum cutoff in Hz (0 = raw points).
  /// Lower is smoother when still; `landmark_beta` lets fast motion through
  /// (speed measured in face sizes per second).
  float landmark_min_cutoff_hz = 0.f;
  float landmark_beta = 5.f;
  /// Landmark check reuse: the check that the landmarks sit on a face (the
  /// detector on the landmark crop) runs at least every N frames per face;
  /// in between it runs only when the crop's picture changed (1 = every frame).
  int verify_interval = 5;
  /// AU probability smoothing: weight of the past in an exponential average,
  /// in [0, 1) (0 = raw), applied at each AU update.
  float au_smoothing = 0.f;

  /// Throws OptionError (a std::invalid_argument) naming the field with a value that cannot work.
  void validate() const;
};

/// A square region to crop for the landmark net, for one track.
struct LandmarkJob {
  int track_id = -1;
  Box square;                   ///< image pixels (may extend past the image)
  bool from_detection = false;  ///< the square comes from a detection box, not landmarks
  /// The detector ran on this frame and matched the track: its box and score.
  bool detected = false;
  Box detection_box;
  float detection_score = 0.f;
};

/// A face the tracker reports for the current frame.
struct TrackedFace {
  int track_id = -1;
  Box box;                      ///< bounding box of the (smoothed) landmarks; detection box before any
  float detection_score = 0.f;  ///< of the detection that last matched the track
  float confidence = 0.f;       ///< landmark confidence of this frame
  bool has_landmarks = false;
  std::array<Point2f, 68> landmarks{};  ///< smoothed (or raw when smoothing is off)
  std::vector<float> au_probability;    ///< smoothed; empty until on_aus()
  int64_t au_frame = -1;                ///< frame index of the last AU update
};

class FaceTracker {
 public:
  explicit FaceTracker(const TrackerOptions& options = {});

  /// Takes effect at the next begin_frame(). Throws like TrackerOptions::validate.
  void set_options(const TrackerOptions& options);
  const TrackerOptions& options() const { return options_; }

  /// Starts a frame; returns whether the detector should run on it.
  bool begin_frame(int64_t timestamp_ns);
  /// The detector's faces of this frame (call only when it ran). Image size
  /// lets tracks whose box left the image end at once.
  void on_detections(const std::vector<Detection>& detections, int image_width, int image_height);
  /// The crops to run the landmark net on: one per active (not lost) track.
  std::vector<LandmarkJob> landmark_jobs() const;
  /// Raw landmarks (image pixels) of a job and their confidence in [0, 1].
  /// Unknown ids are ignored.
  void on_landmarks(int track_id, const std::array<Point2f, 68>& points, float confidence);
  /// Ends the frame: updates hits/misses, applies max faces and min size, and
  /// returns the confirmed active faces, largest first.
  std::vector<TrackedFace> end_frame();
  /// New AU probabilities of a face on this frame, smoothed into the track;
  /// returns the smoothed values (empty for an unknown id).
  std::vector<float> on_aus(int track_id, const std::vector<float>& probabilities);

  /// Drops every track; the next frame runs the detector and ids continue.
  void reset();

  int detector_runs() const { return detector_runs_; }
  bool detection_due() const;                            ///< whether the next begin_frame() will ask for detection
  size_t track_count() const { return tracks_.size(); }  ///< including lost tracks
  std::vector<int> track_ids() const;                    ///< of every track, lost ones included

 private:
  // One Euro filter state of one landmark coordinate (Casiez et al., CHI 2012).
  struct OneEuro {
    float x = 0.f, dx = 0.f;
    bool primed = false;
  };
  struct Track {
    TrackedFace face;
    std::array<Point2f, 68> raw{};  // last confident unsmoothed points: the next crop follows these
    bool has_raw = false;
    std::array<OneEuro, 136> filter{};
    float vx = 0.f, vy = 0.f;  // box centre velocity, pixels per frame
    int hits = 0;              // frames with a confident face
    int missed = 0;            // detector runs in a row without a match
    bool confirmed = false;
    bool lost = false;           // missed the last detector run
    bool matched = false;        // matched a detection on this frame
    bool updated = false;        // got landmarks on this frame
    bool from_detection = true;  // next crop from the detection box, not from points
    int64_t born = 0;            // frames since reset at birth
    Box detection_box;           // of the last matching detection
    Box good_box;                // box of the last confident sighting (association uses it)
    int64_t last_seen = 0;       // frame of the last confident sighting
  };
  Box predicted_box(const Track& t) const;
  void associate(const std::vector<Detection>& detections);
  void enforce_max_faces();
  void smooth_landmarks(Track& t, const std::array<Point2f, 68>& raw);

  TrackerOptions options_;
  TrackerOptions pending_;
  bool has_pending_ = false;
  std::vector<Track> tracks_;
  int next_id_ = 0;
  int64_t frame_ = -1;
  int64_t frames_since_reset_ = -1;
  int image_w_ = 0, image_h_ = 0;
  int64_t last_detection_frame_ = -1;
  bool detected_this_frame_ = false;
  bool have_timestamp_ = false;
  int64_t timestamp_ns_ = 0;
  double dt_s_ = 1.0 / 30.0;
  int detector_runs_ = 0;
};

}  // namespace hicomex
