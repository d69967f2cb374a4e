// FaceAnalyzer: frames through detection (some frames), landmark tracking
// (every frame, all faces in one batch), alignment and the AU network (every
// inference_interval frames, the faces of one or several frames in one batch).
//
// Three stages, data flowing one way:
//   1. tracking (one frame at a time, in order: the tracker's state follows the
//      frames): pixels -> detection -> landmarks -> tracked faces -> aligned
//      crops of the faces due for AUs. The frame's pixels are not used after it.
//   2. AU network (batches of consecutive frames, any worker, any order).
//   3. finishing (the caller's thread, in order): per-track AU smoothing and
//      reuse, thresholds, head pose -> FaceResult.
// Worker threads take stage 1 whenever it is free and a frame waits, AU
// batches otherwise; each runs LibTorch with one intra-op thread, so no thread
// spins waiting for another and both cores stay busy on different frames.
#include "hicomex/face_analyzer.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "analyzer/analyzer_options.h"
#include "analyzer/landmark_confidence.h"
#include "hicomex/align.h"
#include "hicomex/au_engine.h"
#include "hicomex/errors.h"
#include "hicomex/face_detector.h"
#include "hicomex/face_tracker.h"
#include "hicomex/head_pose.h"
#include "hicomex/image_convert.h"
#include "hicomex/landmarker.h"
#include "hicomex/landmarks.h"

