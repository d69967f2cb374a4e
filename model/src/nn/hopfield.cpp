#include "nn/hopfield.h"

#include <cmath>

#include <torch/torch.h>

namespace hicomex::nn {

HopfieldRetrieval hopfield_retrieve(torch::Tensor q, const torch::Tensor& k, double beta, int64_t update_steps_max,
                                    double eps) {
  auto kt = k.transpose(-2, -1);
  auto xi = torch::softmax(beta * torch::matmul(q, kt), -1);
  int64_t steps = 1;
  for (int64_t s = 0; s < update_steps_max; ++s) {
    q = torch::matmul(xi, k);
    auto next = torch::softmax(beta * torch::matmul(q, kt), -1);
    const double change = (next - xi).norm(2, -1).max().item<double>();
    xi = next;
    ++steps;
    if (change <= eps) break;
  }
  return {xi, steps};
}

HopfieldLayerImpl::HopfieldLayerImpl(int64_t dim, int64_t heads, double beta, int64_t update_steps_max, double eps)
    : dim_(dim), heads_(heads), steps_max_(update_steps_max), eps_(eps) {
  beta_ = beta > 0 ? beta : 1.0 / std::sqrt(static_cast<double>(dim / heads));
  auto ln = [&](const char* name) {
    return register_module(name, torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  };
  norm_state_ = ln("norm_state");
  norm_stored_ = ln("norm_stored");
  norm_proj_ = ln("norm_projection");
  q_ = register_module("query", torch::nn::Linear(dim, dim));
  k_ = register_module("key", torch::nn::Linear(dim, dim));
  v_ = register_module("value", torch::nn::Linear(dim, dim));
  out_ = register_module("output", torch::nn::Linear(dim, dim));
}

torch::Tensor HopfieldLayerImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), s = x.size(1), hd = dim_ / heads_;
  auto split = [&](const torch::Tensor& t) { return t.view({b, s, heads_, hd}).transpose(1, 2); };
  auto q = split(q_->forward(norm_state_->forward(x)));
  auto k = split(k_->forward(norm_stored_->forward(x)));
  auto v = split(v_->forward(norm_proj_->forward(x)));
  auto r = hopfield_retrieve(q, k, beta_, steps_max_, eps_);
  last_steps_ = r.steps;
  auto y = torch::matmul(r.xi, v).transpose(1, 2).reshape({b, s, dim_});
  return out_->forward(y);
}

int64_t HopfieldLayerImpl::macs(int64_t s) const {
  // projections + (1 + max updates) associations of 2 S^2 d each, + retrieval
  return 4 * s * dim_ * dim_ + (1 + steps_max_) * 2 * s * s * dim_ + s * s * dim_;
}

}  // namespace hicomex::nn
