#include "nn/au_head.h"

#include <cmath>

#include <torch/torch.h>

namespace hicomex::nn {
namespace {

// Both heads read, per AU, [refined local AU feature, global, landmark feature].
torch::Tensor per_au_input(const torch::Tensor& local, const torch::Tensor& global, const torch::Tensor& landmark) {
  const int64_t b = local.size(0), a = local.size(1);
  auto ctx = torch::cat({global, landmark}, 1).unsqueeze(1).expand({b, a, global.size(1) + landmark.size(1)});
  return torch::cat({local, ctx}, 2);  // [B,A,L+2F]
}

// One output per AU from its own weight vector over the shared hidden layer.
torch::Tensor per_au_output(const torch::Tensor& h, const torch::Tensor& weight, const torch::Tensor& bias) {
  return (h * weight.unsqueeze(0)).sum(2) + bias.unsqueeze(0);  // [B,A]
}

}  // namespace

AuHeadImpl::AuHeadImpl(int64_t aus, int64_t local_dim, int64_t feature_dim, int64_t hidden, double dropout)
    : aus_(aus), in_(local_dim + 2 * feature_dim), hidden_(hidden) {
  shared_ = register_module("shared", torch::nn::Linear(in_, hidden));
  act_ = register_module("prelu", torch::nn::PReLU());
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  weight_ = register_parameter("weight", torch::empty({aus, hidden}).uniform_(-bound, bound));
  bias_ = register_parameter("bias", torch::zeros({aus}));
}

torch::Tensor AuHeadImpl::forward(const torch::Tensor& local, const torch::Tensor& global,
                                  const torch::Tensor& landmark) {
  auto h = dropout_->forward(act_->forward(shared_->forward(per_au_input(local, global, landmark))));  // [B,A,H]
  return per_au_output(h, weight_, bias_);
}

int64_t AuHeadImpl::macs() const { return aus_ * (in_ * hidden_ + hidden_); }

IntensityHeadImpl::IntensityHeadImpl(int64_t aus, int64_t local_dim, int64_t feature_dim, int64_t hidden)
    : aus_(aus), in_(local_dim + 2 * feature_dim), hidden_(hidden) {
  shared_ = register_module("shared", torch::nn::Linear(in_, hidden));
  act_ = register_module("prelu", torch::nn::PReLU());
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  weight_ = register_parameter("weight", torch::empty({aus, hidden}).uniform_(-bound, bound));
  // Start near intensity 0 (sigmoid(-3) * 5 = 0.24): most AUs are absent most of the time.
  bias_ = register_parameter("bias", torch::full({aus}, -3.0));
}

torch::Tensor IntensityHeadImpl::forward(const torch::Tensor& local, const torch::Tensor& global,
                                         const torch::Tensor& landmark) {
  auto h = act_->forward(shared_->forward(per_au_input(local, global, landmark)));  // [B,A,H]
  return torch::sigmoid(per_au_output(h, weight_, bias_)) * kMaxIntensity;
}

int64_t IntensityHeadImpl::macs() const { return aus_ * (in_ * hidden_ + hidden_); }

}  // namespace hicomex::nn
