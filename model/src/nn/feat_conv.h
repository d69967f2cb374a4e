// FeatConv (paper section 3.1): 2 x (3x3 conv + BatchNorm + PReLU), then 2x2 max-pool.
//
// Inference on the CPU takes the hand-written path of nn/region_fast.h (NHWC,
// BatchNorms folded, PReLU and pool fused; AVX2 + FMA) under the same
// conditions as the region layers' (see RegionLayerImpl): eval mode, no
// autograd, no CPU autocast, fused_inference() and region_fast::enabled().
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <memory>

namespace hicomex::nn {

namespace region_fast {
struct FeatPacked;
}

class FeatConvImpl : public torch::nn::Module {
 public:
  /// `groups` > 1 runs that many independent blocks stacked in the channel
  /// dimension (one per AU in the local branch); channels are per group.
  FeatConvImpl(int64_t in_channels, int64_t out_channels, int64_t groups = 1);
  torch::Tensor forward(const torch::Tensor& x);
  /// MACs for an h x w input (all groups).
  int64_t macs(int64_t h, int64_t w) const;
  /// Whether forward(x) would take the fast path now; how many forwards did.
  bool fast_path_usable(const torch::Tensor& x);
  int64_t fast_forwards() const;

 private:
  struct FastCache;
  std::shared_ptr<const region_fast::FeatPacked> fast_weights(const torch::Tensor& x);
  int64_t in_, out_, groups_;
  std::shared_ptr<FastCache> fast_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::PReLU act1_{nullptr}, act2_{nullptr};
};
TORCH_MODULE(FeatConv);

}  // namespace hicomex::nn
