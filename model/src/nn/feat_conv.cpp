#include "nn/feat_conv.h"

#include <atomic>
#include <mutex>

#include <torch/torch.h>

#include "nn/fused_ops.h"
#include "nn/region_fast.h"

namespace hicomex::nn {

struct FeatConvImpl::FastCache {
  std::mutex mutex;
  bool built = false;
  WeightSignature signature;                              // of the parameters and buffers at the last fold
  std::shared_ptr<const region_fast::FeatPacked> packed;  // null: no kernel for these channels
  std::atomic<int64_t> forwards{0};
};

FeatConvImpl::FeatConvImpl(int64_t in_channels, int64_t out_channels, int64_t groups)
    : in_(in_channels), out_(out_channels), groups_(groups), fast_(std::make_shared<FastCache>()) {
  const int64_t ci = in_channels * groups, co = out_channels * groups;
  conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(ci, co, 3).padding(1).groups(groups)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(co));
  act1_ = register_module("prelu1", torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(co)));
  conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(co, co, 3).padding(1).groups(groups)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(co));
  act2_ = register_module("prelu2", torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(co)));
}

namespace {

region_fast::BatchNormParams bn_params(torch::nn::BatchNorm2d& bn) {
  return {bn->weight, bn->bias, bn->running_mean, bn->running_var, bn->options.eps()};
}

}  // namespace

std::shared_ptr<const region_fast::FeatPacked> FeatConvImpl::fast_weights(const torch::Tensor& x) {
  if (!region_fast::enabled() || !region_fast::cpu_supported()) return nullptr;
  WeightSignature signature;
  if (!fast_inference_allowed(*this, x, signature)) return nullptr;
  if (!foldable_batchnorm(bn1_) || !foldable_batchnorm(bn2_)) return nullptr;
  std::shared_ptr<const region_fast::FeatPacked> packed;
  {
    std::lock_guard<std::mutex> lock(fast_->mutex);
    if (!fast_->built || fast_->signature != signature) {
      region_fast::FeatConvParams p;
      p.groups = groups_;
      p.conv1_weight = conv1_->weight;
      p.conv1_bias = conv1_->bias;
      p.bn1 = bn_params(bn1_);
      p.prelu1 = act1_->weight;
      p.conv2_weight = conv2_->weight;
      p.conv2_bias = conv2_->bias;
      p.bn2 = bn_params(bn2_);
      p.prelu2 = act2_->weight;
      fast_->packed = region_fast::pack(p);
      fast_->signature = std::move(signature);
      fast_->built = true;
    }
    packed = fast_->packed;
  }
  if (!packed || !region_fast::supports(*packed, x)) return nullptr;
  return packed;
}

bool FeatConvImpl::fast_path_usable(const torch::Tensor& x) { return fast_weights(x) != nullptr; }

int64_t FeatConvImpl::fast_forwards() const { return fast_->forwards.load(std::memory_order_relaxed); }

torch::Tensor FeatConvImpl::forward(const torch::Tensor& x) {
  if (auto packed = fast_weights(x)) {
    fast_->forwards.fetch_add(1, std::memory_order_relaxed);
    return region_fast::forward(*packed, x);
  }
  auto y = act1_->forward(conv_bn(conv1_, bn1_, x));
  y = act2_->forward(conv_bn(conv2_, bn2_, y));
  return torch::max_pool2d(y, 2, 2);
}

int64_t FeatConvImpl::macs(int64_t h, int64_t w) const { return groups_ * h * w * 9 * (in_ * out_ + out_ * out_); }

}  // namespace hicomex::nn
