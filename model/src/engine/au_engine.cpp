// The HiCOMEX network runner behind AuEngine (LibTorch). Cross-stream batching
// is engine/batch_scheduler (torch-free), the shared instances
// au_engine_registry.cpp.
#include "hicomex/au_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <cpuid.h>

#include <torch/torch.h>

#include "engine/batch_scheduler.h"
#include "hicomex/align.h"
#include "hicomex/errors.h"
#include "hicomex/option_parsers.h"
#include "nn/autocast.h"
#include "nn/weights_io.h"

namespace hicomex {

namespace {

// The device through the one device parser (hicomex/option_parsers.h):
// resolve_device() gives "cpu" or "cuda:N" of this machine, or throws
// DeviceError naming the text (unknown, or no such GPU here).
torch::Device pick_device(const std::string& name) { return torch::Device(resolve_device(name)); }

// The precision through the one precision parser (OptionError naming an
// unknown text); "auto": bf16 where it is fast (CUDA, or a CPU with
// AVX512-BF16 instructions), fp32 elsewhere (emulated bf16 would be slower
// than fp32).
Precision resolve_precision(const std::string& text, const torch::Device& device) {
  const Precision p = parse_precision(text);
  if (p != Precision::Auto) return p;
  return device.is_cuda() || cpu_has_avx512_bf16() ? Precision::Bf16 : Precision::Fp32;
}

c10::ScalarType precision_dtype(Precision precision, const torch::Device& device) {
  switch (precision) {
    case Precision::Fp16:
      if (!device.is_cuda())
        throw OptionError("precision", "fp16",
                          "precision 'fp16' needs a CUDA device (device is " + device.str() + "); use bf16 on the CPU");
      return torch::kHalf;
    case Precision::Bf16: return torch::kBFloat16;
    case Precision::Fp32:
    case Precision::Auto: break;
  }
  return torch::kFloat;
}

}  // namespace

bool cpu_has_avx512_bf16() {
#if defined(__x86_64__) || defined(__i386__)
  // CPUID leaf 7, sub-leaf 1, EAX bit 5; AVX-512 must also be enabled by the
  // OS (GCC's avx512f check reads XCR0).
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__builtin_cpu_supports("avx512f")) return false;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  return (a & (1u << 5)) != 0;
#else
  return false;
#endif
}

