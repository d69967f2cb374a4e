// FaceTracker: association, birth/death hysteresis and smoothing (see the header).
#include "hicomex/face_tracker.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "hicomex/errors.h"
#include "hicomex/geometry.h"
#include "hicomex/landmarker.h"

namespace hicomex {
namespace {

Box shifted(Box b, float dx, float dy) {
  b.x += dx;
  b.y += dy;
  return b;
}

Point2f mean_of(const std::array<Point2f, 68>& pts, std::initializer_list<int> idx) {
  Point2f m;
  for (int i : idx) {
    m.x += pts[i].x;
    m.y += pts[i].y;
  }
  m.x /= static_cast<float>(idx.size());
  m.y /= static_cast<float>(idx.size());
  return m;
}

// The landmark counterparts of BlazeFace's first four keypoints (right eye,
// left eye, nose tip, mouth; "right" = the subject's, on the image left).
std::array<Point2f, 4> keypoints_of(const std::array<Point2f, 68>& pts) {
  return {mean_of(pts, {36, 37, 38, 39, 40, 41}), mean_of(pts, {42, 43, 44, 45, 46, 47}), pts[30],
          mean_of(pts, {48, 51, 54, 57})};
}

Point2f centre(const Box& b) { return {b.x + b.width / 2, b.y + b.height / 2}; }
float dist(Point2f a, Point2f b) { return std::hypot(a.x - b.x, a.y - b.y); }

// Fraction of a box inside the image.
float visible_fraction(const Box& b, int w, int h) {
  const float a = area(b);
  if (a <= 0.f) return 0.f;
  return area({std::max(b.x, 0.f), std::max(b.y, 0.f), std::min(b.x + b.width, float(w)) - std::max(b.x, 0.f),
               std::min(b.y + b.height, float(h)) - std::max(b.y, 0.f)}) /
         a;
}

}  // namespace

void TrackerOptions::validate() const {
  auto fail = [](const std::string& field, const std::string& why) {
    throw OptionError("tracker." + field, "", "tracker option " + field + " " + why);
  };
  if (detection_interval < 1) fail("detection_interval", "must be >= 1, got " + std::to_string(detection_interval));
  if (verify_interval < 1) fail("verify_interval", "must be >= 1, got " + std::to_string(verify_interval));
  if (!(min_confidence >= 0.f && min_confidence <= 1.f))
    fail("min_confidence", "must be in [0, 1], got " + std::to_string(min_confidence));
  if (confirm_hits < 1) fail("confirm_hits", "must be >= 1, got " + std::to_string(confirm_hits));
  if (max_missed < 0) fail("max_missed", "must be >= 0, got " + std::to_string(max_missed));
  if (max_faces < 0) fail("max_faces", "must be >= 0, got " + std::to_string(max_faces));
  if (min_face_size < 0) fail("min_face_size", "must be >= 0, got " + std::to_string(min_face_size));
  if (!(min_iou >= 0.f && min_iou <= 1.f)) fail("min_iou", "must be in [0, 1], got " + std::to_string(min_iou));
  if (!(max_distance >= 0.f)) fail("max_distance", "must be >= 0, got " + std::to_string(max_distance));
  if (!(landmark_min_cutoff_hz >= 0.f))
    fail("landmark_min_cutoff_hz", "must be >= 0, got " + std::to_string(landmark_min_cutoff_hz));
  if (!(landmark_beta >= 0.f)) fail("landmark_beta", "must be >= 0, got " + std::to_string(landmark_beta));
  if (!(au_smoothing >= 0.f && au_smoothing < 1.f))
    fail("au_smoothing", "must be in [0, 1), got " + std::to_string(au_smoothing));
}

FaceTracker::FaceTracker(const TrackerOptions& options) : options_(options) { options_.validate(); }

void FaceTracker::set_options(const TrackerOptions& options) {
  options.validate();
  pending_ = options;
  has_pending_ = true;
}

void FaceTracker::reset() {
  tracks_.clear();
  frames_since_reset_ = -1;
  last_detection_frame_ = -1;
  have_timestamp_ = false;
}

bool FaceTracker::detection_due() const {
  if (last_detection_frame_ < 0) return true;
  if (frame_ + 1 - last_detection_frame_ >= options_.detection_interval) return true;
  bool any_active = false;
  for (const auto& t : tracks_) {
    if (t.lost) continue;
    any_active = true;
    if (t.face.confidence < options_.min_confidence) return true;
  }
  return !any_active;
}

bool FaceTracker::begin_frame(int64_t timestamp_ns) {
  if (has_pending_) {
    options_ = pending_;
    has_pending_ = false;
    // New limits apply from this frame on, not only at the next detection.
    tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(),
                                 [&](const Track& t) {
                                   return std::max(t.face.box.width, t.face.box.height) <
                                          static_cast<float>(options_.min_face_size);
                                 }),
                  tracks_.end());
    enforce_max_faces();
  }
  const bool detect = detection_due();
  ++frame_;
  ++frames_since_reset_;
  // Frame time for the landmark filter; images without timestamps count as 30 fps.
  dt_s_ = 1.0 / 30.0;
  if (have_timestamp_ && timestamp_ns > timestamp_ns_)
    dt_s_ = std::clamp((timestamp_ns - timestamp_ns_) * 1e-9, 1e-4, 1.0);
  timestamp_ns_ = timestamp_ns;
  have_timestamp_ = true;
  detected_this_frame_ = detect;
  for (auto& t : tracks_) {
    t.matched = false;
    t.updated = false;
  }
  return detect;
}

