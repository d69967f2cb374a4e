// AU intensity-distribution learning (paper section 3.3): the local AU feature
// vectors of one image form a sequence in AU order; a BiLSTM lets every AU see
// the ones before and after it. Output per AU = both directions concatenated.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

namespace hicomex::nn {

class IntensityLstmImpl : public torch::nn::Module {
 public:
  explicit IntensityLstmImpl(int64_t dim);        ///< hidden = dim / 2 per direction
  torch::Tensor forward(const torch::Tensor& x);  ///< [B,A,D] -> [B,A,D]
  int64_t macs(int64_t sequence) const;

 private:
  int64_t dim_;
  torch::nn::LSTM lstm_{nullptr};
};
TORCH_MODULE(IntensityLstm);

}  // namespace hicomex::nn
