// Running a HiCOMEX network over cache records: probabilities per AU for every
// record (centre crop of the aligned face at the model's own size), for
// per-epoch validation, threshold calibration and hicomex-eval.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

// nn/hicomex_net.h relies on the full torch API being included first (the model
// library builds with a precompiled <torch/torch.h>).
#include <torch/torch.h>

#include "nn/hicomex_net.h"
#include "training/cache.h"

namespace hicomex::training {

struct Predictions {
  std::vector<int> aus;               ///< the model's AUs (columns)
  std::vector<std::size_t> records;   ///< cache record of each row
  std::vector<float> probs;           ///< rows x aus, sigmoid of the logits
  std::vector<std::int8_t> labels;    ///< rows x aus: 1, 0, -1 (not coded)
  std::size_t rows() const { return records.size(); }
};

struct PredictOptions {
  std::size_t batch_size = 32;
  int loader_threads = 2;
  /// AU centres from the cache's landmarks ("gt") instead of the model's own landmark branch.
  bool gt_centres = false;
  bool amp = false;                   ///< bf16 autocast (CUDA only)
  std::function<void(std::size_t done, std::size_t total)> progress;
};

/// Columns of `cache_aus` for each of `model_aus`; throws naming an AU the cache lacks.
std::vector<std::int64_t> au_columns(const std::vector<int>& model_aus, const std::vector<int>& cache_aus,
                                     const std::string& origin);

/// Puts `net` in eval mode and predicts `records` (all if empty) in order.
Predictions predict(nn::Hicomex& net, const CacheReader& cache, std::vector<std::size_t> records,
                    const torch::Device& device, const PredictOptions& options);

/// Writes / reads predictions as CSV: record,subject,AU<n>_prob...,AU<n>_label...
void write_predictions_csv(const std::string& path, const Predictions& p, const CacheReader* cache = nullptr);
Predictions read_predictions_csv(const std::string& path);

}  // namespace hicomex::training