Box FaceTracker::predicted_box(const Track& t) const {
  const float frames = static_cast<float>(std::min<int64_t>(frame_ - t.last_seen, 5));
  return shifted(t.good_box, t.vx * frames, t.vy * frames);
}

void FaceTracker::on_detections(const std::vector<Detection>& detections, int image_width, int image_height) {
  last_detection_frame_ = frame_;
  ++detector_runs_;
  image_w_ = image_width;
  image_h_ = image_height;
  std::vector<Detection> dets;
  for (const auto& d : detections) {
    if (std::max(d.box.width, d.box.height) >= static_cast<float>(options_.min_face_size) && area(d.box) > 0.f)
      dets.push_back(d);
  }
  // Larger faces first: when max_faces cuts, the largest survive.
  std::stable_sort(dets.begin(), dets.end(),
                   [](const Detection& a, const Detection& b) { return area(a.box) > area(b.box); });
  associate(dets);
  enforce_max_faces();
}

void FaceTracker::associate(const std::vector<Detection>& dets) {
  struct Pair {
    float cost;
    size_t track, det;
  };
  std::vector<Pair> pairs;
  for (size_t ti = 0; ti < tracks_.size(); ++ti) {
    const Track& t = tracks_[ti];
    const Box pb = predicted_box(t);
    const float size = std::max({pb.width, pb.height, 1.f});
    const float frames = static_cast<float>(std::min<int64_t>(frame_ - t.last_seen, 5));
    for (size_t di = 0; di < dets.size(); ++di) {
      const Detection& d = dets[di];
      const float overlap = iou(pb, d.box);
      float distance = dist(centre(pb), centre(d.box)) / size;
      if (t.has_raw && d.has_keypoints) {
        const auto kp = keypoints_of(t.raw);
        float sum = 0.f;
        for (int k = 0; k < 4; ++k) sum += dist({kp[k].x + t.vx * frames, kp[k].y + t.vy * frames}, d.keypoints[k]);
        distance = sum / 4.f / size;
      }
      if (overlap < options_.min_iou && distance > options_.max_distance) continue;
      pairs.push_back({(1.f - overlap) + distance, ti, di});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.cost < b.cost; });
  std::vector<bool> track_used(tracks_.size(), false), det_used(dets.size(), false);
  for (const Pair& p : pairs) {
    if (track_used[p.track] || det_used[p.det]) continue;
    track_used[p.track] = det_used[p.det] = true;
    Track& t = tracks_[p.track];
    const Detection& d = dets[p.det];
    t.matched = true;
    t.missed = 0;
    t.face.detection_score = d.score;
    t.detection_box = d.box;
    // Follow the detection rather than the old points when the track was lost
    // or its points drifted away from the face the detector sees.
    if (t.lost || !t.has_raw || iou(bounding_box(t.raw), d.box) < 0.3f) {
      t.from_detection = true;
      t.face.box = t.good_box = d.box;
      t.vx = t.vy = 0.f;
    }
    t.lost = false;
  }
  for (size_t ti = 0; ti < tracks_.size(); ++ti) {
    if (!track_used[ti]) ++tracks_[ti].missed;
  }
  for (size_t di = 0; di < dets.size(); ++di) {
    if (det_used[di]) continue;
    // A second detection on a face already followed is a duplicate, not a new face.
    bool duplicate = false;
    for (const auto& t : tracks_) duplicate = duplicate || (!t.lost && iou(t.face.box, dets[di].box) > 0.5f);
    if (duplicate) continue;
    Track t;
    t.face.track_id = next_id_++;
    t.face.box = t.good_box = dets[di].box;
    t.face.detection_score = dets[di].score;
    t.face.confidence = dets[di].score;
    t.detection_box = dets[di].box;
    t.matched = true;
    t.from_detection = true;
    t.born = frames_since_reset_;
    t.last_seen = frame_;
    tracks_.push_back(std::move(t));
  }
}

