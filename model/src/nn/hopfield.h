// Continuous modern Hopfield layer (Ramsauer et al. 2020; paper section 3.5),
// used as self-association over the AU sequence: state, stored and projected
// patterns are the (LayerNorm-ed) AU features.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace hicomex::nn {

struct HopfieldRetrieval {
  torch::Tensor xi;  ///< association matrix softmax(beta Q K^T), [..., S, S]
  int64_t steps;     ///< associations computed (1 + updates actually run)
};

/// xi = softmax(beta Q K^T); then, up to `update_steps_max` times, Q <- xi K and
/// xi is recomputed, stopping early once max ||xi_new - xi_old||_2 (over rows,
/// heads and faces) <= `eps`. Q, K: [..., S, d].
HopfieldRetrieval hopfield_retrieve(torch::Tensor q, const torch::Tensor& k, double beta, int64_t update_steps_max,
                                    double eps);

class HopfieldLayerImpl : public torch::nn::Module {
 public:
  HopfieldLayerImpl(int64_t dim, int64_t heads, double beta, int64_t update_steps_max, double eps);
  torch::Tensor forward(const torch::Tensor& x);  ///< [B,S,D] -> [B,S,D]
  /// Associations run by the last forward (for tests and the benchmark).
  int64_t last_steps() const { return last_steps_; }
  double beta() const { return beta_; }
  int64_t macs(int64_t sequence) const;

 private:
  int64_t dim_, heads_, steps_max_;
  double beta_, eps_;
  int64_t last_steps_ = 0;
  torch::nn::LayerNorm norm_state_{nullptr}, norm_stored_{nullptr}, norm_proj_{nullptr};
  torch::nn::Linear q_{nullptr}, k_{nullptr}, v_{nullptr}, out_{nullptr};
};
TORCH_MODULE(HopfieldLayer);

}  // namespace hicomex::nn