void set_intra_op_threads(int threads) {
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

struct AuEngine::Impl {
  nn::Hicomex net{nullptr};
  ModelInfo info;
  bool checksum_verified = false;
  torch::Device device{torch::kCPU};
  int threads = 1;
  c10::ScalarType dtype = torch::kFloat;  // autocast dtype; kFloat = off
  std::string precision = "fp32";
  int64_t crop = kCropSize;
  // CUDA: reused pinned staging buffers, one batch at a time (the GPU runs
  // them one after the other anyway). CPU: every call stages into buffers of
  // its own, so worker threads run batches at the same time on their cores.
  torch::Tensor input;    // [cap,3,S,S]
  torch::Tensor centres;  // [cap,49,2]
  std::mutex run_mutex;

  // Every run() goes through the scheduler: with batch_timeout_us > 0 requests
  // of several streams run together (run_requests), otherwise each at once.
  struct FaceRequest : BatchRequest {
    const std::vector<AlignedFaceInput>* faces = nullptr;
    std::vector<AuPrediction> result;
  };
  static constexpr size_t kMaxBatchFaces = 32;
  std::unique_ptr<BatchScheduler> scheduler;

  void setup(const AuEngineOptions& o) {
    device = pick_device(o.device);
    const Precision p = resolve_precision(o.precision, device);
    dtype = precision_dtype(p, device);
    precision = to_string(p);
    if (o.batch_timeout_us < 0)
      throw std::invalid_argument("batch_timeout_us must be >= 0, got " + std::to_string(o.batch_timeout_us));
    scheduler = std::make_unique<BatchScheduler>(std::chrono::microseconds(o.batch_timeout_us), kMaxBatchFaces,
                                                 [this](BatchScheduler::Batch& b) { run_requests(b); });
    threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
    crop = info.options.crop_size();
    net->eval();
    net->to(device);
  }

  // Staging buffers for a batch of n; holds run_mutex in `lock` on CUDA.
  std::pair<torch::Tensor, torch::Tensor> staging(int64_t n, std::unique_lock<std::mutex>& lock) {
    auto opts = torch::TensorOptions().dtype(torch::kFloat);
    if (!device.is_cuda()) return {torch::empty({n, 3, crop, crop}, opts), torch::empty({n, 49, 2}, opts)};
    lock = std::unique_lock<std::mutex>(run_mutex);
    if (!input.defined() || input.size(0) < n) {
      opts = opts.pinned_memory(true);
      input = torch::empty({n, 3, crop, crop}, opts);
      centres = torch::empty({n, 49, 2}, opts);
    }
    return {input.narrow(0, 0, n), centres.narrow(0, 0, n)};
  }

  struct Outputs {
    torch::Tensor probabilities, landmarks, intensities;  // CPU fp32; intensities undefined without a head
  };
  // Runs a staged batch (centres used if with_centres).
  Outputs forward(const torch::Tensor& staged, const torch::Tensor& staged_centres, bool with_centres) {
    set_intra_op_threads(threads);
    c10::InferenceMode guard;
    auto x = staged.to(device, /*non_blocking=*/true);
    torch::Tensor c;
    if (with_centres) c = staged_centres.to(device, true);
    try {
      nn::Autocast autocast(device.type(), dtype);
      auto out = net->forward(x, c);
      Outputs o{torch::sigmoid(out.au_logits.to(torch::kFloat)).to(torch::kCPU).contiguous(),
                out.landmarks.to(torch::kFloat).to(torch::kCPU).contiguous(),
                {}};
      if (out.intensities.defined()) o.intensities = out.intensities.to(torch::kFloat).to(torch::kCPU).contiguous();
      return o;
    } catch (const c10::Error& e) {
      // LibTorch's message without its C++ backtrace, which means nothing to users.
      throw std::runtime_error("HiCOMEX inference on " + device.str() + " (" + precision +
                               ") failed: " + e.what_without_backtrace());
    }
  }

  std::vector<AuPrediction> run_batch(const std::vector<AlignedFaceInput>& faces);

  // The scheduler's runner. Without batching a request runs as it is; a
  // cross-stream batch puts faces with and without centre landmarks in
  // separate passes (the network takes centres for all faces of a pass or for
  // none), then hands each request its predictions in order.
  void run_requests(BatchScheduler::Batch& batch) {
    if (!scheduler->batching()) {
      auto& r = static_cast<FaceRequest&>(*batch.requests.front());
      r.result = run_batch(*r.faces);
      return;
    }
    std::vector<AlignedFaceInput> with, without;
    for (const auto* q : batch.requests)
      for (const auto& f : *static_cast<const FaceRequest*>(q)->faces)
        (f.landmarks49.size() == 49 ? with : without).push_back(f);
    batch.passes = (with.empty() ? 0 : 1) + (without.empty() ? 0 : 1);
    std::vector<AuPrediction> out_with, out_without;
    if (!with.empty()) out_with = run_batch(with);
    if (!without.empty()) out_without = run_batch(without);
    size_t iw = 0, io = 0;
    for (auto* q : batch.requests) {
      auto& r = static_cast<FaceRequest&>(*q);
      r.result.reserve(r.faces->size());
      for (const auto& f : *r.faces)
        r.result.push_back(std::move(f.landmarks49.size() == 49 ? out_with[iw++] : out_without[io++]));
    }
  }
};

AuEngine::AuEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AuEngine::AuEngine(const AuEngineOptions& options) : impl_(std::make_unique<Impl>()) {
  if (options.weights.empty()) throw std::runtime_error("no weights file given");
  auto loaded = nn::load_hicomex(options.weights);
  impl_->net = loaded.net;
  impl_->info = loaded.info;
  impl_->checksum_verified = loaded.checksum_verified;
  impl_->setup(options);
  // First-output check: weights that are all finite can still compute NaN or
  // infinity (a negative BatchNorm variance, overflowing products). One
  // mid-grey face through the network says so now, naming the file, instead
  // of "nan" in every AU column later.
  const int64_t crop = impl_->crop, a = static_cast<int64_t>(impl_->info.options.aus().size());
  std::vector<float> face(static_cast<size_t>(3 * crop * crop), 0.f), probs(a), lms(98), intens(a, 0.f);
  run_normalised(face.data(), 1, nullptr, probs.data(), lms.data(), intens.data());
  auto finite = [](const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
  };
  if (!finite(probs) || !finite(lms) || !finite(intens))
    throw WeightsError(options.weights +
                       ": the network computes non-finite outputs (NaN or infinity) for a plain "
                       "grey face, although every weight is a finite number: the file is corrupt or was not "
                       "written by a finished training run");
}

AuEngine AuEngine::untrained(const ModelInfo& info, const AuEngineOptions& options, uint64_t seed) {
  auto impl = std::make_unique<Impl>();
  torch::manual_seed(seed);
  impl->info = info;
  impl->net = nn::Hicomex(info.options);
  impl->setup(options);
  return AuEngine(std::move(impl));
}

AuEngine::~AuEngine() = default;
AuEngine::AuEngine(AuEngine&&) noexcept = default;
AuEngine& AuEngine::operator=(AuEngine&&) noexcept = default;

const ModelInfo& AuEngine::info() const { return impl_->info; }
const std::vector<int>& AuEngine::aus() const { return impl_->info.options.aus(); }
std::vector<float> AuEngine::thresholds() const { return impl_->info.thresholds_or_default(); }
std::string AuEngine::device() const { return impl_->device.str(); }
std::string AuEngine::precision() const { return impl_->precision; }
int AuEngine::threads() const { return impl_->threads; }
int AuEngine::aligned_size() const { return static_cast<int>(impl_->info.options.aligned_size()); }
int64_t AuEngine::parameter_count() const { return impl_->net->parameter_count(); }
int64_t AuEngine::macs_per_face() const { return impl_->net->macs_per_face(); }
bool AuEngine::has_intensity() const { return impl_->info.options.intensity_head(); }
bool AuEngine::weights_checksummed() const { return impl_->checksum_verified; }

void AuEngine::run_normalised(const float* crops, int n, const float* centre_landmarks, float* probabilities,
                              float* landmarks, float* intensities) {
  if (n <= 0) return;
  auto& d = *impl_;
  std::unique_lock<std::mutex> lock;
  auto [input, centres] = d.staging(n, lock);
  std::copy(crops, crops + static_cast<size_t>(n) * 3 * d.crop * d.crop, input.data_ptr<float>());
  if (centre_landmarks) std::copy(centre_landmarks, centre_landmarks + n * 49 * 2, centres.data_ptr<float>());
  auto o = d.forward(input, centres, centre_landmarks != nullptr);
  std::copy(o.probabilities.data_ptr<float>(), o.probabilities.data_ptr<float>() + o.probabilities.numel(),
            probabilities);
  std::copy(o.landmarks.data_ptr<float>(), o.landmarks.data_ptr<float>() + o.landmarks.numel(), landmarks);
  if (intensities && o.intensities.defined())
    std::copy(o.intensities.data_ptr<float>(), o.intensities.data_ptr<float>() + o.intensities.numel(), intensities);
}

std::vector<AuPrediction> AuEngine::run(const std::vector<AlignedFaceInput>& faces) {
  if (faces.empty()) return {};
  Impl::FaceRequest request;
  request.items = faces.size();
  request.faces = &faces;
  impl_->scheduler->submit(request);
  return std::move(request.result);
}

std::shared_ptr<void> AuEngine::join() { return impl_->scheduler->join(); }

AuEngine::BatchStats AuEngine::stats() const {
  const BatchCounts c = impl_->scheduler->counts();
  BatchStats st;
  st.requests = c.requests;
  st.batches = c.batches;
  st.faces = c.items;
  return st;
}

std::vector<AuPrediction> AuEngine::Impl::run_batch(const std::vector<AlignedFaceInput>& faces) {
  const int64_t n = static_cast<int64_t>(faces.size());
  std::vector<AuPrediction> out(faces.size());
  if (n == 0) return out;
  std::unique_lock<std::mutex> lock;
  auto [staged, staged_centres] = staging(n, lock);
  const int aligned = static_cast<int>(info.options.aligned_size());
  const int offset = centre_crop_offset(aligned, static_cast<int>(crop));
  const size_t plane = static_cast<size_t>(3 * crop * crop);
  bool all_landmarks = true;
  for (int64_t i = 0; i < n; ++i) {
    const auto& f = faces[i];
    if (f.aligned.rows != aligned || f.aligned.cols != aligned || f.aligned.type() != CV_8UC3)
      throw std::invalid_argument("AuEngine::run: face " + std::to_string(i) + " is not a " + std::to_string(aligned) +
                                  "x" + std::to_string(aligned) + " RGB image from align_face()");
    const cv::Mat region = f.aligned(cv::Rect(offset, offset, static_cast<int>(crop), static_cast<int>(crop)));
    normalise_rgb_to_chw(region, staged.data_ptr<float>() + i * plane);
    if (f.landmarks49.size() == 49) {
      float* c = staged_centres.data_ptr<float>() + i * 98;
      for (int k = 0; k < 49; ++k) {
        c[2 * k] = f.landmarks49[k].x - static_cast<float>(offset);
        c[2 * k + 1] = f.landmarks49[k].y - static_cast<float>(offset);
      }
    } else {
      all_landmarks = false;
    }
  }
  auto o = forward(staged, staged_centres, all_landmarks);
  const int64_t a = o.probabilities.size(1);
  const float* pp = o.probabilities.data_ptr<float>();
  const float* lp = o.landmarks.data_ptr<float>();
  const float* ip = o.intensities.defined() ? o.intensities.data_ptr<float>() : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    out[i].probabilities.assign(pp + i * a, pp + (i + 1) * a);
    if (ip) out[i].intensities.assign(ip + i * a, ip + (i + 1) * a);
    const cv::Matx23d inv = invert_transform(faces[i].transform);
    out[i].landmarks49.resize(49);
    for (int k = 0; k < 49; ++k) {
      const double x = lp[i * 98 + 2 * k] + offset, y = lp[i * 98 + 2 * k + 1] + offset;
      out[i].landmarks49[k] = {static_cast<float>(inv(0, 0) * x + inv(0, 1) * y + inv(0, 2)),
                               static_cast<float>(inv(1, 0) * x + inv(1, 1) * y + inv(1, 2))};
    }
  }
  return out;
}

}  // namespace hicomex
