#include "nn/region_layer.h"

#include <atomic>
#include <mutex>
#include <tuple>
#include <vector>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "nn/fused_ops.h"
#include "nn/region_fast.h"

namespace hicomex::nn {

namespace F = torch::nn::functional;

PatchConvImpl::PatchConvImpl(int64_t in_channels, int64_t out_channels, int64_t grid)
    : in_(in_channels), out_(out_channels), grid_(grid) {
  const int64_t patches = grid * grid;
  bn_ = register_module("bn", torch::nn::BatchNorm2d(patches * in_channels));
  conv_ = register_module(
      "conv",
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(patches * in_channels, patches * out_channels, 3).padding(1).groups(patches)));
}

torch::Tensor PatchConvImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t g = grid_, ph = h / g, pw = w / g;
  TORCH_CHECK(ph * g == h && pw * g == w, "PatchConv: map ", h, "x", w, " is not divisible by the ", g, "x", g,
              " grid");
  // [B, C, g, ph, g, pw] -> [B, g, g, C, ph, pw] -> [B, g*g*C, ph, pw]
  auto patches = x.reshape({b, c, g, ph, g, pw}).permute({0, 2, 4, 1, 3, 5}).reshape({b, g * g * c, ph, pw});
  auto y = conv_->forward(bn_relu(bn_, patches));
  // back: [B, g, g, O, ph, pw] -> [B, O, g, ph, g, pw] -> [B, O, h, w]
  return y.reshape({b, g, g, out_, ph, pw}).permute({0, 3, 1, 4, 2, 5}).reshape({b, out_, h, w});
}

int64_t PatchConvImpl::macs(int64_t h, int64_t w) const { return h * w * in_ * out_ * 9; }

// The fast path's folded weights and what they were folded from.
struct RegionLayerImpl::FastCache {
  std::mutex mutex;
  bool built = false;
  WeightSignature signature;                          // of the parameters and buffers at the last fold
  std::shared_ptr<const region_fast::Packed> packed;  // null: no kernel for these channels
  std::atomic<int64_t> forwards{0};
};

RegionLayerImpl::RegionLayerImpl(int64_t in_channels, int64_t out_channels)
    : in_(in_channels), out_(out_channels), fast_(std::make_shared<FastCache>()) {
  TORCH_CHECK(out_channels % 4 == 0, "RegionLayer: channels must be a multiple of 4");
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 3).padding(1)));
  p8_ = register_module("patch8", PatchConv(out_channels, out_channels / 2, 8));
  p4_ = register_module("patch4", PatchConv(out_channels / 2, out_channels / 4, 4));
  p2_ = register_module("patch2", PatchConv(out_channels / 4, out_channels / 4, 2));
  bn_ = register_module("bn", torch::nn::BatchNorm2d(out_channels));
}

namespace {

region_fast::BatchNormParams bn_params(torch::nn::BatchNorm2d& bn) {
  return {bn->weight, bn->bias, bn->running_mean, bn->running_var, bn->options.eps()};
}

}  // namespace

std::shared_ptr<const region_fast::Packed> RegionLayerImpl::fast_weights(const torch::Tensor& x) {
  if (!region_fast::enabled() || !region_fast::cpu_supported()) return nullptr;
  WeightSignature signature;
  if (!fast_inference_allowed(*this, x, signature)) return nullptr;
  for (auto* bn : {&bn_, &p8_->bn(), &p4_->bn(), &p2_->bn()})
    if (!foldable_batchnorm(*bn)) return nullptr;
  std::shared_ptr<const region_fast::Packed> packed;
  {
    std::lock_guard<std::mutex> lock(fast_->mutex);
    if (!fast_->built || fast_->signature != signature) {
      region_fast::RegionParams params;
      params.conv_weight = conv_->weight;
      params.conv_bias = conv_->bias;
      PatchConv* patches[3] = {&p8_, &p4_, &p2_};
      for (int i = 0; i < 3; ++i) {
        auto& p = *patches[i];
        params.patch[i] = {p->grid(), bn_params(p->bn()), p->conv()->weight, p->conv()->bias};
      }
      params.bn = bn_params(bn_);
      fast_->packed = region_fast::pack(params);
      fast_->signature = std::move(signature);
      fast_->built = true;
    }
    packed = fast_->packed;
  }
  if (!packed || !region_fast::supports(*packed, x)) return nullptr;
  return packed;
}

bool RegionLayerImpl::fast_path_usable(const torch::Tensor& x) { return fast_weights(x) != nullptr; }

int64_t RegionLayerImpl::fast_forwards() const { return fast_->forwards.load(std::memory_order_relaxed); }

torch::Tensor RegionLayerImpl::forward(const torch::Tensor& x) {
  if (auto packed = fast_weights(x)) {
    fast_->forwards.fetch_add(1, std::memory_order_relaxed);
    return region_fast::forward(*packed, x, /*pool2=*/false);
  }
  return reference_forward(x);
}

torch::Tensor RegionLayerImpl::forward_pool2(const torch::Tensor& x) {
  if (auto packed = fast_weights(x)) {
    fast_->forwards.fetch_add(1, std::memory_order_relaxed);
    return region_fast::forward(*packed, x, /*pool2=*/true);
  }
  return torch::max_pool2d(reference_forward(x), 2, 2);
}

torch::Tensor RegionLayerImpl::reference_forward(const torch::Tensor& x) {
  auto base = conv_->forward(x);
  auto a = p8_->forward(base);
  auto b = p4_->forward(a);
  auto c = p2_->forward(b);
  return bn_relu(bn_, torch::cat({a, b, c}, 1) + base);
}

int64_t RegionLayerImpl::macs(int64_t h, int64_t w) const {
  return h * w * in_ * out_ * 9 + p8_->macs(h, w) + p4_->macs(h, w) + p2_->macs(h, w);
}

}  // namespace hicomex::nn
