// Running a HiCOMEX network over cache records: probabilities (and intensities, with
// an intensity head) per AU for every record (centre crop of the aligned face at the
// model's own size), for per-epoch validation, threshold calibration and hicomex-eval;
// which of a model's AUs some data lets an evaluation score.
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
#include "training/metrics.h"

namespace hicomex::training {

struct Predictions {
  std::vector<int> aus;                  ///< the scored AUs (columns): the model's, or the part the data codes
  std::vector<std::size_t> records;      ///< cache record of each row
  std::vector<float> probs;              ///< rows x aus, sigmoid of the logits
  std::vector<std::int8_t> labels;       ///< rows x aus: 1, 0, -1 (not coded)
  std::vector<float> intensities;        ///< rows x aus, predicted 0-5; NaN when the model has no intensity head
  std::vector<float> label_intensities;  ///< rows x aus, coded 0-5; NaN = not coded
  std::size_t rows() const { return records.size(); }
  bool has_predicted_intensities() const;  ///< any predicted intensity is a number
  bool has_label_intensities() const;      ///< any label intensity is coded
};

struct PredictOptions {
  std::size_t batch_size = 32;
  int loader_threads = 2;
  /// AU centres from the cache's landmarks ("gt") instead of the model's own landmark branch.
  bool gt_centres = false;
  bool amp = false;  ///< bf16 autocast (CUDA only)
  /// The AUs to score, each one the model predicts and the cache codes (empty = all
  /// the model's AUs, which the cache must then code): see plan_au_coverage().
  std::vector<int> aus;
  std::function<void(std::size_t done, std::size_t total)> progress;
};

/// Columns of `cache_aus` for each of `model_aus`; throws naming an AU the cache lacks.
std::vector<std::int64_t> au_columns(const std::vector<int>& model_aus, const std::vector<int>& cache_aus,
                                     const std::string& origin);

/// Which of the model's AUs to score on data coding `data_aus`: those the data codes and,
/// when `requested` is not empty, that it names (hicomex-eval's --aus). `coded` (empty =
/// unchecked) gives, per data AU, the coded labels among the faces to evaluate: an AU with
/// none is left out too (its F1 would be a meaningless 0). Throws std::invalid_argument
/// for a requested AU the model does not predict, and when nothing is left to score,
/// naming the model's, the data's (and the requested) AUs; `origin` names the data.
AuCoverage plan_au_coverage(const std::vector<int>& model_aus, const std::vector<int>& data_aus,
                            const std::vector<int>& requested, const std::vector<std::int64_t>& coded,
                            const std::string& origin);

/// Coded labels per AU column over `records` (all if empty), from the cache's label table.
std::vector<std::int64_t> coded_label_counts(const CacheReader& cache, const std::vector<std::size_t>& records);

/// The columns of `aus` (each one of p.aus) of every row, in that order.
Predictions select_aus(const Predictions& p, const std::vector<int>& aus);

/// Intensity agreement of `p` into row.intensity, over the scored AUs with at least one
/// coded label intensity; row.intensity_note says why there is none (`model_has_head`
/// false, no intensity labels) or which scored AUs have no intensity labels.
void score_intensities(MetricsRow& row, const Predictions& p, bool model_has_head);

/// Puts `net` in eval mode and predicts `records` (all if empty) in order.
Predictions predict(nn::Hicomex& net, const CacheReader& cache, std::vector<std::size_t> records,
                    const torch::Device& device, const PredictOptions& options);

/// Writes / reads predictions as CSV: record,subject,AU<n>_prob...,AU<n>_label...,
/// AU<n>_int...,AU<n>_label_int... (intensity cells empty where NaN). Reading accepts
/// files without the intensity columns (written before they existed): all NaN then.
void write_predictions_csv(const std::string& path, const Predictions& p, const CacheReader* cache = nullptr);
Predictions read_predictions_csv(const std::string& path);

}  // namespace hicomex::training