namespace hicomex {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

std::string resolve_model_path(const std::string& given) {
  const std::string path = given.empty() ? default_model_path() : given;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ModelFileError(ModelFileError::Kind::Unreadable, path,
                         "HiCOMEX model " + path + " is a directory, not a weights file (.safetensors)");
  if (!std::filesystem::is_regular_file(path, ec))
    throw ModelFileError(ModelFileError::Kind::NotFound, path, "HiCOMEX model not found: " + path);
  return path;
}

// Analyzers of one process that use the same model share one engine (weights
// loaded once; streams take turns on it).
std::shared_ptr<AuEngine> load_engine(const AnalyzerOptions& o) {
  AuEngineOptions eo = o.engine;
  eo.threads = 1;  // one intra-op thread per worker (see the file comment)
  return AuEngine::shared(eo);
}

std::unique_ptr<FaceDetector> load_detector(const AnalyzerOptions& o) {
  return make_face_detector(o.detector.name, o.detector.options);
}

LandmarkerOptions landmarker_options(const AnalyzerOptions& o) {
  LandmarkerOptions l = o.landmarks;
  l.device = o.engine.device;  // one device for both networks
  l.threads = 0;               // the worker threads set their own intra-op count
  return l;
}

// The networks of one analyzer. The AU engine, the slowest to load (building
// the network, reading the weights, their checksum: about 0.1 s for the
// default model, 0.5 s for a paper-sized one on a 2-core machine), loads on a
// second thread while this one loads the face detector, the landmark net and
// the landmark check's detector. A failure is reported as when they loaded
// one after another: the engine's first.
struct LoadedModels {
  std::shared_ptr<AuEngine> engine;
  std::unique_ptr<FaceDetector> detector;
  Landmarker68 landmarker;
  LandmarkConfidence confidence;
};

LoadedModels load_models(const AnalyzerOptions& o) {
  auto engine = std::async(std::launch::async, [&o] { return load_engine(o); });
  try {
    auto detector = load_detector(o);
    Landmarker68 landmarker(landmarker_options(o));
    LandmarkConfidence confidence;
    return {engine.get(), std::move(detector), std::move(landmarker), std::move(confidence)};
  } catch (...) {
    if (engine.valid()) engine.get();  // throws the engine's failure, if it had one
    throw;
  }
}

// A frame's error again, of the same type, with `prefix` before its message.
[[noreturn]] void rethrow_with_prefix(const std::string& prefix) {
  try {
    throw;
  } catch (const DeviceError& e) {
    throw DeviceError(e.value(), e.valid_text(), prefix + e.what());
  } catch (const OptionError& e) {
    throw OptionError(e.option(), e.value(), prefix + e.what());
  } catch (const MediaError& e) {
    throw MediaError(prefix + e.what());
  } catch (const ModelFileError& e) {
    throw ModelFileError(e.kind(), e.path(), prefix + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(prefix + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(prefix + e.what());
  }
}

int worker_count(int requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return requested <= 0 ? cores : std::min(requested, cores);
}

int resolved_batch_frames(int requested) { return requested <= 0 ? AnalyzerOptions::kDefaultAuBatchFrames : requested; }

// One submitted frame on its way through the stages.
struct FrameJob {
  uint64_t tag = 0;
  int64_t timestamp_ns = 0;
  ImageView view;  // the caller's pixels, read by stage 1 only
  bool refresh = true;
  bool reset_before = false;
  std::shared_ptr<const AnalyzerOptions> options;  // in force for this frame
  // stage 1
  std::vector<TrackedFace> faces;
  std::vector<int> track_ids;  // every track after this frame (lost ones too)
  int width = 0, height = 0;
  int64_t detector_runs = 0;
  std::vector<AlignedFaceInput> au_inputs;
  std::vector<size_t> au_faces;  // faces[] index of each au_inputs entry
  // stage 2
  std::vector<AuPrediction> au_out;
  AnalyzerTiming timing;
  std::exception_ptr error;
  bool done = false;  // stages 1 and 2 over (or failed)
};

// Faces of consecutive frames for one run of the AU network.
struct AuBatch {
  std::vector<FrameJob*> frames;
  size_t faces = 0;
  bool closed = false;  // takes no more frames; may run
  bool running = false;
};

// Largest batch of faces the AU network gets at once (memory, latency).
constexpr size_t kMaxBatchFaces = 32;

std::vector<cv::Point2f> to_cv(const std::array<Point2f, 68>& pts) {
  std::vector<cv::Point2f> out(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) out[i] = {pts[i].x, pts[i].y};
  return out;
}

}  // namespace

struct FaceAnalyzer::Impl {
  // ---- settings (any thread, under settings_mutex) ----
  mutable std::mutex settings_mutex;
  std::shared_ptr<const AnalyzerOptions> latest;  // for frames submitted from now on
  bool reset_requested = false;
  const std::string model_path;  // resolved at construction

  // ---- models (shared by the stages; each is safe for its use) ----
  std::shared_ptr<AuEngine> engine_owner;
  AuEngine& engine;
  std::shared_ptr<void> engine_membership;  // this stream counts for cross-stream batching
  const int workers_wanted;

  // ---- stage 1 state (one worker at a time) ----
  std::unique_ptr<FaceDetector> detector;
  Landmarker68 landmarker;
  LandmarkConfidence confidence;
  FaceTracker tracker;
  std::shared_ptr<const AnalyzerOptions> tracker_options_from;
  std::unordered_set<int> au_scheduled;  // tracks that have had AUs computed or queued
  cv::Mat scratch;                       // pixel format conversion, reused across frames
  int64_t tracked_frames = 0;

  // ---- stage 3 state (the caller's thread) ----
  struct TrackAus {
    std::vector<float> probability;    // smoothed
    std::vector<float> intensity_raw;  // smoothed, before calibration (empty: no intensity head)
    std::vector<float> intensity;      // as reported (calibrated or not)
  };
  std::unordered_map<int, TrackAus> au_state;  // per track
  AuCalibrator calibrator;
  AnalyzerTiming timing;
  int64_t frames = 0;
  int64_t detector_runs = 0;

  // ---- the queue between them (under m) ----
  std::mutex m;
  std::condition_variable work_cv;             // workers wait for work
  std::condition_variable done_cv;             // next() and discard() wait for workers
  std::deque<std::unique_ptr<FrameJob>> jobs;  // submitted, not yet returned, in order
  size_t next_track = 0;                       // jobs[] index of the next frame for stage 1
  bool tracking_busy = false;
  std::deque<std::unique_ptr<AuBatch>> batches;
  int running_batches = 0;
  bool flushing = false;
  bool consumer_waiting = false;
  bool discarding = false;
  bool stopping = false;
  uint64_t generation = 0;  // bumped by discard()
  std::vector<std::thread> workers;

  explicit Impl(const AnalyzerOptions& o) : Impl(o, load_models(o)) {}

  Impl(const AnalyzerOptions& o, LoadedModels&& models)
      : latest(std::make_shared<const AnalyzerOptions>(o)),
        model_path(o.engine.weights),
        engine_owner(std::move(models.engine)),
        engine(*engine_owner),
        engine_membership(engine.join()),
        workers_wanted(worker_count(o.threads)),
        detector(std::move(models.detector)),
        landmarker(std::move(models.landmarker)),
        confidence(std::move(models.confidence)),
        tracker(o.tracker) {
    // The engine set one intra-op thread on the thread that loaded it; the
    // caller's thread keeps that setting, as when it loaded the engine itself.
    set_intra_op_threads(1);
    effective_thresholds(o.thresholds, engine.thresholds());  // throws on a wrong count
    tracker_options_from = latest;
    workers.reserve(workers_wanted);
    for (int i = 0; i < workers_wanted; ++i) workers.emplace_back([this] { worker_main(); });
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(m);
      stopping = true;
    }
    work_cv.notify_all();
    for (auto& t : workers) t.join();
  }

  std::shared_ptr<const AnalyzerOptions> options_snapshot() const {
    std::lock_guard<std::mutex> lock(settings_mutex);
    return latest;
  }

  void worker_main() {
    set_intra_op_threads(1);
    std::unique_lock<std::mutex> lock(m);
    while (!stopping) {
      if (!discarding && !tracking_busy && next_track < jobs.size()) {
        FrameJob* job = jobs[next_track++].get();
        tracking_busy = true;
        lock.unlock();
        track(*job);
        lock.lock();
        tracking_busy = false;
        if (job->error || job->au_inputs.empty()) {
          job->done = true;
        } else {
          add_to_open_batch(job);
        }
        close_due_batches();
        done_cv.notify_all();
        work_cv.notify_all();
        continue;
      }
      AuBatch* batch = nullptr;
      if (!discarding) {
        for (auto& b : batches) {
          if (b->closed && !b->running) {
            batch = b.get();
            break;
          }
        }
      }
      if (batch) {
        batch->running = true;
        ++running_batches;
        lock.unlock();
        infer(*batch);
        lock.lock();
        --running_batches;
        for (FrameJob* f : batch->frames) f->done = true;
        batches.erase(
            std::find_if(batches.begin(), batches.end(), [batch](const auto& b) { return b.get() == batch; }));
        done_cv.notify_all();
        work_cv.notify_all();
        continue;
      }
      work_cv.wait(lock);
    }
  }

  // ---- the queue (call with m held) ----
  void add_to_open_batch(FrameJob* job) {
    if (batches.empty() || batches.back()->closed) batches.push_back(std::make_unique<AuBatch>());
    AuBatch& b = *batches.back();
    b.frames.push_back(job);
    b.faces += job->au_inputs.size();
  }

  // The open batch closes when full, or when nothing more is coming soon
  // (end of input, or the caller waits for a frame of this very batch) and no
  // frame is left to track. A caller waiting for an older frame does not close
  // it: batches then depend only on the frame order, never on timing, so the
  // same input gives the same numbers on every run (batch size changes float
  // rounding).
  void close_due_batches() {
    if (batches.empty() || batches.back()->closed) return;
    AuBatch& b = *batches.back();
    const int frames_per_batch = resolved_batch_frames(b.frames.back()->options->au_batch_frames);
    const bool full = static_cast<int>(b.frames.size()) >= frames_per_batch || b.faces >= kMaxBatchFaces;
    const bool waited_for = consumer_waiting && !jobs.empty() &&
                            std::find(b.frames.begin(), b.frames.end(), jobs.front().get()) != b.frames.end();
    const bool idle = next_track == jobs.size() && !tracking_busy && (flushing || waited_for);
    if (full || idle) {
      b.closed = true;
      work_cv.notify_all();
    }
  }

  // ---- stage 1 ----
  void track(FrameJob& job) {
    const auto t_start = Clock::now();
    try {
      const AnalyzerOptions& o = *job.options;
      if (job.reset_before) {
        tracker.reset();
        confidence.clear();
        au_scheduled.clear();
      }
      if (job.options != tracker_options_from) {
        tracker.set_options(o.tracker);
        tracker_options_from = job.options;
      }
      AnalyzerTiming& timing = job.timing;
      cv::Mat rgb = image_to_rgb(job.view, scratch);
      timing.convert_ms = ms_since(t_start);
      job.width = rgb.cols;
      job.height = rgb.rows;

      auto t = Clock::now();
      if (tracker.begin_frame(job.timestamp_ns)) {
        tracker.on_detections(detector->detect(rgb), rgb.cols, rgb.rows);
        timing.detector_ran = true;
        timing.detection_ms = ms_since(t);
      }
      t = Clock::now();
      timing.landmark_checks = track_landmarks(rgb, o.tracker.verify_interval);
      job.faces = tracker.end_frame();
      timing.landmarks_ms = ms_since(t);

      t = Clock::now();
      const bool due = job.refresh && tracked_frames % o.inference_interval == 0;
      for (size_t i = 0; i < job.faces.size(); ++i) {
        const TrackedFace& f = job.faces[i];
        if (f.confidence < o.tracker.min_confidence || !f.has_landmarks) continue;
        // A face gets AUs on its first frame whatever the interval.
        if (!due && au_scheduled.count(f.track_id)) continue;
        // The model says how large its aligned face is (200 for the paper-sized one).
        AlignedFace a = align_face(rgb, landmarks68_to_49(to_cv(f.landmarks)), engine.aligned_size());
        // The tracked points place the AU centres (engine uses them when every face has them).
        job.au_inputs.push_back({std::move(a.image), a.transform, std::move(a.landmarks)});
        job.au_faces.push_back(i);
        au_scheduled.insert(f.track_id);
      }
      job.track_ids = tracker.track_ids();
      confidence.retain(job.track_ids);
      for (auto it = au_scheduled.begin(); it != au_scheduled.end();) {
        if (std::find(job.track_ids.begin(), job.track_ids.end(), *it) == job.track_ids.end())
          it = au_scheduled.erase(it);
        else
          ++it;
      }
      timing.au_ms = ms_since(t);  // alignment; the network's share is added by stage 2
      timing.au_ran = !job.au_inputs.empty();
      job.detector_runs = tracker.detector_runs();
    } catch (...) {
      job.error = std::current_exception();
    }
    ++tracked_frames;
    job.timing.total_ms = ms_since(t_start);
  }

  // Landmarks for every followed face in one batch, with their confidence;
  // returns how many faces had their landmark check run on the crop.
  int track_landmarks(const cv::Mat& rgb, int verify_interval) {
    int landmark_checks = 0;
    const std::vector<LandmarkJob> jobs_ = tracker.landmark_jobs();
    if (jobs_.empty()) return 0;
    std::vector<cv::Mat> crops;
    crops.reserve(jobs_.size());
    for (const auto& j : jobs_) crops.push_back(crop_face(rgb, j.square, Landmarker68::kInputSize));
    std::vector<Landmarks68> points = landmarker.run_crops(crops);
    for (size_t i = 0; i < jobs_.size(); ++i) {
      const Box& sq = jobs_[i].square;
      const float s = sq.width / Landmarker68::kInputSize;
      for (auto& p : points[i]) p = {sq.x + p.x * s, sq.y + p.y * s};
      Detection d;
      d.box = jobs_[i].detection_box;
      d.score = jobs_[i].detection_score;
      bool checked = false;
      const float c = confidence.for_track(jobs_[i].track_id, crops[i], sq, points[i], jobs_[i].detected ? &d : nullptr,
                                           verify_interval, &checked);
      landmark_checks += checked;
      tracker.on_landmarks(jobs_[i].track_id, points[i], c);
    }
    return landmark_checks;
  }

  // ---- stage 2 ----
  void infer(AuBatch& batch) {
    const auto t0 = Clock::now();
    try {
      std::vector<AlignedFaceInput> inputs;
      inputs.reserve(batch.faces);
      for (const FrameJob* f : batch.frames) inputs.insert(inputs.end(), f->au_inputs.begin(), f->au_inputs.end());
      std::vector<AuPrediction> out = engine.run(inputs);
      size_t k = 0;
      for (FrameJob* f : batch.frames) {
        f->au_out.assign(std::make_move_iterator(out.begin() + k),
                         std::make_move_iterator(out.begin() + k + f->au_inputs.size()));
        k += f->au_inputs.size();
      }
    } catch (...) {
      for (FrameJob* f : batch.frames) f->error = std::current_exception();
    }
    // Each frame is charged its share of the batch.
    const double ms = ms_since(t0);
    for (FrameJob* f : batch.frames) {
      const double share = ms * static_cast<double>(f->au_inputs.size()) / static_cast<double>(batch.faces);
      f->timing.au_ms += share;
      f->timing.total_ms += share;
      f->au_inputs.clear();  // the aligned crops are not needed any more
    }
  }

  // ---- stage 3 ----
  AnalyzedFrame finish(FrameJob& job) {
    const auto t0 = Clock::now();
    if (job.error) {
      try {
        std::rethrow_exception(job.error);
      } catch (...) {
        rethrow_with_prefix("");
      }
    }
    const AnalyzerOptions& o = *job.options;
    if (job.reset_before) {
      au_state.clear();
      calibrator.clear();
    }
    auto smooth = [](std::vector<float>& state, const std::vector<float>& v, float s) {
      if (state.size() != v.size() || s <= 0.f) {
        state = v;
      } else {
        for (size_t i = 0; i < v.size(); ++i) state[i] = s * state[i] + (1.f - s) * v[i];
      }
    };
    for (size_t k = 0; k < job.au_faces.size(); ++k) {
      const int id = job.faces[job.au_faces[k]].track_id;
      TrackAus& state = au_state[id];
      smooth(state.probability, job.au_out[k].probabilities, o.tracker.au_smoothing);
      if (!job.au_out[k].intensities.empty()) {
        smooth(state.intensity_raw, job.au_out[k].intensities, o.tracker.au_smoothing);
        // The calibrator sees every evaluation, whatever the mode, so turning
        // calibration on mid-stream uses the history gathered so far.
        std::vector<float> calibrated = calibrator.update(id, state.intensity_raw);
        state.intensity = o.calibration == AuCalibration::Dynamic ? std::move(calibrated) : state.intensity_raw;
      }
    }
    for (auto it = au_state.begin(); it != au_state.end();) {
      if (std::find(job.track_ids.begin(), job.track_ids.end(), it->first) == job.track_ids.end())
        it = au_state.erase(it);
      else
        ++it;
    }
    calibrator.retain(job.track_ids);
    const std::vector<float> thresholds = effective_thresholds(o.thresholds, engine.thresholds());
    AnalyzedFrame out;
    out.tag = job.tag;
    out.timestamp_ns = job.timestamp_ns;
    out.faces.reserve(job.faces.size());
    for (TrackedFace& f : job.faces) {
      auto it = au_state.find(f.track_id);
      if (it != au_state.end()) f.au_probability = it->second.probability;
      FaceResult r = to_result(f, job.width, job.height, o, thresholds);
      if (it != au_state.end() && it->second.intensity.size() == r.au_ids.size()) {
        r.au_intensity = it->second.intensity;
        r.au_intensity_raw = it->second.intensity_raw;
        if (o.calibration == AuCalibration::Dynamic)
          for (size_t k = 0; k < r.au_ids.size(); ++k)
            if (r.au_intensity[k] < FaceResult::kPresenceMinIntensity) r.au_occurrence[k] = 0;
      }
      out.faces.push_back(std::move(r));
    }
    out.timing = job.timing;
    out.timing.faces = static_cast<int>(out.faces.size());
    out.timing.total_ms += ms_since(t0);
    timing = out.timing;
    detector_runs = job.detector_runs;
    ++frames;
    return out;
  }

  FaceResult to_result(const TrackedFace& f, int width, int height, const AnalyzerOptions& o,
                       const std::vector<float>& thresholds) const {
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
    r.success = f.confidence >= o.tracker.min_confidence && !f.au_probability.empty();
    return r;
  }
};

FaceAnalyzer::FaceAnalyzer(const AnalyzerOptions& options) {
  AnalyzerOptions o = options;
  o.engine.weights = resolve_model_path(options.engine.weights);
  validate_runtime_options(o, 0);  // the threshold count is checked once the model is loaded
  validate_fixed_options(o);       // device and precision, before any network is loaded
  impl_ = std::make_unique<Impl>(o);
}

FaceAnalyzer::~FaceAnalyzer() = default;
FaceAnalyzer::FaceAnalyzer(FaceAnalyzer&&) noexcept = default;
FaceAnalyzer& FaceAnalyzer::operator=(FaceAnalyzer&&) noexcept = default;

void FaceAnalyzer::submit(const ImageView& frame, int64_t timestamp_ns, bool refresh_aus, uint64_t tag) {
  Impl& d = *impl_;
  validate_image_view(frame);
  auto job = std::make_unique<FrameJob>();
  job->tag = tag;
  job->timestamp_ns = timestamp_ns;
  job->view = frame;
  job->refresh = refresh_aus;
  {
    std::lock_guard<std::mutex> lock(d.settings_mutex);
    job->options = d.latest;
    job->reset_before = d.reset_requested;
    d.reset_requested = false;
  }
  {
    std::lock_guard<std::mutex> lock(d.m);
    d.jobs.push_back(std::move(job));
    d.flushing = false;
  }
  d.work_cv.notify_all();
}

bool FaceAnalyzer::next(AnalyzedFrame* out, bool wait) {
  Impl& d = *impl_;
  std::unique_ptr<FrameJob> job;
  {
    std::unique_lock<std::mutex> lock(d.m);
    const uint64_t generation = d.generation;
    while (true) {
      if (d.generation != generation || d.jobs.empty()) return false;
      if (d.jobs.front()->done) break;
      if (!wait) return false;
      d.consumer_waiting = true;
      d.close_due_batches();
      d.done_cv.wait(lock);
      d.consumer_waiting = false;
    }
    job = std::move(d.jobs.front());
    d.jobs.pop_front();
    --d.next_track;
  }
  try {
    *out = d.finish(*job);
  } catch (const std::exception&) {
    rethrow_with_prefix("frame " + std::to_string(job->tag) + ": ");
  }
  return true;
}

void FaceAnalyzer::flush() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.m);
  d.flushing = true;
  d.close_due_batches();
}

