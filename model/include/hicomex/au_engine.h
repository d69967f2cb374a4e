// Inference API of the HiCOMEX network: load weights once, run batches of
// aligned faces, get per-AU probabilities and the network's 49 landmarks.
// No LibTorch types here (pimpl), so callers do not pay for torch headers.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "hicomex/geometry.h"
#include "hicomex/model_info.h"

namespace hicomex {

struct AuEngineOptions {
  std::string weights;          ///< safetensors file written by hicomex-train
  std::string device = "auto";  ///< "auto" (CUDA when LibTorch sees a GPU), "cpu", "cuda", "cuda:N"
  /// Intra-op CPU threads of the thread that calls run(); 0 = all cores.
  /// Batches from different threads run at the same time on the CPU.
  int threads = 0;
  /// Arithmetic of convolutions and matrix products: "fp32" (default), "bf16"
  /// (CPU with AVX512-BF16/AMX, or CUDA), "fp16" (CUDA only), or "auto" (bf16
  /// on CUDA and on CPUs with AVX512-BF16, fp32 elsewhere). Mixed precision
  /// (autocast): sensitive ops and every output stay fp32.
  std::string precision = "fp32";
  /// Cross-stream batching: > 0 lets run() calls from several streams (threads)
  /// that joined the engine wait up to this many microseconds for each other and
  /// run as one batch (GPU throughput; also helps on the CPU). 0 = off: every
  /// run() is its own batch.
  int batch_timeout_us = 0;
};

/// One face, already aligned with align_face(image, pts49, engine.aligned_size())
/// (200x200 for the paper-sized model), RGB, 8-bit.
struct AlignedFaceInput {
  cv::Mat aligned;                             ///< aligned_size() x aligned_size() CV_8UC3 RGB
  cv::Matx23d transform = cv::Matx23d::eye();  ///< image -> aligned (from AlignedFace)
  /// Optional 49 landmarks in aligned coordinates to place the AU centres
  /// (e.g. from the tracker). Used only when every face of the batch has them;
  /// otherwise the network's own landmark estimate places the centres.
  std::vector<cv::Point2f> landmarks49;
};

struct AuPrediction {
  std::vector<float> probabilities;  ///< per AU, in engine.aus() order
  std::vector<float> intensities;    ///< per AU, 0-5; empty when the model has no intensity head
  std::vector<Point2f> landmarks49;  ///< network landmarks, image coordinates
};

/// Whether this CPU executes bf16 dot products natively (AVX512-BF16), which
/// makes bf16 the faster choice for "auto" precision.
bool cpu_has_avx512_bf16();

/// LibTorch intra-op threads for the calling thread's later work (n > 0).
/// OpenMP keeps this per thread, so worker threads can each run with one.
void set_intra_op_threads(int threads);

class AuEngine {
 public:
  /// Loads the weights and runs one grey face through them (non-finite outputs
  /// are a WeightsError too); throws WeightsError (file problems), DeviceError
  /// (a device that is no device or not on this machine, e.g. "cuda" without a
  /// GPU) or OptionError (a precision the device cannot run), naming the file,
  /// device or value (hicomex/errors.h).
  explicit AuEngine(const AuEngineOptions& options);
  /// The process-wide engine for these options: every caller asking for the
  /// same weights file (same path, device and threads) gets the same instance,
  /// so the weights are loaded and held once however many streams use them.
  /// run() is serialised by the engine, so sharing is thread-safe. The engine
  /// is freed when its last user lets go.
  static std::shared_ptr<AuEngine> shared(const AuEngineOptions& options);
  /// An engine over a freshly initialised network (seeded), for benchmarks and tests.
  static AuEngine untrained(const ModelInfo& info, const AuEngineOptions& options, uint64_t seed = 0);
  ~AuEngine();
  AuEngine(AuEngine&&) noexcept;
  AuEngine& operator=(AuEngine&&) noexcept;

  const ModelInfo& info() const;
  const std::vector<int>& aus() const;
  std::vector<float> thresholds() const;
  std::string device() const;     ///< "cpu" or "cuda:N"
  std::string precision() const;  ///< "fp32", "bf16" or "fp16" ("auto" resolved)
  int threads() const;
  /// Side of the aligned faces run() expects (the model's aligned_size option).
  int aligned_size() const;
  int64_t parameter_count() const;
  /// Multiply-accumulates of one face through the network (analytic count).
  int64_t macs_per_face() const;
  /// Whether the model predicts AU intensities (0-5) besides occurrence.
  bool has_intensity() const;
  /// Whether the weights file carried a tensor checksum (and it matched; a
  /// mismatch refuses to load). Files written before checksums existed have
  /// none: tools warn that their integrity cannot be checked.
  bool weights_checksummed() const;

  /// All faces in one batch. Returns one prediction per face, in order.
  /// Thread-safe: concurrent calls run at the same time on the CPU (one after
  /// the other on CUDA), or, with
  /// batch_timeout_us > 0, together as one batch (see join()).
  std::vector<AuPrediction> run(const std::vector<AlignedFaceInput>& faces);

  /// A stream that calls run() once per frame holds the returned token while it
  /// runs. With cross-stream batching a batch starts as soon as every joined
  /// stream has a request waiting (or the timeout since the first one passes),
  /// so lock-step streams never wait for the timeout. Without tokens every
  /// request runs at once.
  std::shared_ptr<void> join();

  struct BatchStats {
    uint64_t requests = 0;  ///< run() calls
    uint64_t batches = 0;   ///< network forward passes
    uint64_t faces = 0;
  };
  BatchStats stats() const;
  /// Lower level: `n` normalised crops [n,3,S,S] (normalise_rgb_to_chw layout);
  /// optional centre landmarks [n,49,2] in crop pixels (nullptr = the network's).
  /// Writes probabilities [n,A] and landmarks [n,49,2] (crop pixels), and
  /// intensities [n,A] when `intensities` is given and the model has the head.
  void run_normalised(const float* crops, int n, const float* centre_landmarks, float* probabilities, float* landmarks,
                      float* intensities = nullptr);

 private:
  struct Impl;
  explicit AuEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hicomex
