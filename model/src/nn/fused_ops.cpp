#include "nn/fused_ops.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include <ATen/autocast_mode.h>
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

bool foldable_batchnorm(const torch::nn::BatchNorm2d& bn) {
  const auto& o = bn->options;
  return o.affine() && o.track_running_stats() && bn->running_mean.defined() && bn->running_var.defined();
}

bool fast_inference_allowed(const torch::nn::Module& module, const torch::Tensor& x, WeightSignature& signature) {
  if (!fusion_on() || torch::GradMode::is_enabled() || at::autocast::is_cpu_enabled()) return false;
  if (!x.defined() || !x.is_cpu() || x.layout() != torch::kStrided || x.scalar_type() != torch::kFloat || x.dim() != 4)
    return false;
  if (module.is_training()) return false;
  for (const auto& m : module.modules(/*include_self=*/false))
    if (m->is_training()) return false;
  signature.clear();
  for (const auto& list : {module.parameters(), module.buffers()}) {
    for (const auto& t : list) {
      if (!t.is_cpu()) return false;
      // Inference tensors have no version counter (they cannot be changed
      // in place outside InferenceMode).
      signature.emplace_back(t.unsafeGetTensorImpl(), t.data_ptr(), t.is_inference() ? -1 : t._version());
    }
  }
  return true;
}
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
  return torch::conv2d(x, w, b, *o.stride(), **padding, *o.dilation(), o.groups());
}

torch::Tensor bn_relu(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
  auto y = bn->forward(x);
  return fusion_on() ? y.relu_() : torch::relu(y);
}

}  // namespace hicomex::nn
