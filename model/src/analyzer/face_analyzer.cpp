// FaceAnalyzer: one frame through detection (some frames), landmark tracking
// (every frame, all faces in one batch), alignment and the AU network (all
// faces in one batch, every inference_interval frames).
#include "hicomex/face_analyzer.h"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "analyzer/analyzer_options.h"
#include "analyzer/landmark_confidence.h"
#include "hicomex/align.h"
#include "hicomex/au_engine.h"
#include "hicomex/face_detector.h"
#include "hicomex/face_tracker.h"
#include "hicomex/head_pose.h"
#include "hicomex/image_convert.h"
#include "hicomex/landmarker.h"
#include "hicomex/landmarks.h"

namespace hicomex {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string resolve_model_path(const std::string& given) {
  const std::string path = given.empty() ? default_model_path() : given;
  if (!std::filesystem::is_regular_file(path)) throw std::runtime_error("HiCOMEX model not found: " + path);
  return path;
}

// Analyzers of one process that use the same model share one engine (weights
// loaded once; streams take turns on it).
std::shared_ptr<AuEngine> load_engine(const AnalyzerOptions& o) {
  AuEngineOptions eo;
  eo.weights = o.model_path;
  eo.device = o.device;
  eo.threads = o.threads;
  eo.precision = o.precision;
  eo.batch_timeout_us = o.batch_timeout_us;
  return AuEngine::shared(eo);
}

std::unique_ptr<FaceDetector> load_detector(const AnalyzerOptions& o) {
  FaceDetectorOptions d;
  d.score_threshold = o.detection_score_threshold;
  return make_face_detector(o.detector, d);
}

LandmarkerOptions landmarker_options(const AnalyzerOptions& o) {
  LandmarkerOptions l;
  l.device = o.device;
  l.threads = o.threads;
  return l;
}

std::vector<cv::Point2f> to_cv(const std::array<Point2f, 68>& pts) {
  std::vector<cv::Point2f> out(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) out[i] = {pts[i].x, pts[i].y};
  return out;
}

}  // namespace

struct FaceAnalyzer::Impl {
  AnalyzerOptions options;  // in force for the current frame
  std::shared_ptr<AuEngine> engine_owner;
  AuEngine& engine;
  std::shared_ptr<void> engine_membership;  // this stream counts for cross-stream batching
  std::unique_ptr<FaceDetector> detector;
  Landmarker68 landmarker;
  LandmarkConfidence confidence;
  FaceTracker tracker;
  std::vector<float> thresholds;

  mutable std::mutex mutex;  // guards pending and reset_requested (set from other threads)
  AnalyzerOptions pending;
  bool has_pending = false;
  bool reset_requested = false;

  cv::Mat scratch;  // pixel format conversion, reused across frames
  AnalyzerTiming timing;
  int64_t frames = 0;

  explicit Impl(const AnalyzerOptions& o)
      : options(o),
        engine_owner(load_engine(options)),
        engine(*engine_owner),
        engine_membership(engine.join()),
        detector(load_detector(options)),
        landmarker(landmarker_options(options)),
        tracker(tracker_options_of(options)),
        thresholds(effective_thresholds(options.thresholds, engine.thresholds())) {}

  // Copies settings changed by set_*() since the last frame.
  void take_pending() {
    std::lock_guard<std::mutex> lock(mutex);
    if (reset_requested) {
      tracker.reset();
      reset_requested = false;
    }
    if (!has_pending) return;
    has_pending = false;
    options = pending;
    tracker.set_options(tracker_options_of(options));
    thresholds = effective_thresholds(options.thresholds, engine.thresholds());
  }

