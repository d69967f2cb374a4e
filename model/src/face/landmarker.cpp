// Landmarker68: crops every face of a frame, runs them through the LibTorch
// port of face-api's net in one batch, maps the points back to the image.
#include "hicomex/landmarker.h"

#include <stdexcept>

#include "face/face_landmark_net.h"
#include "hicomex/model_paths.h"
#include "hicomex/option_parsers.h"

namespace hicomex {
namespace {

// The one device parser (hicomex/option_parsers.h): DeviceError for a text
// that is no device or a CUDA device this machine lacks.
torch::Device torch_device(const std::string& name) { return torch::Device(resolve_device(name)); }

}  // namespace

struct Landmarker68::Impl {
  LandmarkerOptions options;
  torch::Device device{torch::kCPU};
  FaceLandmarkNet net;
};

Landmarker68::Landmarker68(const LandmarkerOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->device = torch_device(options.device);
  if (options.threads > 0) torch::set_num_threads(options.threads);
  if (!(options.crop_scale > 0.f)) {
    throw std::invalid_argument("landmarker: crop_scale must be > 0, got " + std::to_string(options.crop_scale));
  }
  const std::string manifest = options.manifest_path.empty()
                                   ? face_model_path("face_landmark_68_model-weights_manifest.json")
                                   : options.manifest_path;
  impl_->net->load(TfjsWeights::load(manifest));
  impl_->net->eval();
  impl_->net->to(impl_->device);
}

Landmarker68::~Landmarker68() = default;
Landmarker68::Landmarker68(Landmarker68&&) noexcept = default;
Landmarker68& Landmarker68::operator=(Landmarker68&&) noexcept = default;

std::string Landmarker68::device() const { return impl_->device.str(); }
const LandmarkerOptions& Landmarker68::options() const { return impl_->options; }

std::vector<Landmarks68> Landmarker68::run_crops(const std::vector<cv::Mat>& crops) {
  if (crops.empty()) return {};
  const int64_t n = static_cast<int64_t>(crops.size());
  auto batch = torch::empty({n, kInputSize, kInputSize, 3}, torch::kUInt8);
  for (int64_t i = 0; i < n; ++i) {
    const cv::Mat& c = crops[i];
    if (c.type() != CV_8UC3 || c.rows != kInputSize || c.cols != kInputSize) {
      throw std::invalid_argument("landmarker: crop " + std::to_string(i) + " must be 112x112 CV_8UC3, got " +
                                  std::to_string(c.cols) + "x" + std::to_string(c.rows) + " type " +
                                  std::to_string(c.type()));
    }
    cv::Mat dst(kInputSize, kInputSize, CV_8UC3, batch[i].data_ptr<uint8_t>());
    c.copyTo(dst);
  }
  torch::Tensor out;
  {
    c10::InferenceMode guard;
    if (impl_->device.is_cpu()) {
      // The NHWC kernels take the uint8 crops as they are (normalisation included).
      out = impl_->net->forward_crops_cpu(batch);
    } else {
      out = impl_->net->forward(normalise_crops(batch.to(impl_->device))).to(torch::kCPU).contiguous();
    }
  }
  std::vector<Landmarks68> result(crops.size());
  const float* p = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 68; ++k) {
      // Outputs are fractions of the square input.
      result[i][k] = {p[i * 136 + 2 * k] * kInputSize, p[i * 136 + 2 * k + 1] * kInputSize};
    }
  }
  return result;
}

std::vector<Landmarks68> Landmarker68::detect(const cv::Mat& rgb, const std::vector<Box>& faces) {
  if (faces.empty()) return {};
  std::vector<Box> squares;
  for (const Box& f : faces) squares.push_back(landmark_crop_box(f, impl_->options));
  auto points = run_squares(rgb, squares);
  if (impl_->options.refine) {
    for (size_t i = 0; i < points.size(); ++i) squares[i] = landmark_crop_box(points[i]);
    points = run_squares(rgb, squares);
  }
  return points;
}

std::vector<Landmarks68> Landmarker68::run_squares(const cv::Mat& rgb, const std::vector<Box>& squares) {
  std::vector<cv::Mat> crops;
  for (const Box& sq : squares) crops.push_back(crop_face(rgb, sq, kInputSize));
  auto points = run_crops(crops);
  for (size_t i = 0; i < points.size(); ++i) {
    const float s = squares[i].width / kInputSize;
    for (auto& p : points[i]) p = {squares[i].x + p.x * s, squares[i].y + p.y * s};
  }
  return points;
}

}  // namespace hicomex
