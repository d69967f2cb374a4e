// The global face branch and the landmark branch (JAA-Net's align net), both
// FeatConv stacks over the patch feature map, flattened into a feature vector.
#pragma once
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "nn/feat_conv.h"

namespace hicomex::nn {

/// Three FeatConv blocks (map / 8), flatten, Linear -> PReLU: a feature vector.
class FeatureBranchImpl : public torch::nn::Module {
 public:
  FeatureBranchImpl(int64_t in_channels, int64_t map_size, const std::vector<int64_t>& widths, int64_t feature_dim);
  torch::Tensor forward(const torch::Tensor& x);  ///< [B,C,M,M] -> [B,feature_dim]
  int64_t macs() const;

 private:
  int64_t in_, map_, flat_;
  std::vector<int64_t> widths_;
  std::vector<FeatConv> blocks_;
  torch::nn::Linear fc_{nullptr};
  torch::nn::PReLU act_{nullptr};
};
TORCH_MODULE(FeatureBranch);

/// Landmark estimation: a FeatureBranch plus Linear feature_dim -> 2 * landmarks.
/// Coordinates are crop pixels (x, y pairs), as JAA-Net regresses them.
class LandmarkBranchImpl : public torch::nn::Module {
 public:
  LandmarkBranchImpl(int64_t in_channels, int64_t map_size, const std::vector<int64_t>& widths, int64_t feature_dim,
                     int64_t landmarks);
  /// Returns {landmark feature [B,feature_dim], landmarks [B,L,2]}.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);
  int64_t macs() const;

 private:
  int64_t landmarks_;
  FeatureBranch features_{nullptr};
  torch::nn::Linear head_{nullptr};
};
TORCH_MODULE(LandmarkBranch);

}  // namespace hicomex::nn
