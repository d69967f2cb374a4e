#include "nn/self_attention.h"

#include <cmath>

#include <torch/torch.h>

namespace hicomex::nn {

torch::Tensor sinusoidal_position_encoding(int64_t length, int64_t d, const torch::TensorOptions& options) {
  auto pe = torch::zeros({length, d}, torch::kFloat);
  auto pos = torch::arange(length, torch::kFloat).unsqueeze(1);                  // [L,1]
  auto two_i = torch::arange(0, d, 2, torch::kFloat);                            // 2i
  auto div = torch::exp(two_i * (-std::log(10000.0) / static_cast<double>(d)));  // 1/10000^(2i/d)
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)}, torch::sin(pos * div));
  pe.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                torch::cos(pos * div.slice(0, 0, d / 2)));
  return pe.to(options);
}

SelfAttentionEncoderImpl::SelfAttentionEncoderImpl(int64_t dim, int64_t layers, int64_t heads, int64_t ff,
                                                   double dropout)
    : dim_(dim), layers_(layers), ff_(ff) {
  input_ = register_module("input", torch::nn::Linear(dim, dim));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
  auto layer = torch::nn::TransformerEncoderLayerOptions(dim, heads).dim_feedforward(ff).dropout(dropout);
  encoder_ =
      register_module("encoder", torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(layer, layers)));
}

torch::Tensor SelfAttentionEncoderImpl::forward(const torch::Tensor& x) {
  const int64_t length = x.size(1);
  if (!pe_cache_.defined() || pe_cache_.size(0) != length || pe_cache_.device() != x.device() ||
      pe_cache_.scalar_type() != x.scalar_type())
    pe_cache_ = sinusoidal_position_encoding(length, dim_, x.options());
  auto y = dropout_->forward(norm_->forward(input_->forward(x))) + pe_cache_.unsqueeze(0);
  // LibTorch 1.13's encoder takes [sequence, batch, dim].
  return encoder_->forward(y.transpose(0, 1)).transpose(0, 1);
}

int64_t SelfAttentionEncoderImpl::macs(int64_t s) const {
  const int64_t per_layer = s * (4 * dim_ * dim_ + 2 * dim_ * ff_) + 2 * s * s * dim_;
  return s * dim_ * dim_ + layers_ * per_layer;
}

}  // namespace hicomex::nn