  // Landmarks for every followed face in one batch, with their confidence.
  void track_landmarks(const cv::Mat& rgb) {
    const std::vector<LandmarkJob> jobs = tracker.landmark_jobs();
    if (jobs.empty()) return;
    std::vector<cv::Mat> crops;
    crops.reserve(jobs.size());
    for (const auto& j : jobs) crops.push_back(crop_face(rgb, j.square, Landmarker68::kInputSize));
    std::vector<Landmarks68> points = landmarker.run_crops(crops);
    for (size_t i = 0; i < jobs.size(); ++i) {
      const Box& sq = jobs[i].square;
      const float s = sq.width / Landmarker68::kInputSize;
      for (auto& p : points[i]) p = {sq.x + p.x * s, sq.y + p.y * s};
      float c;
      if (jobs[i].detected) {
        Detection d;
        d.box = jobs[i].detection_box;
        d.score = jobs[i].detection_score;
        c = LandmarkConfidence::from_detection(d, points[i]);
      } else {
        c = confidence.from_crop(crops[i], sq, points[i]);
      }
      tracker.on_landmarks(jobs[i].track_id, points[i], c);
    }
  }

  // The AU network on the faces due for it, one batch; returns whether it ran.
  bool run_aus(const cv::Mat& rgb, std::vector<TrackedFace>& faces, int64_t frame, bool refresh) {
    std::vector<AlignedFaceInput> batch;
    std::vector<size_t> which;
    const bool due = refresh && frame % options.inference_interval == 0;
    for (size_t i = 0; i < faces.size(); ++i) {
      const TrackedFace& f = faces[i];
      if (f.confidence < options.min_confidence || !f.has_landmarks) continue;
      if (!due && !f.au_probability.empty()) continue;
      // The model says how large its aligned face is (200 for the paper-sized one).
      AlignedFace a = align_face(rgb, landmarks68_to_49(to_cv(f.landmarks)), engine.aligned_size());
      // The tracked points place the AU centres (engine uses them when every face has them).
      batch.push_back({std::move(a.image), a.transform, std::move(a.landmarks)});
      which.push_back(i);
    }
    if (batch.empty()) return false;
    std::vector<AuPrediction> pred = engine.run(batch);
    for (size_t k = 0; k < which.size(); ++k)
      faces[which[k]].au_probability = tracker.on_aus(faces[which[k]].track_id, pred[k].probabilities);
    return true;
  }

  FaceResult to_result(const TrackedFace& f, int width, int height) const {
    FaceResult r;
    r.track_id = f.track_id;
    r.box = f.box;
    r.detection_score = f.detection_score;
    r.confidence = f.confidence;
    r.landmarks = f.landmarks;
    try {
      r.pose = estimate_head_pose(f.landmarks, width, height);
    } catch (const std::exception&) {
      r.pose = HeadPose{};  // degenerate points: no pose, the rest stands
    }
    r.au_ids = engine.aus();
    r.au_probability = f.au_probability;
    r.au_probability.resize(r.au_ids.size(), 0.f);
    r.au_occurrence.resize(r.au_ids.size());
    for (size_t k = 0; k < r.au_ids.size(); ++k) r.au_occurrence[k] = r.au_probability[k] >= thresholds[k] ? 1 : 0;
    // OpenFace's success: the landmarks are trusted and AUs were computed for them.
    r.success = f.confidence >= options.min_confidence && !f.au_probability.empty();
    return r;
  }
};

FaceAnalyzer::FaceAnalyzer(const AnalyzerOptions& options) {
  AnalyzerOptions o = options;
  o.model_path = resolve_model_path(options.model_path);
  validate_runtime_options(o, 0);  // the threshold count is checked once the model is loaded
  if (o.threads < 0) throw std::invalid_argument("analyzer option threads must be >= 0, got " + std::to_string(o.threads));
  impl_ = std::make_unique<Impl>(o);
}

FaceAnalyzer::~FaceAnalyzer() = default;
FaceAnalyzer::FaceAnalyzer(FaceAnalyzer&&) noexcept = default;
FaceAnalyzer& FaceAnalyzer::operator=(FaceAnalyzer&&) noexcept = default;