void FaceTracker::enforce_max_faces() {
  if (options_.max_faces <= 0 || tracks_.size() <= static_cast<size_t>(options_.max_faces)) return;
  // Faces being followed first, then the largest, then the most confident.
  std::stable_sort(tracks_.begin(), tracks_.end(), [](const Track& a, const Track& b) {
    if (a.lost != b.lost) return !a.lost;
    const float aa = area(a.face.box), ab = area(b.face.box);
    if (aa != ab) return aa > ab;
    return a.face.detection_score > b.face.detection_score;
  });
  tracks_.resize(options_.max_faces);
}

std::vector<LandmarkJob> FaceTracker::landmark_jobs() const {
  std::vector<LandmarkJob> jobs;
  for (const auto& t : tracks_) {
    if (t.lost) continue;
    LandmarkJob job;
    job.track_id = t.face.track_id;
    job.from_detection = t.from_detection || !t.has_raw;
    job.detected = t.matched;
    job.detection_box = t.detection_box;
    job.detection_score = t.face.detection_score;
    if (job.from_detection) {
      job.square = landmark_crop_box(t.face.box, LandmarkerOptions{});
    } else {
      // The square around last frame's points, moved by the face's velocity.
      job.square = shifted(landmark_crop_box(t.raw), t.vx, t.vy);
    }
    jobs.push_back(job);
  }
  return jobs;
}

void FaceTracker::smooth_landmarks(Track& t, const std::array<Point2f, 68>& raw) {
  const float min_cutoff = options_.landmark_min_cutoff_hz;
  if (min_cutoff <= 0.f) {
    t.face.landmarks = raw;
    return;
  }
  // One Euro filter: the cutoff rises with speed, so slow jitter is removed
  // and fast motion is not delayed. Speed is measured in face sizes per second.
  const Box e = bounding_box(raw);
  const float size = std::max({e.width, e.height, 1.f});
  const float dt = static_cast<float>(dt_s_);
  auto alpha = [dt](float cutoff) {
    const float tau = 1.f / (2.f * 3.14159265f * cutoff);
    return 1.f / (1.f + tau / dt);
  };
  const float a_d = alpha(1.f);
  for (int k = 0; k < 136; ++k) {
    OneEuro& f = t.filter[k];
    const float x = (k % 2 == 0) ? raw[k / 2].x : raw[k / 2].y;
    if (!f.primed) {
      f = {x, 0.f, true};
    } else {
      const float dx = (x - f.x) / dt;
      f.dx = a_d * dx + (1.f - a_d) * f.dx;
      const float a = alpha(min_cutoff + options_.landmark_beta * std::fabs(f.dx) / size);
      f.x = a * x + (1.f - a) * f.x;
    }
    (k % 2 == 0 ? t.face.landmarks[k / 2].x : t.face.landmarks[k / 2].y) = f.x;
  }
}

