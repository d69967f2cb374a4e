// Inference shortcuts shared by the network modules. Each gives the same result
// as the plain module sequence (up to float rounding) and falls back to it while
// training or whenever autograd records, so training is unchanged.
#pragma once
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

namespace hicomex::nn {

/// Turns the shortcuts on or off for the process (default on; the environment
/// variable HICOMEX_FUSED_OPS=0 starts with them off, for A/B timing).
void set_fused_inference(bool on);
bool fused_inference();

/// bn(conv(x)). In eval mode without autograd the BatchNorm is folded into the
/// convolution's weights and bias on the fly (a few small ops on the weights
/// instead of a pass over the feature map).
torch::Tensor conv_bn(torch::nn::Conv2d& conv, torch::nn::BatchNorm2d& bn, const torch::Tensor& x);

/// relu(bn(x)) with the ReLU in place on BatchNorm's fresh output.
torch::Tensor bn_relu(torch::nn::BatchNorm2d& bn, const torch::Tensor& x);

}  // namespace hicomex::nn