std::vector<FaceResult> FaceAnalyzer::process(const ImageView& frame, int64_t timestamp_ns, bool refresh_aus) {
  Impl& d = *impl_;
  const auto t_start = Clock::now();
  d.take_pending();
  AnalyzerTiming timing;
  cv::Mat rgb = image_to_rgb(frame, d.scratch);  // validates the view
  timing.convert_ms = ms_since(t_start);

  auto t = Clock::now();
  if (d.tracker.begin_frame(timestamp_ns)) {
    d.tracker.on_detections(d.detector->detect(rgb), rgb.cols, rgb.rows);
    timing.detector_ran = true;
    timing.detection_ms = ms_since(t);
  }
  t = Clock::now();
  d.track_landmarks(rgb);
  std::vector<TrackedFace> faces = d.tracker.end_frame();
  timing.landmarks_ms = ms_since(t);

  t = Clock::now();
  timing.au_ran = d.run_aus(rgb, faces, d.frames, refresh_aus);
  if (timing.au_ran) timing.au_ms = ms_since(t);

  std::vector<FaceResult> results;
  results.reserve(faces.size());
  for (const auto& f : faces) results.push_back(d.to_result(f, rgb.cols, rgb.rows));
  ++d.frames;
  timing.faces = static_cast<int>(results.size());
  timing.total_ms = ms_since(t_start);
  d.timing = timing;
  return results;
}

void FaceAnalyzer::set_options(const AnalyzerOptions& options) {
  validate_runtime_options(options, impl_->engine.aus().size());
  std::lock_guard<std::mutex> lock(impl_->mutex);
  AnalyzerOptions next = impl_->has_pending ? impl_->pending : impl_->options;
  next.detection_interval = options.detection_interval;
  next.inference_interval = options.inference_interval;
  next.max_faces = options.max_faces;
  next.min_face_size = options.min_face_size;
  next.min_confidence = options.min_confidence;
  next.thresholds = options.thresholds;
  next.landmark_smoothing_hz = options.landmark_smoothing_hz;
  next.au_smoothing = options.au_smoothing;
  impl_->pending = next;
  impl_->has_pending = true;
}

AnalyzerOptions FaceAnalyzer::options() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->has_pending ? impl_->pending : impl_->options;
}

void FaceAnalyzer::set_thresholds(const std::vector<float>& thresholds) {
  AnalyzerOptions o = options();
  o.thresholds = thresholds;
  set_options(o);
}
void FaceAnalyzer::set_detection_interval(int frames) {
  AnalyzerOptions o = options();
  o.detection_interval = frames;
  set_options(o);
}
void FaceAnalyzer::set_inference_interval(int frames) {
  AnalyzerOptions o = options();
  o.inference_interval = frames;
  set_options(o);
}
void FaceAnalyzer::set_max_faces(int faces) {
  AnalyzerOptions o = options();
  o.max_faces = faces;
  set_options(o);
}
void FaceAnalyzer::set_min_face_size(int pixels) {
  AnalyzerOptions o = options();
  o.min_face_size = pixels;
  set_options(o);
}
void FaceAnalyzer::set_smoothing(float landmark_smoothing_hz, float au_smoothing) {
  AnalyzerOptions o = options();
  o.landmark_smoothing_hz = landmark_smoothing_hz;
  o.au_smoothing = au_smoothing;
  set_options(o);
}

void FaceAnalyzer::reset() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->reset_requested = true;
}

const std::string& FaceAnalyzer::model_id() const { return impl_->engine.info().model_id; }
const std::string& FaceAnalyzer::model_path() const { return impl_->options.model_path; }
const std::vector<int>& FaceAnalyzer::au_ids() const { return impl_->engine.aus(); }
std::vector<float> FaceAnalyzer::model_thresholds() const { return impl_->engine.thresholds(); }
std::vector<float> FaceAnalyzer::thresholds() const {
  return effective_thresholds(options().thresholds, impl_->engine.thresholds());
}
std::string FaceAnalyzer::device() const { return impl_->engine.device(); }
std::string FaceAnalyzer::precision() const { return impl_->engine.precision(); }
const AnalyzerTiming& FaceAnalyzer::last_timing() const { return impl_->timing; }
int64_t FaceAnalyzer::frames_processed() const { return impl_->frames; }
int64_t FaceAnalyzer::detector_runs() const { return impl_->tracker.detector_runs(); }

}  // namespace hicomex