size_t FaceAnalyzer::pending() const {
  std::lock_guard<std::mutex> lock(impl_->m);
  return impl_->jobs.size();
}

size_t FaceAnalyzer::max_pending() const {
  return 2 * static_cast<size_t>(au_batch_frames()) + static_cast<size_t>(impl_->workers_wanted);
}

void FaceAnalyzer::discard() {
  Impl& d = *impl_;
  std::unique_lock<std::mutex> lock(d.m);
  d.discarding = true;
  d.done_cv.wait(lock, [&d] { return !d.tracking_busy && d.running_batches == 0; });
  d.jobs.clear();
  d.batches.clear();
  d.next_track = 0;
  // Frames whose AUs were dropped: their tracks get AUs again on their next frame.
  d.au_scheduled.clear();
  ++d.generation;
  d.discarding = false;
  d.done_cv.notify_all();
  d.work_cv.notify_all();
}

std::vector<FaceResult> FaceAnalyzer::process(const ImageView& frame, int64_t timestamp_ns, bool refresh_aus) {
  if (pending() != 0)
    throw std::logic_error("FaceAnalyzer::process() called while frames given to submit() are pending");
  submit(frame, timestamp_ns, refresh_aus, 0);
  flush();
  AnalyzedFrame out;
  if (!next(&out, true)) throw std::runtime_error("FaceAnalyzer::process(): the frame was discarded");
  return std::move(out.faces);
}

