#include "nn/feat_conv.h"

#include <torch/torch.h>

#include "nn/fused_ops.h"

namespace hicomex::nn {

FeatConvImpl::FeatConvImpl(int64_t in_channels, int64_t out_channels, int64_t groups)
    : in_(in_channels), out_(out_channels), groups_(groups) {
  const int64_t ci = in_channels * groups, co = out_channels * groups;
  conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(ci, co, 3).padding(1).groups(groups)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(co));
  act1_ = register_module("prelu1", torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(co)));
  conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(co, co, 3).padding(1).groups(groups)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(co));
  act2_ = register_module("prelu2", torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(co)));
}

torch::Tensor FeatConvImpl::forward(const torch::Tensor& x) {
  auto y = act1_->forward(conv_bn(conv1_, bn1_, x));
  y = act2_->forward(conv_bn(conv2_, bn2_, y));
  return torch::max_pool2d(y, 2, 2);
}

int64_t FeatConvImpl::macs(int64_t h, int64_t w) const {
  return groups_ * h * w * 9 * (in_ * out_ + out_ * out_);
}

}  // namespace hicomex::nn
