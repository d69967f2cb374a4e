// Batch -> tensors (the only other LibTorch translation unit of the training library).
#include "training/tensors.h"

#include <cmath>

#include <torch/torch.h>

#include "training/losses.h"

namespace hicomex::training {

BatchTensors to_tensors(const Batch& b, const torch::Device& device) {
  const auto n = static_cast<std::int64_t>(b.size);
  const bool cuda = device.is_cuda();
  auto host = [&](const torch::Tensor& t) {
    auto c = t.clone();  // own the memory: the batch may be freed before an async copy ends
    if (cuda) c = c.pin_memory();
    return c.to(device, /*non_blocking=*/cuda);
  };
  BatchTensors t;
  t.images = host(torch::from_blob(const_cast<float*>(b.images.data()), {n, 3, b.crop, b.crop}, torch::kFloat));
  t.labels = host(
      torch::from_blob(const_cast<std::int8_t*>(b.labels.data()), {n, static_cast<std::int64_t>(b.n_aus)}, torch::kInt8)
          .to(torch::kFloat));
  if (b.intensities.size() == b.size * b.n_aus)
    t.intensities = host(torch::from_blob(const_cast<float*>(b.intensities.data()),
                                          {n, static_cast<std::int64_t>(b.n_aus)}, torch::kFloat));
  else
    t.intensities = host(torch::full({n, static_cast<std::int64_t>(b.n_aus)}, std::nanf(""), torch::kFloat));
  const auto lm = torch::from_blob(const_cast<float*>(b.landmarks.data()), {n, 98}, torch::kFloat);
  t.landmarks = host(lm);
  const auto has =
      torch::from_blob(const_cast<std::uint8_t*>(b.has_landmarks.data()), {n}, torch::kUInt8).to(torch::kBool);
  t.has_landmarks = host(has);
  t.inter_ocular = host(torch::where(has, inter_ocular49(lm), torch::ones({n})));
  return t;
}

}  // namespace hicomex::training
