#include "nn/local_au_features.h"

#include <cmath>

#include <torch/torch.h>

#include "hicomex/au_centres.h"
#include "nn/autocast.h"
#include "nn/fused_ops.h"
#include "nn/region_fast.h"

namespace hicomex::nn {

namespace F = torch::nn::functional;

AuCentreMap::AuCentreMap(const std::vector<int>& aus) {
  std::vector<int64_t> a, b;
  std::vector<float> dy;
  for (int au : aus) {
    const auto& rules = au_centre_rules(au);
    for (const auto& r : rules.centres) {
      a.push_back(r.index);
      b.push_back(r.index_b >= 0 ? r.index_b : r.index);
      dy.push_back(r.dy_r);
    }
  }
  index_a_ = torch::tensor(a, torch::kLong);
  index_b_ = torch::tensor(b, torch::kLong);
  dy_r_ = torch::tensor(dy, torch::kFloat);
}

torch::Tensor AuCentreMap::centres(const torch::Tensor& lm) const {
  TORCH_CHECK(lm.dim() == 3 && lm.size(1) == 49 && lm.size(2) == 2, "AU centres need landmarks [B,49,2], got ",
              lm.sizes());
  const auto dev = lm.device();
  auto pa = lm.index_select(1, index_a_.to(dev));
  auto pb = lm.index_select(1, index_b_.to(dev));
  auto mid = 0.5 * (pa + pb);  // [B, A*2, 2]
  // r = |x22 - x25| (inner eye corners), per face.
  auto r = (lm.select(1, 22).select(1, 0) - lm.select(1, 25).select(1, 0)).abs();  // [B]
  auto shift = dy_r_.to(dev, lm.scalar_type()).unsqueeze(0) * r.unsqueeze(1);      // [B, A*2]
  auto y = mid.select(2, 1) + shift;
  auto out = torch::stack({mid.select(2, 0), y}, 2);
  return out.view({lm.size(0), -1, 2, 2});
}

LocalAuFeaturesImpl::LocalAuFeaturesImpl(const std::vector<int>& aus, int64_t in_channels, int64_t crop_size,
                                         int64_t map_size, int64_t window, int64_t channels, int64_t local_dim)
    : aus_(static_cast<int64_t>(aus.size())),
      in_(in_channels),
      crop_(crop_size),
      map_(map_size),
      window_(window),
      channels_(channels),
      local_dim_(local_dim) {
  refine1_ = register_module("refine1", FeatConv(in_channels, channels, aus_));
  refine2_ = register_module("refine2", FeatConv(channels, channels, aus_));
  const int64_t side = window / 4;
  flat_ = channels * side * side;
  const double bound = 1.0 / std::sqrt(static_cast<double>(2 * flat_));
  proj_weight_ = register_parameter("proj_weight", torch::empty({aus_, 2 * flat_, local_dim}).uniform_(-bound, bound));
  proj_bias_ = register_parameter("proj_bias", torch::empty({aus_, local_dim}).uniform_(-bound, bound));
  act_ = register_module("prelu", torch::nn::PReLU());
}

torch::Tensor LocalAuFeaturesImpl::sampling_grid(const torch::Tensor& centres) const {
  const int64_t b = centres.size(0), w = window_;
  const double stride = static_cast<double>(crop_) / static_cast<double>(map_);  // crop px per cell
  auto opts = centres.options();
  auto steps = (torch::arange(w, opts) - 0.5 * static_cast<double>(w - 1)) * stride;  // [W]
  auto c = centres.reshape({b, aus_ * 2, 1, 1, 2});
  auto gx = c.select(4, 0) + steps.view({1, 1, 1, w});  // [B, A2, 1, W]
  auto gy = c.select(4, 1) + steps.view({1, 1, w, 1});  // [B, A2, W, 1]
  auto grid = torch::stack({gx.expand({b, aus_ * 2, w, w}), gy.expand({b, aus_ * 2, w, w})}, 4);
  // crop pixels -> [-1, 1] (align_corners=false: -1 is the left edge of pixel 0)
  grid = grid * (2.0 / static_cast<double>(crop_)) - 1.0;
  return grid.view({b, aus_ * 2 * w, w, 2});
}

torch::Tensor LocalAuFeaturesImpl::forward(const torch::Tensor& map, const torch::Tensor& centres) {
  const int64_t b = map.size(0), c = map.size(1), w = window_, a = aus_;
  torch::Tensor windows;
  WeightSignature unused;
  if (region_fast::enabled() && region_fast::cpu_supported() && fast_inference_allowed(*this, map, unused)) {
    // Inference on the CPU: one pass from the map to the channels-last
    // windows the per-AU FeatConv reads (region_fast.h).
    windows = region_fast::sample_windows(map, sampling_grid(centres.to(torch::kFloat)), a, w);
  } else {
    {
      // Sampling positions need fp32 (a bf16 pixel coordinate is off by up to half a pixel).
      FullPrecision fp32;
      auto m = map.to(torch::kFloat);
      auto grid = sampling_grid(centres.to(torch::kFloat));
      windows = F::grid_sample(
          m, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false));
    }
    // [B, C, A*2*W, W] -> [B, C, A, 2, W, W] -> [B, 2, A, C, W, W] -> [B*2, A*C, W, W]
    windows = windows.reshape({b, c, a, 2, w, w}).permute({0, 3, 2, 1, 4, 5}).reshape({b * 2, a * c, w, w});
    // Channels-last makes the per-AU grouped convolutions about twice as fast (oneDNN).
    windows = windows.contiguous(torch::MemoryFormat::ChannelsLast);
  }
  auto y = refine2_->forward(refine1_->forward(windows));  // [B*2, A*ch, W/4, W/4]
  // -> [B, 2, A, flat] -> [B, A, 2*flat]
  y = y.reshape({b, 2, a, flat_}).permute({0, 2, 1, 3}).reshape({b, a, 2 * flat_});
  auto out = torch::einsum("bai,aio->bao", {y, proj_weight_}) + proj_bias_.unsqueeze(0);
  return act_->forward(out);
}

int64_t LocalAuFeaturesImpl::macs() const {
  const int64_t w = window_;
  return 2 * (refine1_->macs(w, w) + refine2_->macs(w / 2, w / 2)) + aus_ * 2 * flat_ * local_dim_;
}

}  // namespace hicomex::nn
