#include "nn/region_layer.h"

#include <torch/torch.h>

#include "nn/fused_ops.h"

namespace hicomex::nn {

namespace F = torch::nn::functional;

PatchConvImpl::PatchConvImpl(int64_t in_channels, int64_t out_channels, int64_t grid)
    : in_(in_channels), out_(out_channels), grid_(grid) {
  const int64_t patches = grid * grid;
  bn_ = register_module("bn", torch::nn::BatchNorm2d(patches * in_channels));
  conv_ = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(patches * in_channels,
                                                         patches * out_channels, 3)
                                    .padding(1)
                                    .groups(patches)));
}

torch::Tensor PatchConvImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t g = grid_, ph = h / g, pw = w / g;
  TORCH_CHECK(ph * g == h && pw * g == w, "PatchConv: map ", h, "x", w,
              " is not divisible by the ", g, "x", g, " grid");
  // [B, C, g, ph, g, pw] -> [B, g, g, C, ph, pw] -> [B, g*g*C, ph, pw]
  auto patches = x.reshape({b, c, g, ph, g, pw}).permute({0, 2, 4, 1, 3, 5}).reshape({b, g * g * c, ph, pw});
  auto y = conv_->forward(bn_relu(bn_, patches));
  // back: [B, g, g, O, ph, pw] -> [B, O, g, ph, g, pw] -> [B, O, h, w]
  return y.reshape({b, g, g, out_, ph, pw}).permute({0, 3, 1, 4, 2, 5}).reshape({b, out_, h, w});
}

int64_t PatchConvImpl::macs(int64_t h, int64_t w) const { return h * w * in_ * out_ * 9; }

RegionLayerImpl::RegionLayerImpl(int64_t in_channels, int64_t out_channels)
    : in_(in_channels), out_(out_channels) {
  TORCH_CHECK(out_channels % 4 == 0, "RegionLayer: channels must be a multiple of 4");
  conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, 3).padding(1)));
  p8_ = register_module("patch8", PatchConv(out_channels, out_channels / 2, 8));
  p4_ = register_module("patch4", PatchConv(out_channels / 2, out_channels / 4, 4));
  p2_ = register_module("patch2", PatchConv(out_channels / 4, out_channels / 4, 2));
  bn_ = register_module("bn", torch::nn::BatchNorm2d(out_channels));
}

torch::Tensor RegionLayerImpl::forward(const torch::Tensor& x) {
  auto base = conv_->forward(x);
  auto a = p8_->forward(base);
  auto b = p4_->forward(a);
  auto c = p2_->forward(b);
  return bn_relu(bn_, torch::cat({a, b, c}, 1) + base);
}

int64_t RegionLayerImpl::macs(int64_t h, int64_t w) const {
  return h * w * in_ * out_ * 9 + p8_->macs(h, w) + p4_->macs(h, w) + p2_->macs(h, w);
}

}  // namespace hicomex::nn
