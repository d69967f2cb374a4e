#include "nn/intensity_lstm.h"

#include <torch/torch.h>

namespace hicomex::nn {

IntensityLstmImpl::IntensityLstmImpl(int64_t dim) : dim_(dim) {
  lstm_ = register_module("lstm",
                          torch::nn::LSTM(torch::nn::LSTMOptions(dim, dim / 2).bidirectional(true).batch_first(true)));
}

torch::Tensor IntensityLstmImpl::forward(const torch::Tensor& x) { return std::get<0>(lstm_->forward(x)); }

int64_t IntensityLstmImpl::macs(int64_t sequence) const {
  const int64_t h = dim_ / 2;
  return 2 * sequence * 4 * h * (dim_ + h);  // two directions, four gates
}

}  // namespace hicomex::nn
