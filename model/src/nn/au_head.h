// Per-AU occurrence prediction over [refined local AU feature, global feature,
// landmark feature]: a shared hidden layer, then one logit per AU.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace hicomex::nn {

class AuHeadImpl : public torch::nn::Module {
 public:
  AuHeadImpl(int64_t aus, int64_t local_dim, int64_t feature_dim, int64_t hidden, double dropout);
  /// local [B,A,L], global [B,F], landmark [B,F] -> logits [B,A]
  torch::Tensor forward(const torch::Tensor& local, const torch::Tensor& global, const torch::Tensor& landmark);
  int64_t macs() const;

 private:
  int64_t aus_, in_, hidden_;
  torch::nn::Linear shared_{nullptr};
  torch::nn::PReLU act_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  torch::Tensor weight_, bias_;  // [A,H], [A]
};
TORCH_MODULE(AuHead);

/// Per-AU intensity on the FACS 0-5 scale over the same inputs as AuHead: its
/// own shared hidden layer, then one output per AU squashed to [0,5]
/// (5 * sigmoid), so a frozen occurrence head is untouched by intensity training.
class IntensityHeadImpl : public torch::nn::Module {
 public:
  static constexpr double kMaxIntensity = 5.0;
  IntensityHeadImpl(int64_t aus, int64_t local_dim, int64_t feature_dim, int64_t hidden);
  /// local [B,A,L], global [B,F], landmark [B,F] -> intensities [B,A] in [0,5]
  torch::Tensor forward(const torch::Tensor& local, const torch::Tensor& global, const torch::Tensor& landmark);
  int64_t macs() const;

 private:
  int64_t aus_, in_, hidden_;
  torch::nn::Linear shared_{nullptr};
  torch::nn::PReLU act_{nullptr};
  torch::Tensor weight_, bias_;  // [A,H], [A]
};
TORCH_MODULE(IntensityHead);

}  // namespace hicomex::nn