void FaceAnalyzer::set_options(const AnalyzerOptions& options) {
  validate_runtime_options(options, impl_->engine.aus().size());
  std::lock_guard<std::mutex> lock(impl_->settings_mutex);
  AnalyzerOptions next = *impl_->latest;
  next.tracker = options.tracker;
  next.inference_interval = options.inference_interval;
  next.thresholds = options.thresholds;
  next.calibration = options.calibration;
  impl_->latest = std::make_shared<const AnalyzerOptions>(std::move(next));
}

AnalyzerOptions FaceAnalyzer::options() const { return *impl_->options_snapshot(); }

void FaceAnalyzer::set_au_batch_frames(int frames) {
  if (frames < 0)
    throw OptionError("au_batch_frames", std::to_string(frames),
                      "analyzer option au_batch_frames must be >= 0, got " + std::to_string(frames));
  std::lock_guard<std::mutex> lock(impl_->settings_mutex);
  AnalyzerOptions next = *impl_->latest;
  next.au_batch_frames = frames;
  impl_->latest = std::make_shared<const AnalyzerOptions>(std::move(next));
}
int FaceAnalyzer::au_batch_frames() const { return resolved_batch_frames(options().au_batch_frames); }
int FaceAnalyzer::worker_threads() const { return impl_->workers_wanted; }

