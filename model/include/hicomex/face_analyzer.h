// FaceAnalyzer: a video frame in, one FaceResult per face out. Detection,
// 68-point landmark tracking, alignment, head pose and the HiCOMEX AU network,
// behind a header with no LibTorch (the GStreamer glue includes it; the
// options of the components it nests bring OpenCV's core header).
//
//   hicomex::FaceAnalyzer analyzer({});            // default model, BlazeFace
//   for (each frame) {
//     auto faces = analyzer.process(hicomex::ImageView::packed(rgb, w, h, hicomex::PixelFormat::RGB), pts_ns);
//   }
//
// Two ways to feed it. process() gives one frame's faces back at once. For a
// stream, submit() + next() overlap the work of consecutive frames: detection
// and landmarks of frame N+1 run on one worker thread while the AU network runs
// on frame N (or on a batch of frames) on another, and next() hands the results
// back in submission order:
//
//   analyzer.submit(view, pts_ns, true, tag);      // pixels must stay valid ...
//   hicomex::AnalyzedFrame done;
//   while (analyzer.next(&done, /*wait=*/false)) use(done);   // ... until here
//   analyzer.flush();                              // end of input: no more batching
//   while (analyzer.next(&done, true)) use(done);
//
// One instance is for one stream: submit()/next()/process() from one thread at
// a time; set_*() and reset() may be called from any thread and take effect
// from the next submitted frame. docs/analyzer.md has the details.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hicomex/au_calibration.h"
#include "hicomex/au_engine.h"
#include "hicomex/face_detector.h"
#include "hicomex/face_result.h"
#include "hicomex/face_tracker.h"
#include "hicomex/image.h"
#include "hicomex/landmarker.h"

namespace hicomex {

/// Everything a FaceAnalyzer is set up with: the single source of the
/// analyzer's fields and their defaults. The parts reuse the options of the
/// components (a default-constructed AnalyzerOptions holds their defaults), so
/// the element's property defaults and the tools' CLI defaults are read from
/// here, e.g. `AnalyzerOptions().tracker.detection_interval`.
struct AnalyzerOptions {
  // ---- fixed at construction ----
  /// The face detector: a name from face_detector_names() (blazeface,
  /// blazeface-back, haar, lbp) and its options (score_threshold: BlazeFace's
  /// score cut; the cascades have no score).
  struct Detector {
    std::string name = "blazeface";
    FaceDetectorOptions options;
  } detector;
  /// The AU network: `weights` (HiCOMEX safetensors; empty = default_model_path()),
  /// `device` ("auto", "cpu", "cuda", "cuda:N"; the landmark net runs there too,
  /// the detector on the CPU), `precision` ("auto": bf16 on CUDA and on CPUs with
  /// AVX512-BF16, else fp32; "fp32", "bf16", "fp16" on CUDA) and
  /// `batch_timeout_us` (cross-stream batching, 0 = off). Its `threads` is not
  /// used: each worker runs the networks with one intra-op thread.
  AuEngineOptions engine = default_engine_options();
  /// The 68-point landmark net: `manifest_path` (empty = the one in
  /// face_models_dir()). Its device is engine.device and its threads are the
  /// workers'; the crop settings are the tracker's (landmark_crop_box).
  LandmarkerOptions landmarks;
  /// Worker threads of this analyzer (0 = one per core; more than the cores
  /// is clamped to the cores). Each runs the networks with one LibTorch
  /// intra-op thread, so nothing spins waiting for anything else: the
  /// parallelism comes from the stages of consecutive frames running at once.
  int threads = 0;
  /// Frames whose faces go through the AU network as one batch (submit()/next()
  /// only; set_au_batch_frames() changes it, set_options() leaves it): 0 = automatic (kDefaultAuBatchFrames), 1 = every
  /// frame on its own (live sources: no frame waits for the next one).
  int au_batch_frames = 0;
  static constexpr int kDefaultAuBatchFrames = 8;

  // ---- may change while running (set_options, applied at the next frame) ----
  /// Tracking: detection_interval (detector every N frames; in between faces
  /// are followed by their landmarks), min_confidence (landmark confidence for
  /// success and re-detection), max_faces (largest first; 0 = all),
  /// min_face_size (pixels, larger side of the box), landmark_min_cutoff_hz
  /// (landmark smoothing, One Euro minimum cutoff; 0 = raw, 1-3 is smooth but
  /// responsive), au_smoothing (weight of the past of AU probabilities in
  /// [0, 1); 0 = raw), and the association and hysteresis settings.
  TrackerOptions tracker;
  /// Run the AU network every N frames; in between each face keeps its last AUs.
  /// A new face gets its AUs on its first frame.
  int inference_interval = 1;
  /// AU decision thresholds: empty = the model's; one value = for every AU;
  /// otherwise one per AU in au_ids() order (resolve_thresholds() makes this
  /// from a threshold text, hicomex/option_parsers.h).
  std::vector<float> thresholds;
  /// Per-person intensity calibration per track (models with an intensity
  /// head): Dynamic subtracts each track's running low percentile
  /// (AuCalibrator). Video default; use None for unrelated single images.
  AuCalibration calibration = AuCalibration::Dynamic;

