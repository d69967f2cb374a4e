// The HiCOMEX training loop (paper section 3.7; docs/training.md, "The paper's protocol"): stage 1 without
// the relation modules, stage 2 with the patch / global / local feature modules
// frozen; SGD with a step schedule; a checkpoint after every epoch from which
// --resume continues exactly; per-AU thresholds calibrated on validation subjects;
// final weights as safetensors with full metadata.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hicomex/hicomex_options.h"
#include "training/cache.h"

namespace hicomex::training {

struct TrainConfig {
  std::string out_dir;   ///< checkpoints, logs, weights
  HicomexOptions model;  ///< network (its aus() are the AUs trained)
  std::string model_id = "hicomex";
  int stages = 3;  ///< 1: stage 1, 2: stage 2, 3: stage 1 then stage 2,
                   ///< kIntensityStage: the intensity head alone (the rest frozen)
  static constexpr int kIntensityStage = 4;
  int epochs = 2;  ///< per stage
  std::size_t batch_size = 16;
  /// "sgd" (the paper: momentum, weight decay) or "adamw" (converges in far
  /// fewer steps from scratch; used for the CPU-trained default model).
  std::string optimizer = "sgd";
  double lr = 0.01;
  int lr_step = 2;  ///< epochs between decays
  double lr_gamma = 0.3;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 5e-4;
  double dice_weight = 1.0;      ///< JAA-Net adds the Dice term with weight 1
  double landmark_weight = 0.5;  ///< JAA-Net's lambda for the landmark loss
  /// Weight of the intensity loss (models with an intensity head; samples
  /// without intensity labels add nothing).
  double intensity_weight = 1.0;
  int threads = 0;  ///< LibTorch intra-op threads (0 = all cores)
  int loader_threads = 2;
  std::string device = "auto";  ///< auto, cpu, cuda, cuda:N
  bool amp = true;              ///< bf16 autocast on CUDA (never on CPU)
  std::uint64_t seed = 0;
  bool resume = false;          ///< continue from out_dir/checkpoint
  std::string init_weights;     ///< start from these weights (e.g. stage 1's for --stage 2)
  int stop_after_epochs = 0;    ///< > 0: stop after this many epochs in this run (a time box; resume later)
  double log_interval_s = 5.0;  ///< console progress lines (steps.jsonl gets every step)
  /// Provenance merged into the weights' metadata (dataset, folds, command line...).
  nlohmann::json provenance = nlohmann::json::object();
};

struct EpochRecord {
  int stage = 1, epoch = 1;  ///< 1-based
  double lr = 0, train_loss = 0, au_loss = 0, dice_loss = 0, landmark_loss = 0, intensity_loss = 0;
  double samples_per_s = 0, seconds = 0;
  std::optional<double> val_f1;             ///< mean F1 at 0.5 on the validation records
  std::optional<double> val_intensity_mae;  ///< mean absolute intensity error (0-5) on coded validation labels
};

struct TrainResult {
  std::string weights_path;  ///< empty when stopped early (stop_after_epochs)
  bool finished = false;
  std::vector<EpochRecord> epochs;  ///< of this run and, on resume, the earlier ones
  std::vector<float> thresholds;
  std::optional<double> val_f1_calibrated;  ///< validation F1 with the calibrated thresholds
};

/// Trains on `train` records of `cache`; `validation` (may be empty) gives the
/// per-epoch F1 and the thresholds. `say` receives progress lines.
TrainResult train_hicomex(const TrainConfig& config, const CacheReader& cache, const std::vector<std::size_t>& train,
                          const std::vector<std::size_t>& validation,
                          const std::function<void(const std::string&)>& say);

}  // namespace hicomex::training
