// Inference shortcuts shared by the network modules. Each gives the same result
// as the plain module sequence (up to float rounding) and falls back to it while
// training or whenever autograd records, so training is unchanged.
#pragma once
#include <cstdint>
#include <tuple>
#include <vector>

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

/// (tensor, data, version) of every parameter and buffer of a module: any
/// in-place change (load, optimiser step, BatchNorm statistics) bumps a
/// version, a replaced tensor changes the pointers. Hand-written fast paths
/// keep weights folded from the tensors with this signature and refold when it
/// changes.
using WeightSignature = std::vector<std::tuple<const void*, const void*, int64_t>>;

/// Whether a hand-written CPU inference path may stand in for `module` on `x`
/// now: fused_inference() on, no autograd, no CPU autocast (the reference path
/// then runs the convolutions in bf16), the module and all its children in
/// eval mode, x a strided 4-D CPU float tensor, every parameter and buffer on
/// the CPU. Fills `signature` when it may.
bool fast_inference_allowed(const torch::nn::Module& module, const torch::Tensor& x, WeightSignature& signature);

/// Whether `bn` can be folded: affine, with running statistics.
bool foldable_batchnorm(const torch::nn::BatchNorm2d& bn);

/// relu(bn(x)) with the ReLU in place on BatchNorm's fresh output.
torch::Tensor bn_relu(torch::nn::BatchNorm2d& bn, const torch::Tensor& x);

}  // namespace hicomex::nn
