// Run state of a training run (trainer.cpp): the checkpoint written after every
// epoch (model, optimizer, global CPU RNG, finished epochs) in
// <out>/checkpoint, what --resume reads back, and the epoch logs it keeps in
// step with.
#pragma once
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "nn/hicomex_net.h"
#include "training/trainer.h"

namespace hicomex::training {

struct Checkpoint {
  int stage = 0, epoch = 0;  ///< last finished epoch (1-based) of stage
  std::vector<EpochRecord> epochs;
};

/// What must not change between a run and its resumption.
nlohmann::json run_fingerprint(const TrainConfig& c, std::size_t n_train, std::size_t n_val);

/// One line of epochs.jsonl (and of the checkpoint's epoch list), and back.
nlohmann::json epoch_json(const EpochRecord& e);
EpochRecord epoch_from_json(const nlohmann::json& j);

/// Now as UTC ISO 8601 ("2026-01-31T12:00:00Z").
std::string now_iso();

/// A stage in messages: "1", "2" or "intensity".
const char* stage_name(int stage);

std::filesystem::path checkpoint_dir(const TrainConfig& c);

/// Writes the checkpoint after an epoch: the model's state, the optimizer,
/// the global CPU RNG and `ck`; swapped in at once (a rename), so an
/// interruption never leaves a half-written one.
void save_checkpoint(const TrainConfig& c, const nlohmann::json& fingerprint, nn::Hicomex& net,
                     torch::optim::Optimizer& opt, const Checkpoint& ck);

/// --resume: reads the checkpoint (its fingerprint must equal `fingerprint`),
/// loads its model state into `net` (then on `device`), and cuts the logs
/// (steps.jsonl, epochs.jsonl) back to it, so they read as if the run had
/// never stopped.
Checkpoint resume_from_checkpoint(const TrainConfig& c, const nlohmann::json& fingerprint, nn::Hicomex& net,
                                  const torch::Device& device, const std::function<void(const std::string&)>& say);

/// Resuming inside the checkpoint's stage: its optimizer state and the global
/// CPU RNG as they were when it was saved.
void restore_optimizer_and_rng(const TrainConfig& c, torch::optim::Optimizer& opt);

}  // namespace hicomex::training
