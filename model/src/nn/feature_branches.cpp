#include "nn/feature_branches.h"

#include <torch/torch.h>

namespace hicomex::nn {

FeatureBranchImpl::FeatureBranchImpl(int64_t in_channels, int64_t map_size, const std::vector<int64_t>& widths,
                                     int64_t feature_dim)
    : in_(in_channels), map_(map_size), widths_(widths) {
  int64_t c = in_channels, m = map_size;
  for (size_t i = 0; i < widths.size(); ++i) {
    blocks_.push_back(register_module("block" + std::to_string(i), FeatConv(c, widths[i])));
    c = widths[i];
    m /= 2;
  }
  TORCH_CHECK(m >= 1, "FeatureBranch: map ", map_size, " too small for ", widths.size(), " poolings");
  flat_ = c * m * m;
  fc_ = register_module("fc", torch::nn::Linear(flat_, feature_dim));
  act_ = register_module("prelu", torch::nn::PReLU());
}

torch::Tensor FeatureBranchImpl::forward(const torch::Tensor& x) {
  auto y = x;
  for (auto& b : blocks_) y = b->forward(y);
  return act_->forward(fc_->forward(y.flatten(1)));
}

int64_t FeatureBranchImpl::macs() const {
  int64_t total = 0, m = map_;
  for (auto& b : blocks_) {
    total += b->macs(m, m);
    m /= 2;
  }
  return total + flat_ * fc_->options.out_features();
}

LandmarkBranchImpl::LandmarkBranchImpl(int64_t in_channels, int64_t map_size, const std::vector<int64_t>& widths,
                                       int64_t feature_dim, int64_t landmarks)
    : landmarks_(landmarks) {
  features_ = register_module("features", FeatureBranch(in_channels, map_size, widths, feature_dim));
  head_ = register_module("head", torch::nn::Linear(feature_dim, 2 * landmarks));
}

std::pair<torch::Tensor, torch::Tensor> LandmarkBranchImpl::forward(const torch::Tensor& x) {
  auto feat = features_->forward(x);
  auto pts = head_->forward(feat).view({x.size(0), landmarks_, 2});
  return {feat, pts};
}

int64_t LandmarkBranchImpl::macs() const {
  return features_->macs() + head_->options.in_features() * head_->options.out_features();
}

}  // namespace hicomex::nn
