// Hierarchical multi-scale region layer (JAA-Net; the paper's PatchConv, DRML):
// each patch of a grid gets its own BN -> ReLU -> 3x3 conv, cascaded over
// 8x8, 4x4 and 2x2 grids, concatenated, plus a residual.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

namespace hicomex::nn {

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

 private:
  int64_t in_, out_, grid_;
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
};
TORCH_MODULE(PatchConv);

/// 3x3 conv (in -> C), PatchConv cascade 8x8 (C/2), 4x4 (C/4), 2x2 (C/4),
/// concatenation (C) + the conv output, BN, ReLU. Keeps the spatial size.
class RegionLayerImpl : public torch::nn::Module {
 public:
  RegionLayerImpl(int64_t in_channels, int64_t out_channels);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t macs(int64_t h, int64_t w) const;

 private:
  int64_t in_, out_;
  torch::nn::Conv2d conv_{nullptr};
  PatchConv p8_{nullptr}, p4_{nullptr}, p2_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(RegionLayer);

}  // namespace hicomex::nn