  /// The analyzer's engine defaults: AuEngineOptions' own, but precision
  /// "auto" (the engine alone defaults to fp32).
  static AuEngineOptions default_engine_options() {
    AuEngineOptions e;
    e.precision = "auto";
    return e;
  }
};

/// The default HiCOMEX weights: $HICOMEX_MODEL if set, else
/// HICOMEX_INSTALL_DATADIR/models/hicomex-default.safetensors, else the same
/// file under the source tree's models/. Throws ModelFileError (NotFound; a
/// std::runtime_error) naming every path tried when none exists (or naming
/// $HICOMEX_MODEL if it is missing).
std::string default_model_path();

/// Cost of the last processed frame, milliseconds (for benchmarks and logs).
struct AnalyzerTiming {
  double convert_ms = 0.0;    ///< pixel format to RGB
  double detection_ms = 0.0;  ///< 0 on frames where the detector did not run
  double landmarks_ms = 0.0;  ///< landmark net + confidence check
  double au_ms = 0.0;         ///< alignment + AU network; 0 when the last AUs were reused
  double total_ms = 0.0;      ///< the whole process() call
  bool detector_ran = false;
  bool au_ran = false;
  int faces = 0;
  /// Faces whose landmark check (the detector on the landmark crop) ran on
  /// this frame; the others reused their last check (TrackerOptions::verify_interval).
  int landmark_checks = 0;
};

/// One frame's results from FaceAnalyzer::next(), in submission order.
struct AnalyzedFrame {
  uint64_t tag = 0;          ///< as given to submit()
  int64_t timestamp_ns = 0;  ///< as given to submit()
  std::vector<FaceResult> faces;
  AnalyzerTiming timing;
};

class FaceAnalyzer {
 public:
  /// Loads the detector, the landmark net and the AU network. Throws
  /// ModelFileError (a std::runtime_error) naming the file when a model is
  /// missing, unreadable or broken, DeviceError for a device that is no device
  /// or not on this machine, and OptionError naming the option with a bad value
  /// (both std::invalid_argument); see hicomex/errors.h.
  explicit FaceAnalyzer(const AnalyzerOptions& options = {});
  ~FaceAnalyzer();
  FaceAnalyzer(FaceAnalyzer&&) noexcept;
  FaceAnalyzer& operator=(FaceAnalyzer&&) noexcept;

  /// The faces of one frame, largest first. `timestamp_ns` drives the landmark
  /// filter (frames with no increase count as 1/30 s). Throws
  /// MediaError (a std::invalid_argument) naming the field of a view that cannot be read.
  /// `refresh_aus` = false keeps every tracked face's last AU values on this
  /// frame whatever the inference interval (new faces still get theirs): for a
  /// frame that is already late (QoS).
  std::vector<FaceResult> process(const ImageView& frame, int64_t timestamp_ns, bool refresh_aus = true);

  /// Queues a frame for the worker threads; returns at once. The pixels of
  /// `frame` must stay valid until next() returns this frame. Throws
  /// MediaError (a std::invalid_argument) naming the field of a view that cannot be read.
  void submit(const ImageView& frame, int64_t timestamp_ns, bool refresh_aus, uint64_t tag);
  /// The oldest submitted frame's results once they are ready. wait = false:
  /// returns false when they are not ready yet; wait = true: blocks until
  /// they are (a partial AU batch then runs without waiting for more frames),
  /// returns false when nothing is pending or discard() dropped the frame.
  /// A frame that failed throws its error here, of the same type (hicomex/errors.h;
  /// else std::invalid_argument or std::runtime_error) with the frame's tag
  /// in front of the message; later frames carry on.
  bool next(AnalyzedFrame* out, bool wait);
  /// No more frames for now (end of stream): partial AU batches run at once.
  void flush();
  /// Frames submitted and not yet returned by next().
  size_t pending() const;
  /// How many frames a caller should keep in flight to keep every stage busy
  /// with the current batch size (2 batches + the workers); more only adds memory.
  size_t max_pending() const;
  /// Drops every pending frame (a seek, a state change); waits for work in
  /// progress, wakes a waiting next(). The tracked faces are kept.
  void discard();

  /// Replaces the runtime settings (the second block of AnalyzerOptions) from
  /// the next frame on; the fixed ones in `options` are ignored. Throws
  /// OptionError (a std::invalid_argument) naming a bad value, leaving the
  /// settings unchanged.
  void set_options(const AnalyzerOptions& options);
  void set_thresholds(const std::vector<float>& thresholds);
  void set_detection_interval(int frames);
  void set_inference_interval(int frames);
  /// Frames per AU batch for frames submitted from now on (0 = automatic).
  void set_au_batch_frames(int frames);
  int au_batch_frames() const;  ///< in force (automatic resolved)
  int worker_threads() const;
  /// Current settings (the fixed ones as given, engine.weights resolved).
  AnalyzerOptions options() const;

  /// Forgets every face; ids keep counting up.
  void reset();

  const std::string& model_id() const;
  /// Whether the model predicts AU intensities (FaceResult::au_intensity).
  bool has_intensity() const;
  /// Whether the weights file carried a tensor checksum that matched (files
  /// written before checksums existed have none).
  bool model_checksummed() const;
  const std::string& model_path() const;
  const std::vector<int>& au_ids() const;
  std::vector<float> model_thresholds() const;
  /// Thresholds in force (the override applied), one per AU.
  std::vector<float> thresholds() const;
  std::string device() const;
  std::string precision() const;  ///< of the AU network ("auto" resolved)
  /// Timing of the frame last returned by process() or next().
  const AnalyzerTiming& last_timing() const;
  int64_t frames_processed() const;
  int64_t detector_runs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hicomex