void FaceTracker::on_landmarks(int track_id, const std::array<Point2f, 68>& points, float confidence) {
  for (auto& t : tracks_) {
    if (t.face.track_id != track_id || t.lost) continue;
    if (t.from_detection) t.filter = {};  // a new or re-found face starts a new filter
    t.face.confidence = std::clamp(confidence, 0.f, 1.f);
    t.updated = true;
    if (t.face.confidence >= options_.min_confidence) {
      if (t.has_raw && !t.from_detection) {
        // Velocity: a short average of the landmark box's motion, pixels per frame.
        const Point2f c0 = centre(bounding_box(t.raw)), c1 = centre(bounding_box(points));
        t.vx = 0.5f * t.vx + 0.5f * (c1.x - c0.x);
        t.vy = 0.5f * t.vy + 0.5f * (c1.y - c0.y);
      }
      t.raw = points;
      t.has_raw = true;
      t.good_box = bounding_box(points);
      ++t.hits;
      t.last_seen = frame_;
    } else {
      // Reported on this frame as unsuccessful, then no longer followed; the
      // last good box and velocity stay for re-association.
      t.lost = true;
    }
    smooth_landmarks(t, points);
    t.face.has_landmarks = true;
    t.face.box = bounding_box(t.face.landmarks);
    t.from_detection = false;
    return;
  }
}

std::vector<TrackedFace> FaceTracker::end_frame() {
  for (auto& t : tracks_) {
    if (t.updated || t.lost) continue;
    if (t.matched) {
      // No landmarks this frame (a caller without a landmark net): the detection stands in.
      t.face.box = t.good_box = t.detection_box;
      t.face.confidence = t.face.detection_score;
      ++t.hits;
      t.last_seen = frame_;
      t.from_detection = false;
      t.updated = true;
    } else {
      t.lost = true;
    }
  }
  const float min_size = static_cast<float>(options_.min_face_size);
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(),
                               [&](const Track& t) {
                                 if (t.missed > options_.max_missed) return true;
                                 if (t.updated && std::max(t.face.box.width, t.face.box.height) < min_size) return true;
                                 // A face that has left the picture ends its track at once.
                                 return image_w_ > 0 && visible_fraction(predicted_box(t), image_w_, image_h_) < 0.25f;
                               }),
                tracks_.end());
  std::vector<TrackedFace> out;
  for (auto& t : tracks_) {
    if (!t.confirmed) t.confirmed = t.hits >= options_.confirm_hits || (t.born < options_.confirm_hits && t.hits > 0);
    if (t.confirmed && t.updated) out.push_back(t.face);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TrackedFace& a, const TrackedFace& b) { return area(a.box) > area(b.box); });
  return out;
}

std::vector<int> FaceTracker::track_ids() const {
  std::vector<int> ids;
  ids.reserve(tracks_.size());
  for (const auto& t : tracks_) ids.push_back(t.face.track_id);
  return ids;
}

std::vector<float> FaceTracker::on_aus(int track_id, const std::vector<float>& probabilities) {
  for (auto& t : tracks_) {
    if (t.face.track_id != track_id) continue;
    auto& p = t.face.au_probability;
    const float s = options_.au_smoothing;
    if (p.size() != probabilities.size() || s <= 0.f) {
      p = probabilities;
    } else {
      for (size_t i = 0; i < p.size(); ++i) p[i] = s * p[i] + (1.f - s) * probabilities[i];
    }
    t.face.au_frame = frame_;
    return p;
  }
  return {};
}

}  // namespace hicomex
