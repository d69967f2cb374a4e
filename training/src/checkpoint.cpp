// Checkpoints and resumption of a training run (checkpoint.h).
#include "checkpoint.h"

#include <ctime>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

#include "hicomex/safetensors.h"
#include "nn/weights_io.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace hicomex::training {
namespace {

/// Drops log lines written after the checkpoint a run resumes from (stage, epoch
/// beyond it), so the logs read as if the run had never stopped.
void truncate_log(const fs::path& path, int stage, int epoch) {
  if (!fs::exists(path)) return;
  std::ifstream in(path);
  std::vector<std::string> keep;
  std::string line;
  while (std::getline(in, line)) {
    try {
      const auto j = json::parse(line);
      const int s = j.at("stage"), e = j.at("epoch");
      if (s < stage || (s == stage && e <= epoch)) keep.push_back(line);
    } catch (const std::exception&) {
      // a line cut by the interruption
    }
  }
  in.close();
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : keep) out << l << '\n';
}

Checkpoint read_checkpoint_state(const TrainConfig& c, const json& fingerprint) {
  const fs::path file = checkpoint_dir(c) / "state.json";
  if (!fs::exists(file))
    throw std::runtime_error("--resume: no checkpoint in " + checkpoint_dir(c).string() +
                             " (run without --resume to start)");
  json state;
  std::ifstream(file) >> state;
  const json& saved = state.at("fingerprint");
  for (auto it = fingerprint.begin(); it != fingerprint.end(); ++it)
    if (!saved.contains(it.key()) || saved.at(it.key()) != it.value())
      throw std::runtime_error("--resume: " + it.key() + " differs from the checkpointed run (" +
                               (saved.contains(it.key()) ? saved.at(it.key()).dump() : "absent") + " there, " +
                               it.value().dump() + " now) in " + file.string());
  Checkpoint ck;
  ck.stage = state.at("stage");
  ck.epoch = state.at("epoch");
  for (const auto& e : state.at("epochs")) ck.epochs.push_back(epoch_from_json(e));
  return ck;
}

}  // namespace

json run_fingerprint(const TrainConfig& c, std::size_t n_train, std::size_t n_val) {
  return {{"model", json::parse(options_to_json(c.model))},
          {"stages", c.stages},
          {"batch_size", c.batch_size},
          {"optimizer", c.optimizer},
          {"lr", c.lr},
          {"lr_step", c.lr_step},
          {"lr_gamma", c.lr_gamma},
          {"momentum", c.momentum},
          {"nesterov", c.nesterov},
          {"weight_decay", c.weight_decay},
          {"dice_weight", c.dice_weight},
          {"landmark_weight", c.landmark_weight},
          {"intensity_weight", c.intensity_weight},
          {"seed", c.seed},
          {"train_records", n_train},
          {"validation_records", n_val},
          {"init_weights", c.init_weights}};
}

json epoch_json(const EpochRecord& e) {
  json j{{"stage", e.stage},
         {"epoch", e.epoch},
         {"lr", e.lr},
         {"train_loss", e.train_loss},
         {"au_loss", e.au_loss},
         {"dice_loss", e.dice_loss},
         {"landmark_loss", e.landmark_loss},
         {"intensity_loss", e.intensity_loss},
         {"samples_per_s", e.samples_per_s},
         {"seconds", e.seconds}};
  j["val_f1"] = e.val_f1 ? json(*e.val_f1) : json(nullptr);
  j["val_intensity_mae"] = e.val_intensity_mae ? json(*e.val_intensity_mae) : json(nullptr);
  return j;
}

EpochRecord epoch_from_json(const json& j) {
  EpochRecord e;
  e.stage = j.at("stage");
  e.epoch = j.at("epoch");
  e.lr = j.at("lr");
  e.train_loss = j.at("train_loss");
  e.au_loss = j.at("au_loss");
  e.dice_loss = j.at("dice_loss");
  e.landmark_loss = j.at("landmark_loss");
  e.intensity_loss = j.value("intensity_loss", 0.0);  // absent in logs of older versions
  if (j.contains("val_intensity_mae") && !j.at("val_intensity_mae").is_null())
    e.val_intensity_mae = j.at("val_intensity_mae").get<double>();
  e.samples_per_s = j.at("samples_per_s");
  e.seconds = j.at("seconds");
  if (!j.at("val_f1").is_null()) e.val_f1 = j.at("val_f1").get<double>();
  return e;
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

const char* stage_name(int stage) { return stage == 1 ? "1" : stage == 2 ? "2" : "intensity"; }

fs::path checkpoint_dir(const TrainConfig& c) { return fs::path(c.out_dir) / "checkpoint"; }

void save_checkpoint(const TrainConfig& c, const json& fingerprint, nn::Hicomex& net, torch::optim::Optimizer& opt,
                     const Checkpoint& ck) {
  const fs::path dir = checkpoint_dir(c), tmp = fs::path(c.out_dir) / "checkpoint.tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  // Model state as safetensors (exact bytes, names kept); TorchScript archives
  // cannot hold a submodule called "global".
  write_safetensors((tmp / "model.safetensors").string(), nn::module_to_safetensors(*net, {}));
  torch::save(opt, (tmp / "optimizer.pt").string());
  torch::Tensor rng;
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng = gen.get_state();
  }
  torch::save(rng, (tmp / "rng.pt").string());
  json state{{"stage", ck.stage}, {"epoch", ck.epoch}, {"fingerprint", fingerprint}, {"saved_at", now_iso()}};
  state["epochs"] = json::array();
  for (const auto& e : ck.epochs) state["epochs"].push_back(epoch_json(e));
  std::ofstream(tmp / "state.json") << state.dump(2) << '\n';
  // Swap in one rename so an interruption never leaves a half-written checkpoint.
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

Checkpoint resume_from_checkpoint(const TrainConfig& c, const json& fingerprint, nn::Hicomex& net,
                                  const torch::Device& device, const std::function<void(const std::string&)>& say) {
  Checkpoint ck = read_checkpoint_state(c, fingerprint);
  const auto model_file = (checkpoint_dir(c) / "model.safetensors").string();
  nn::load_module_state(*net, read_safetensors(model_file), model_file);
  net->to(device);
  say("resuming after stage " + std::string(stage_name(ck.stage)) + " epoch " + std::to_string(ck.epoch) + " from " +
      checkpoint_dir(c).string());
  truncate_log(fs::path(c.out_dir) / "steps.jsonl", ck.stage, ck.epoch);
  truncate_log(fs::path(c.out_dir) / "epochs.jsonl", ck.stage, ck.epoch);
  return ck;
}

void restore_optimizer_and_rng(const TrainConfig& c, torch::optim::Optimizer& opt) {
  torch::load(opt, (checkpoint_dir(c) / "optimizer.pt").string());
  torch::Tensor rng;
  torch::load(rng, (checkpoint_dir(c) / "rng.pt").string());
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(rng);
}

}  // namespace hicomex::training
