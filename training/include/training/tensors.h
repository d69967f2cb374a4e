// Batch -> LibTorch tensors for the training loop.
#pragma once
#include <torch/types.h>

#include "training/loader.h"

namespace hicomex::training {

struct BatchTensors {
  torch::Tensor images;         ///< [N, 3, crop, crop] float
  torch::Tensor labels;         ///< [N, A] float: 1, 0, -1 (not coded)
  torch::Tensor intensities;    ///< [N, A] float: 0-5, NaN = not coded
  torch::Tensor landmarks;      ///< [N, 98] float, crop coordinates
  torch::Tensor has_landmarks;  ///< [N] bool
  torch::Tensor inter_ocular;   ///< [N] float (1 where no landmarks)
};

/// Copies a batch into tensors on `device` (pinned + non-blocking for CUDA).
BatchTensors to_tensors(const Batch& b, const torch::Device& device = torch::kCPU);

}  // namespace hicomex::training
