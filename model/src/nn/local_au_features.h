// Local AU features (paper section 3.2): windows of the patch feature map
// cropped around the two landmark-defined centres of every AU (docs/model.md, "AU centres"),
// refined by per-AU FeatConv blocks and projected to one vector per AU.
//
// How centres become crops: a centre (crop pixels) is the middle of a
// local_window x local_window window of map cells, sampled bilinearly
// (grid_sample, align_corners=false) so a centre between cells is exact and
// windows reaching past the face read zeros. Gradients flow into the feature
// map through the bilinear weights; the centres themselves are treated as
// constants (training feeds ground-truth landmarks, inference the landmark
// branch's or the tracker's points, detached), as in JAA-Net.
#pragma once
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/pimpl.h>

#include "nn/feat_conv.h"

namespace hicomex::nn {

/// Centre rules of `aus` as tensors; centres() evaluates them on landmarks.
class AuCentreMap {
 public:
  explicit AuCentreMap(const std::vector<int>& aus);
  /// landmarks [B,49,2] (any coordinates) -> centres [B,A,2,2] in the same coordinates.
  torch::Tensor centres(const torch::Tensor& landmarks49) const;

 private:
  torch::Tensor index_a_, index_b_, dy_r_;  // [A*2] each, on the CPU
};

class LocalAuFeaturesImpl : public torch::nn::Module {
 public:
  LocalAuFeaturesImpl(const std::vector<int>& aus, int64_t in_channels, int64_t crop_size, int64_t map_size,
                      int64_t window, int64_t channels, int64_t local_dim);
  /// map [B,C,M,M] and centres [B,A,2,2] (crop pixels) -> [B,A,local_dim].
  torch::Tensor forward(const torch::Tensor& map, const torch::Tensor& centres);
  /// The sampling grid for the windows, [B, A*2*W, W, 2] in grid_sample units.
  torch::Tensor sampling_grid(const torch::Tensor& centres) const;
  int64_t macs() const;

 private:
  int64_t aus_, in_, crop_, map_, window_, channels_, local_dim_, flat_;
  FeatConv refine1_{nullptr}, refine2_{nullptr};
  torch::Tensor proj_weight_, proj_bias_;  // per-AU projection [A,2*flat,D], [A,D]
  torch::nn::PReLU act_{nullptr};
};
TORCH_MODULE(LocalAuFeatures);

}  // namespace hicomex::nn