void FaceAnalyzer::set_thresholds(const std::vector<float>& thresholds) {
  AnalyzerOptions o = options();
  o.thresholds = thresholds;
  set_options(o);
}
void FaceAnalyzer::set_detection_interval(int frames) {
  AnalyzerOptions o = options();
  o.tracker.detection_interval = frames;
  set_options(o);
}
void FaceAnalyzer::set_inference_interval(int frames) {
  AnalyzerOptions o = options();
  o.inference_interval = frames;
  set_options(o);
}
void FaceAnalyzer::reset() {
  std::lock_guard<std::mutex> lock(impl_->settings_mutex);
  impl_->reset_requested = true;
}

const std::string& FaceAnalyzer::model_id() const { return impl_->engine.info().model_id; }
bool FaceAnalyzer::has_intensity() const { return impl_->engine.has_intensity(); }
bool FaceAnalyzer::model_checksummed() const { return impl_->engine.weights_checksummed(); }
const std::string& FaceAnalyzer::model_path() const { return impl_->model_path; }
const std::vector<int>& FaceAnalyzer::au_ids() const { return impl_->engine.aus(); }
std::vector<float> FaceAnalyzer::model_thresholds() const { return impl_->engine.thresholds(); }
std::vector<float> FaceAnalyzer::thresholds() const {
  return effective_thresholds(options().thresholds, impl_->engine.thresholds());
}
std::string FaceAnalyzer::device() const { return impl_->engine.device(); }
std::string FaceAnalyzer::precision() const { return impl_->engine.precision(); }
const AnalyzerTiming& FaceAnalyzer::last_timing() const { return impl_->timing; }
int64_t FaceAnalyzer::frames_processed() const { return impl_->frames; }
int64_t FaceAnalyzer::detector_runs() const { return impl_->detector_runs; }

}  // namespace hicomex
