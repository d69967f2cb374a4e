#include "face/face_landmark_net.h"

#include <stdexcept>

namespace hicomex {
namespace {

namespace F = torch::nn::functional;

// A tfjs tensor as a torch tensor with its TF shape, after checking that shape.
torch::Tensor tf_tensor(const TfjsWeights& w, const std::string& name, std::vector<int64_t> want) {
  const TfjsTensor& t = w.at(name);
  if (t.shape != want) {
    std::string got, exp;
    for (auto d : t.shape) got += std::to_string(d) + " ";
    for (auto d : want) exp += std::to_string(d) + " ";
    throw std::runtime_error("tfjs weights: tensor " + name + " in " + w.manifest_path() + " has shape [ " +
                             got + "], expected [ " + exp + "]");
  }
  return torch::from_blob(const_cast<float*>(t.values.data()), want, torch::kFloat32).clone();
}

void copy_into(torch::Tensor& param, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  param.copy_(value.contiguous());
}

}  // namespace

TfConvImpl::TfConvImpl(int64_t in, int64_t out, int64_t stride, bool separable)
    : stride_(stride), separable_(separable) {
  namespace nn = torch::nn;
  if (separable) {
    conv_ = register_module("depthwise",
                            nn::Conv2d(nn::Conv2dOptions(in, in, 3).stride(stride).groups(in).bias(false)));
    pointwise_ = register_module("pointwise", nn::Conv2d(nn::Conv2dOptions(in, out, 1)));
  } else {
    conv_ = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride)));
  }
}

torch::Tensor TfConvImpl::forward(const torch::Tensor& x) {
  // TF "same": total padding (out-1)*stride + k - in, the odd pixel at the end.
  const int64_t in = x.size(2);
  const int64_t out = (in + stride_ - 1) / stride_;
  const int64_t total = std::max<int64_t>((out - 1) * stride_ + 3 - in, 0);
  const int64_t before = total / 2, after = total - before;
  auto y = conv_(F::pad(x, F::PadFuncOptions({before, after, before, after})));
  return separable_ ? pointwise_(y) : y;
}

void TfConvImpl::load(const TfjsWeights& w, const std::string& prefix) {
  const int64_t in = conv_->options.in_channels();
  if (separable_) {
    const int64_t out = pointwise_->options.out_channels();
    // depthwise [kh, kw, C, 1] -> [C, 1, kh, kw]; pointwise [1, 1, in, out] -> [out, in, 1, 1]
    copy_into(conv_->weight, tf_tensor(w, prefix + "/depthwise_filter", {3, 3, in, 1}).permute({2, 3, 0, 1}));
    copy_into(pointwise_->weight, tf_tensor(w, prefix + "/pointwise_filter", {1, 1, in, out}).permute({3, 2, 0, 1}));
    copy_into(pointwise_->bias, tf_tensor(w, prefix + "/bias", {out}));
  } else {
    const int64_t out = conv_->options.out_channels();
    // [kh, kw, in, out] -> [out, in, kh, kw]
    copy_into(conv_->weight, tf_tensor(w, prefix + "/filters", {3, 3, in, out}).permute({3, 2, 0, 1}));
    copy_into(conv_->bias, tf_tensor(w, prefix + "/bias", {out}));
  }
}

DenseBlock4Impl::DenseBlock4Impl(int64_t in, int64_t out, bool first_layer) {
  // The first block of the net starts with a plain convolution of the RGB input.
  conv0_ = register_module("conv0", TfConv(in, out, 2, !first_layer));
  conv1_ = register_module("conv1", TfConv(out, out, 1, true));
  conv2_ = register_module("conv2", TfConv(out, out, 1, true));
  conv3_ = register_module("conv3", TfConv(out, out, 1, true));
}

torch::Tensor DenseBlock4Impl::forward(const torch::Tensor& x) {
  auto out1 = torch::relu(conv0_(x));
  auto out2 = conv1_(out1);
  auto out3 = conv2_(torch::relu(out1 + out2));
  auto out4 = conv3_(torch::relu(out1 + out2 + out3));
  return torch::relu(out1 + out2 + out3 + out4);
}

void DenseBlock4Impl::load(const TfjsWeights& w, const std::string& prefix) {
  conv0_->load(w, prefix + "/conv0");
  conv1_->load(w, prefix + "/conv1");
  conv2_->load(w, prefix + "/conv2");
  conv3_->load(w, prefix + "/conv3");
}

FaceLandmarkNetImpl::FaceLandmarkNetImpl() {
  dense0_ = register_module("dense0", DenseBlock4(3, 32, true));
  dense1_ = register_module("dense1", DenseBlock4(32, 64, false));
  dense2_ = register_module("dense2", DenseBlock4(64, 128, false));
  dense3_ = register_module("dense3", DenseBlock4(128, 256, false));
  fc_ = register_module("fc", torch::nn::Linear(256, 136));
}

torch::Tensor FaceLandmarkNetImpl::forward(const torch::Tensor& x) {
  auto y = dense3_(dense2_(dense1_(dense0_(x))));    // [N, 256, 7, 7]
  y = F::avg_pool2d(y, F::AvgPool2dFuncOptions(7).stride(2));  // "valid" -> 1x1
  return fc_(y.flatten(1));
}

void FaceLandmarkNetImpl::load(const TfjsWeights& w) {
  // dense0: a plain conv (filters, bias) + 3 separable convs (3 tensors each);
  // dense1..3: 4 separable convs; fc: weights, bias.
  constexpr size_t expected = (2 + 3 * 3) + 3 * (4 * 3) + 2;  // 49
  if (w.tensors().size() != expected) {
    throw std::runtime_error("tfjs weights: " + w.manifest_path() + " holds " +
                             std::to_string(w.tensors().size()) + " tensors, FaceLandmark68Net needs " +
                             std::to_string(expected));
  }
  dense0_->load(w, "dense0");
  dense1_->load(w, "dense1");
  dense2_->load(w, "dense2");
  dense3_->load(w, "dense3");
  // TF matMul(x, W) with W [256, 136]; torch's Linear holds W^T.
  copy_into(fc_->weight, tf_tensor(w, "fc/weights", {256, 136}).t());
  copy_into(fc_->bias, tf_tensor(w, "fc/bias", {136}));
}

torch::Tensor normalise_crops(const torch::Tensor& nhwc_uint8) {
  const auto mean = torch::tensor({122.782f, 117.001f, 104.298f}, torch::kFloat32).to(nhwc_uint8.device());
  return ((nhwc_uint8.to(torch::kFloat32) - mean) / 255.f).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace hicomex
