// AU COMEX relation learning with self-attention (paper section 3.4):
// Linear -> LayerNorm -> Dropout -> + sinusoidal position encoding, then N
// encoder layers of scaled dot-product attention softmax(QK^T/sqrt(d_k))V.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/transformer.h>
#include <torch/nn/modules/transformercoder.h>
#include <torch/nn/pimpl.h>

namespace hicomex::nn {

/// pe(pos, 2i) = sin(pos / 10000^(2i/d)), pe(pos, 2i+1) = cos(pos / 10000^(2i/d)); [length, d].
torch::Tensor sinusoidal_position_encoding(int64_t length, int64_t d, const torch::TensorOptions& options = {});

class SelfAttentionEncoderImpl : public torch::nn::Module {
 public:
  SelfAttentionEncoderImpl(int64_t dim, int64_t layers, int64_t heads, int64_t ff, double dropout);
  torch::Tensor forward(const torch::Tensor& x);  ///< [B,A,D] -> [B,A,D]
  int64_t macs(int64_t sequence) const;

 private:
  int64_t dim_, layers_, ff_;
  torch::nn::Linear input_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::TransformerEncoder encoder_{nullptr};
  torch::Tensor pe_cache_;  // not a parameter: recomputed for a new length/device/dtype
};
TORCH_MODULE(SelfAttentionEncoder);

}  // namespace hicomex::nn
