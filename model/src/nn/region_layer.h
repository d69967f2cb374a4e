// Hierarchical multi-scale region layer (JAA-Net; the paper's PatchConv, DRML):
// each patch of a grid gets its own BN -> ReLU -> 3x3 conv, cascaded over
// 8x8, 4x4 and 2x2 grids, concatenated, plus a residual.
#pragma once
#include <memory>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

namespace hicomex::nn {

namespace region_fast {
struct Packed;
}

/// Independent BN -> ReLU -> 3x3 conv per patch of a grid x grid split.
/// Implemented as one grouped convolution over the patches stacked in the
/// channel dimension, so every patch has its own weights and zero padding at
/// patch borders (the patches do not see each other), in a single kernel call.
class PatchConvImpl : public torch::nn::Module {
 public:
  PatchConvImpl(int64_t in_channels, int64_t out_channels, int64_t grid);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t grid() const { return grid_; }
  /// Multiply-accumulates for an h x w input map.
  int64_t macs(int64_t h, int64_t w) const;
  torch::nn::BatchNorm2d& bn() { return bn_; }
  torch::nn::Conv2d& conv() { return conv_; }

 private:
  int64_t in_, out_, grid_;
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(PatchConv);

/// 3x3 conv (in -> C), PatchConv cascade 8x8 (C/2), 4x4 (C/4), 2x2 (C/4),
/// concatenation (C) + the conv output, BN, ReLU. Keeps the spatial size.
///
/// Inference on the CPU takes a fast path (nn/region_fast.h: NHWC, every
/// BatchNorm folded, AVX2 + FMA kernels) when all of these hold: autograd off
/// (NoGradGuard or InferenceMode), every submodule in eval mode, a CPU float32
/// input without CPU autocast, fused_inference() and region_fast::enabled(),
/// an AVX2 + FMA CPU, channel counts with a kernel (C == 16 or a multiple of
/// 32) and a map divisible by the 8x8 grid. Otherwise forward() runs the
/// module sequence above. The folded weights are cached and rebuilt when any
/// parameter or buffer changes (tensor version counters).
class RegionLayerImpl : public torch::nn::Module {
 public:
  RegionLayerImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);
  /// torch::max_pool2d(forward(x), 2, 2), with the pooling done in the fast
  /// path's output pass when that path is taken (saves a pass over the map).
  torch::Tensor forward_pool2(const torch::Tensor& x);
  /// The module sequence, whatever the mode (for tests and A/B comparisons).
  torch::Tensor reference_forward(const torch::Tensor& x);
  /// Whether forward(x) would take the fast path now.
  bool fast_path_usable(const torch::Tensor& x);
  /// How many forwards of this module took the fast path.
  int64_t fast_forwards() const;
  int64_t macs(int64_t h, int64_t w) const;

 private:
  struct FastCache;
  // The folded weights for x, or null when the reference path must run.
  std::shared_ptr<const region_fast::Packed> fast_weights(const torch::Tensor& x);

  int64_t in_, out_;
  torch::nn::Conv2d conv_{nullptr};
  PatchConv p8_{nullptr}, p4_{nullptr}, p2_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
  std::shared_ptr<FastCache> fast_;
};
TORCH_MODULE(RegionLayer);

}  // namespace hicomex::nn
