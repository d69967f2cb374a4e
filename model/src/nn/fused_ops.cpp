#include "nn/fused_ops.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include <torch/torch.h>

namespace hicomex::nn {

namespace {

std::atomic<bool>& fusion_flag() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("HICOMEX_FUSED_OPS");
    return !(v && std::string(v) == "0");
  }()};
  return on;
}

bool fusion_on() { return fusion_flag().load(std::memory_order_relaxed); }

bool foldable(const torch::nn::BatchNorm2d& bn) {
  const auto& o = bn->options;
  return !bn->is_training() && o.track_running_stats() && o.affine() && bn->running_mean.defined();
}

}  // namespace

void set_fused_inference(bool on) { fusion_flag() = on; }
bool fused_inference() { return fusion_on(); }

torch::Tensor conv_bn(torch::nn::Conv2d& conv, torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&conv->options.padding());
  if (!fusion_on() || !foldable(bn) || conv->is_training() || torch::GradMode::is_enabled() || padding == nullptr ||
      !c10::get_if<torch::enumtype::kZeros>(&conv->options.padding_mode()))
    return bn->forward(conv->forward(x));
  const double eps = bn->options.eps();
  auto scale = bn->weight * torch::rsqrt(bn->running_var + eps);  // [Co]
  auto w = conv->weight * scale.view({-1, 1, 1, 1});
  auto b = (conv->bias.defined() ? conv->bias - bn->running_mean : -bn->running_mean) * scale + bn->bias;
  const auto& o = conv->options;
  return torch::conv2d(x, w, b, *o.stride(),
                       **padding, *o.dilation(), o.groups());
}

torch::Tensor bn_relu(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
  auto y = bn->forward(x);
  return fusion_on() ? y.relu_() : torch::relu(y);
}

}  // namespace hicomex::nn
