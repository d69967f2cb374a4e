// The two-stage HiCOMEX training loop (see trainer.h): train_hicomex() runs
// its steps in order; one epoch of training and one validation pass are the
// free functions below, checkpoints and resumption are checkpoint.cpp.
#include "training/trainer.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "checkpoint.h"
#include "hicomex/option_parsers.h"
#include "hicomex_config.h"
#include "hicomex_version.h"
#include "nn/autocast.h"
#include "nn/weights_io.h"
#include "training/evaluate.h"
#include "training/loader.h"
#include "training/losses.h"
#include "training/metrics.h"
#include "training/progress.h"
#include "training/tensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace hicomex::training {
namespace {

// Children of HicomexImpl frozen in stage 2 (the modules feature_parameters() covers).
const char* const kFeatureModules[] = {"region1", "region2", "global", "local"};

// The training device through the one device parser (hicomex/option_parsers.h):
// "cpu" or "cuda:N" of this machine, or DeviceError naming the text (unknown,
// or a CUDA device this machine lacks).
torch::Device pick_device(const std::string& name) { return torch::Device(resolve_device(name)); }

/// Stage 1: everything trains, relations off. Stage 2: relations on, feature
/// modules frozen - no gradients and eval mode, so their BatchNorm statistics stay put too.
void set_stage_mode(nn::Hicomex& net, int stage) {
  if (stage == TrainConfig::kIntensityStage) {
    // Only the intensity head learns; everything else runs as at inference
    // (no dropout, frozen BatchNorm statistics), so occurrence is unchanged.
    net->set_relations_enabled(true);
    net->eval();
    for (auto& p : net->parameters()) p.set_requires_grad(false);
    for (auto& p : net->intensity_parameters()) p.set_requires_grad(true);
    return;
  }
  net->set_relations_enabled(stage == 2);
  net->train();
  for (auto& p : net->parameters()) p.set_requires_grad(true);
  for (auto& p : net->feature_parameters()) p.set_requires_grad(stage == 1);
  if (stage == 2)
    for (const auto& child : net->named_children())
      for (const char* name : kFeatureModules)
        if (child.key() == name) child.value()->eval();
}

double lr_for_epoch(const TrainConfig& c, int epoch0) {
  return c.lr * std::pow(c.lr_gamma, c.lr_step > 0 ? epoch0 / c.lr_step : 0);
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& g : opt.param_groups()) g.options().set_lr(lr);
}

bool is_relation_tensor(const std::string& name) {
  return name.rfind("lstm.", 0) == 0 || name.rfind("attention.", 0) == 0 || name.rfind("hopfield.", 0) == 0 ||
         name.rfind("intensity_head.", 0) == 0;
}

/// Copies every parameter and buffer of `dst` from the same name in `src` (shapes
/// checked). Names `src` lacks are an error unless they belong to the relation
/// modules or the intensity head and `allow_missing_relations` (a stage-1 / base
/// model starting stage 2; an occurrence-only model getting an intensity head).
void copy_state(torch::nn::Module& src, torch::nn::Module& dst, bool allow_missing_relations,
                const std::string& origin) {
  torch::NoGradGuard no_grad;
  auto sp = src.named_parameters(), sb = src.named_buffers();
  auto copy = [&](const std::string& name, torch::Tensor& t, const torch::Tensor* from) {
    if (!from) {
      if (allow_missing_relations && is_relation_tensor(name)) return;
      throw std::invalid_argument(origin + ": has no tensor " + name);
    }
    if (from->sizes() != t.sizes())
      throw std::invalid_argument(origin + ": " + name + " has shape " + c10::str(from->sizes()) + ", expected " +
                                  c10::str(t.sizes()));
    t.copy_(*from);
  };
  for (auto& p : dst.named_parameters()) copy(p.key(), p.value(), sp.find(p.key()));
  for (auto& b : dst.named_buffers()) copy(b.key(), b.value(), sb.find(b.key()));
}

/// Saves the network as it runs: with the relation modules off (stage 1) it is
/// the base variant, so the file says so and holds no untrained relation weights.
void save_weights(const std::string& path, nn::Hicomex& net, ModelInfo info) {
  net->to(torch::kCPU);
  if (net->relations_enabled() || info.options.variant() == Variant::Base) {
    nn::save_hicomex(path, net, info);
    return;
  }
  info.options.variant(Variant::Base);
  // Building a module draws initial values: keep the global RNG where training left it.
  auto gen = at::detail::getDefaultCPUGenerator();
  torch::Tensor rng;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    rng = gen.get_state();
  }
  nn::Hicomex base(info.options);
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  }
  copy_state(*net, *base, false, "stage-1 network");
  nn::save_hicomex(path, base, info);
}

void check_config(const TrainConfig& c, const CacheReader& cache, const std::vector<std::size_t>& train) {
  if (c.out_dir.empty()) throw std::invalid_argument("--out: no output folder given");
  if (train.empty()) throw std::invalid_argument(cache.path() + ": the training split has no samples");
  if (c.stages < 1 || c.stages > TrainConfig::kIntensityStage)
    throw std::invalid_argument("stage must be 1, 2, both or intensity");
  if (c.stages == TrainConfig::kIntensityStage && !c.model.intensity_head())
    throw std::invalid_argument("--stage intensity needs a model with an intensity head (--intensity-head on)");
  if (c.stages == TrainConfig::kIntensityStage && c.init_weights.empty() && !c.resume)
    throw std::invalid_argument("--stage intensity trains the intensity head of a finished model: give it with --init");
  if (c.epochs < 1) throw std::invalid_argument("--epochs must be >= 1 (got " + std::to_string(c.epochs) + ")");
  if (c.batch_size < 1) throw std::invalid_argument("--batch-size must be >= 1");
  c.model.validate();
  if (cache.image_size() < c.model.crop_size())
    throw std::invalid_argument(cache.path() + ": cached faces are " + std::to_string(cache.image_size()) +
                                " px, smaller than the crop " + std::to_string(c.model.crop_size()));
}

/// The trained AUs' columns in the cache and their loss weights (inverse
/// occurrence rates on the training records), on the training device.
struct AuTargets {
  torch::Tensor columns;
  torch::Tensor weights;
};

AuTargets au_targets(const TrainConfig& c, const CacheReader& cache, const std::vector<std::size_t>& train,
                     const torch::Device& device) {
  const auto cols = au_columns(c.model.aus(), cache.aus(), cache.path());
  AuTargets t;
  t.columns = torch::tensor(cols, torch::kLong).to(device);
  std::vector<double> rates;
  {
    const auto all = occurrence_rates(cache, train);
    for (auto col : cols) rates.push_back(all[static_cast<std::size_t>(col)]);
  }
  const auto w = inverse_rate_weights(rates);
  t.weights = torch::tensor(w, torch::kFloat).to(device);
  return t;
}

/// The network, seeded, with --init's weights when given (checked against this run's options).
nn::Hicomex build_network(const TrainConfig& c) {
  const bool intensity_only = c.stages == TrainConfig::kIntensityStage;
  torch::manual_seed(c.seed);
  nn::Hicomex net(c.model);
  if (!c.init_weights.empty()) {
    auto loaded = nn::load_hicomex(c.init_weights);
    // Stage 1's weights are the base variant; everything else must match.
    auto theirs = loaded.info.options, ours = c.model;
    theirs.variant(Variant::Base);
    ours.variant(Variant::Base);
    theirs.intensity_head(false);  // an occurrence-only model may get a fresh intensity head
    ours.intensity_head(false);
    if (options_to_json(theirs) != options_to_json(ours))
      throw std::invalid_argument("--init " + c.init_weights + ": its model options differ from this run's (" +
                                  options_to_json(loaded.info.options) + " vs " + options_to_json(c.model) + ")");
    if (intensity_only && loaded.info.options.variant() != c.model.variant())
      throw std::invalid_argument("--init " + c.init_weights +
                                  ": --stage intensity needs a finished model, but its variant is " +
                                  to_string(loaded.info.options.variant()) + " where this run builds " +
                                  to_string(c.model.variant()) + " (its relation modules would stay untrained)");
    copy_state(*loaded.net, *net,
               loaded.info.options.variant() != c.model.variant() ||
                   loaded.info.options.intensity_head() != c.model.intensity_head(),
               "--init " + c.init_weights);
  }
  return net;
}

/// The optimizer of a stage, over the parameters it trains.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& c, nn::Hicomex& net, int stage) {
  std::vector<torch::Tensor> params;
  for (auto& p : (stage == 1                              ? net->parameters()
                  : stage == TrainConfig::kIntensityStage ? net->intensity_parameters()
                                                          : net->stage2_parameters()))
    params.push_back(p);
  if (c.optimizer == "adamw")
    return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(c.lr).weight_decay(c.weight_decay));
  return std::make_unique<torch::optim::SGD>(
      params, torch::optim::SGDOptions(c.lr).momentum(c.momentum).nesterov(c.nesterov).weight_decay(c.weight_decay));
}

/// What every epoch of a run shares.
struct EpochInputs {
  const TrainConfig& c;
  const torch::Device& device;
  bool amp;
  const AuTargets& targets;
  std::size_t train_records;
  std::ofstream& steps_log;
  const std::function<void(const std::string&)>& say;
};

struct Losses {
  double total = 0, au = 0, dice = 0, landmark = 0, intensity = 0;
};

/// One epoch of training (`epoch` 0-based within `stage`): every batch of the
/// loader through the network and one optimizer step, each step logged to
/// steps.jsonl. Returns the epoch's record, without validation.
EpochRecord train_epoch(const EpochInputs& in, nn::Hicomex& net, torch::optim::Optimizer& opt, BatchLoader& loader,
                        int stage, int epoch) {
  const TrainConfig& c = in.c;
  const torch::Device& device = in.device;
  const bool intensity_only = c.stages == TrainConfig::kIntensityStage;
  const double lr = lr_for_epoch(c, epoch);
  set_lr(opt, lr);
  set_stage_mode(net, stage);
  // Loader epochs are numbered across stages so stage 2 sees fresh augmentations.
  loader.start_epoch(stage * 1000 + epoch);
  const std::size_t steps = loader.batches_per_epoch();
  ProgressMeter meter("stage " + std::string(stage_name(stage)) + " epoch " + std::to_string(epoch + 1) + "/" +
                          std::to_string(c.epochs),
                      in.train_records, "samples", c.log_interval_s);
  meter.sink = in.say;
  Losses sum;
  std::size_t seen = 0, step = 0;
  while (auto b = loader.next()) {
    const auto t = to_tensors(*b, device);
    const auto n = static_cast<std::int64_t>(b->size);
    const auto labels = t.labels.index_select(1, in.targets.columns);
    torch::Tensor centres;
    if (t.has_landmarks.all().item<bool>()) centres = t.landmarks.view({n, 49, 2});
    torch::Tensor au, dice, lm, inten, loss;
    {
      nn::Autocast autocast(device.type(), in.amp ? torch::kBFloat16 : torch::kFloat);
      auto out = net->forward(t.images, centres);
      const auto logits = out.au_logits.to(torch::kFloat);
      au = au_bce_loss(logits, labels, in.targets.weights);
      dice = c.dice_weight > 0 ? au_dice_loss(logits, labels, in.targets.weights) : torch::zeros({}, logits.options());
      lm =
          landmark_loss(out.landmarks.reshape({n, -1}).to(torch::kFloat), t.landmarks, t.inter_ocular, t.has_landmarks);
      inten = out.intensities.defined() ? au_intensity_loss(out.intensities.to(torch::kFloat),
                                                            t.intensities.index_select(1, in.targets.columns))
                                        : torch::zeros({}, logits.options());
      loss = intensity_only ? c.intensity_weight * inten
                            : au + c.dice_weight * dice + c.landmark_weight * lm + c.intensity_weight * inten;
    }
    opt.zero_grad();
    loss.backward();
    opt.step();
    const double lv = loss.item<double>(), av = au.item<double>(), dv = dice.item<double>(), mv = lm.item<double>(),
                 iv = inten.item<double>();
    if (!std::isfinite(lv))
      throw std::runtime_error("stage " + std::string(stage_name(stage)) + " epoch " + std::to_string(epoch + 1) +
                               " step " + std::to_string(step + 1) + ": the loss is " + std::to_string(lv) +
                               " (try a lower --lr)");
    ++step;
    seen += b->size;
    sum.total += lv * double(b->size);
    sum.au += av * double(b->size);
    sum.dice += dv * double(b->size);
    sum.landmark += mv * double(b->size);
    sum.intensity += iv * double(b->size);
    char extra[128];
    std::snprintf(extra, sizeof extra, "loss %.4f (AU %.4f, dice %.4f, landmarks %.4f, intensity %.4f)", lv, av, dv, mv,
                  iv);
    meter.update(seen, extra);
    in.steps_log << json{{"stage", stage},
                         {"epoch", epoch + 1},
                         {"step", step},
                         {"steps", steps},
                         {"loss", lv},
                         {"au_loss", av},
                         {"dice_loss", dv},
                         {"landmark_loss", mv},
                         {"intensity_loss", iv},
                         {"lr", lr},
                         {"samples_per_s", meter.rate()},
                         {"eta_s", meter.eta()}}
                        .dump()
                 << '\n';
  }
  in.steps_log.flush();
  EpochRecord rec;
  rec.stage = stage;
  rec.epoch = epoch + 1;
  rec.lr = lr;
  rec.train_loss = sum.total / double(seen);
  rec.au_loss = sum.au / double(seen);
  rec.dice_loss = sum.dice / double(seen);
  rec.landmark_loss = sum.landmark / double(seen);
  rec.intensity_loss = sum.intensity / double(seen);
  rec.seconds = meter.elapsed();
  rec.samples_per_s = meter.rate();
  return rec;
}

/// One validation pass after an epoch: mean F1 at 0.5 and, where both the
/// model and the labels have intensities, the mean absolute intensity error.
void validate_epoch(nn::Hicomex& net, const CacheReader& cache, const std::vector<std::size_t>& validation,
                    const torch::Device& device, const PredictOptions& po, EpochRecord& rec) {
  const auto p = predict(net, cache, validation, device, po);
  AuMetrics m(p.aus);
  m.add_batch(p.labels.data(), p.probs.data(), p.rows());
  rec.val_f1 = m.mean_f1();
  if (p.has_predicted_intensities() && p.has_label_intensities()) {
    double err = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < p.intensities.size(); ++i)
      if (!std::isnan(p.label_intensities[i]) && !std::isnan(p.intensities[i])) {
        err += std::abs(double(p.intensities[i]) - double(p.label_intensities[i]));
        ++n;
      }
    if (n > 0) rec.val_intensity_mae = err / double(n);
  }
}

/// The epoch's progress line and its line in epochs.jsonl.
void report_epoch(const TrainConfig& c, const EpochRecord& rec, std::ofstream& epochs_log,
                  const std::function<void(const std::string&)>& say) {
  char line[256];
  std::snprintf(line, sizeof line,
                "stage %s epoch %d/%d done: train loss %.4f (AU %.4f, dice %.4f, landmarks %.4f, intensity %.4f), "
                "%.1f samples/s, %s",
                stage_name(rec.stage), rec.epoch, c.epochs, rec.train_loss, rec.au_loss, rec.dice_loss,
                rec.landmark_loss, rec.intensity_loss, rec.samples_per_s, format_duration(rec.seconds).c_str());
  char val[96] = "";
  if (rec.val_f1) std::snprintf(val, sizeof val, ", val F1 %.2f%%", 100.0 * *rec.val_f1);
  if (rec.val_intensity_mae)
    std::snprintf(val + std::strlen(val), sizeof val - std::strlen(val), ", val intensity MAE %.3f",
                  *rec.val_intensity_mae);
  say(std::string(line) + val);
  epochs_log << epoch_json(rec).dump() << '\n';
  epochs_log.flush();
}

/// stage1.safetensors, when stage 2 follows in the same run.
void save_stage1_weights(const TrainConfig& c, nn::Hicomex& net, const torch::Device& device) {
  ModelInfo info;
  info.model_id = c.model_id + "-stage1";
  info.options = c.model;
  json prov = c.provenance;
  prov["stage"] = 1;
  info.provenance_json = prov.dump();
  save_weights((fs::path(c.out_dir) / "stage1.safetensors").string(), net, info);
  net->to(device);
}

/// The end of a run: per-AU thresholds (the F1-maximising ones on the
/// validation records, or --init's for --stage intensity), the provenance
/// and weights.safetensors.
void finish_run(const TrainConfig& c, nn::Hicomex& net, const CacheReader& cache, std::size_t train_records,
                const std::vector<std::size_t>& validation, const torch::Device& device, const PredictOptions& po,
                const std::function<void(const std::string&)>& say, TrainResult& result) {
  const bool intensity_only = c.stages == TrainConfig::kIntensityStage;
  ModelInfo info;
  info.model_id = c.model_id;
  info.options = c.model;
  info.thresholds.assign(c.model.aus().size(), 0.5f);
  json prov = c.provenance;
  // Training the intensity head alone leaves every occurrence output as it was:
  // keep the finished model's thresholds too, so its decisions are unchanged.
  std::vector<float> kept_thresholds;
  if (intensity_only && !c.init_weights.empty()) {
    const auto init = nn::load_hicomex(c.init_weights);
    if (init.info.thresholds.size() == c.model.aus().size() && init.info.options.aus() == c.model.aus())
      kept_thresholds = init.info.thresholds;
  }
  if (!kept_thresholds.empty()) {
    info.thresholds = kept_thresholds;
    if (!validation.empty()) {
      const auto p = predict(net, cache, validation, device, po);
      AuMetrics m(p.aus);
      m.add_batch(p.labels.data(), p.probs.data(), p.rows(), info.thresholds);
      result.val_f1_calibrated = m.mean_f1();
      prov["validation_f1_calibrated"] = m.mean_f1();
    }
    say("thresholds kept from " + c.init_weights + " (occurrence is unchanged by --stage intensity)");
  } else if (!validation.empty()) {
    const auto p = predict(net, cache, validation, device, po);
    info.thresholds = calibrate_thresholds(p.probs, p.labels, p.aus.size());
    AuMetrics m(p.aus);
    m.add_batch(p.labels.data(), p.probs.data(), p.rows(), info.thresholds);
    result.val_f1_calibrated = m.mean_f1();
    prov["validation_f1_calibrated"] = m.mean_f1();
    say("thresholds calibrated on " + std::to_string(validation.size()) + " validation faces: val F1 " +
        std::to_string(100.0 * m.mean_f1()).substr(0, 5) + "%");
  } else {
    say("no validation split (--val-fraction 0): thresholds stay 0.5");
  }
  prov["thresholds_from"] = !kept_thresholds.empty() ? "--init " + c.init_weights
                            : validation.empty()     ? "default 0.5"
                                                     : "validation subjects";
  prov["stages"] = c.stages == 3 ? "1+2" : std::string(stage_name(c.stages));
  prov["epochs_per_stage"] = c.epochs;
  prov["seed"] = c.seed;
  prov["optimizer"] = {{"type", c.optimizer},
                       {"lr", c.lr},
                       {"lr_step", c.lr_step},
                       {"lr_gamma", c.lr_gamma},
                       {"momentum", c.momentum},
                       {"nesterov", c.nesterov},
                       {"weight_decay", c.weight_decay},
                       {"batch_size", c.batch_size}};
  prov["losses"] = {{"au", "weighted BCE"}, {"dice_weight", c.dice_weight}, {"landmark_weight", c.landmark_weight}};
  if (c.model.intensity_head())
    prov["losses"]["intensity"] = {{"type", "masked MSE on intensity / 5"}, {"weight", c.intensity_weight}};
  prov["train_records"] = train_records;
  prov["validation_records"] = validation.size();
  prov["commit"] = HICOMEX_GIT_COMMIT;
  prov["hicomex_version"] = HICOMEX_VERSION;
  prov["finished_at"] = now_iso();
  prov["device"] = device.str();
  if (!result.epochs.empty()) prov["final_train_loss"] = result.epochs.back().train_loss;
  info.provenance_json = prov.dump();
  result.weights_path = (fs::path(c.out_dir) / "weights.safetensors").string();
  save_weights(result.weights_path, net, info);
  result.thresholds = info.thresholds;
  result.finished = true;
  say("wrote " + result.weights_path);
}

}  // namespace

TrainResult train_hicomex(const TrainConfig& c, const CacheReader& cache, const std::vector<std::size_t>& train,
                          const std::vector<std::size_t>& validation,
                          const std::function<void(const std::string&)>& say) {
  check_config(c, cache, train);
  fs::create_directories(c.out_dir);
  const torch::Device device = pick_device(c.device);
  torch::set_num_threads(c.threads > 0 ? c.threads
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const bool amp = c.amp && device.is_cuda();
  const AuTargets targets = au_targets(c, cache, train, device);
  nn::Hicomex net = build_network(c);
  net->to(device);

  // A fresh run, or where the checkpoint left off (model state and logs).
  const json fingerprint = run_fingerprint(c, train.size(), validation.size());
  const bool intensity_only = c.stages == TrainConfig::kIntensityStage;
  const int first_stage = intensity_only ? TrainConfig::kIntensityStage : c.stages == 2 ? 2 : 1;
  const int last_stage = intensity_only ? TrainConfig::kIntensityStage : c.stages == 1 ? 1 : 2;
  Checkpoint ck;
  if (c.resume) {
    ck = resume_from_checkpoint(c, fingerprint, net, device, say);
  } else {
    fs::remove(fs::path(c.out_dir) / "steps.jsonl");
    fs::remove(fs::path(c.out_dir) / "epochs.jsonl");
  }
  std::ofstream steps_log(fs::path(c.out_dir) / "steps.jsonl", std::ios::app);
  std::ofstream epochs_log(fs::path(c.out_dir) / "epochs.jsonl", std::ios::app);

  LoaderOptions lo;
  lo.batch_size = c.batch_size;
  lo.threads = c.loader_threads;
  lo.seed = c.seed;
  lo.augment.crop = static_cast<int>(c.model.crop_size());
  lo.augment.aligned = static_cast<int>(c.model.aligned_size());
  BatchLoader loader(cache, train, lo);
  PredictOptions po;
  po.batch_size = c.batch_size;
  po.loader_threads = c.loader_threads;
  po.amp = amp;
  const EpochInputs inputs{c, device, amp, targets, train.size(), steps_log, say};

  // The stages, epoch by epoch: train, validate, report, checkpoint.
  TrainResult result;
  result.epochs = ck.epochs;
  int epochs_this_run = 0;
  for (int stage = first_stage; stage <= last_stage; ++stage) {
    if (c.resume && ck.stage > stage) continue;
    set_stage_mode(net, stage);
    const auto opt = make_optimizer(c, net, stage);
    int first_epoch = 0;
    if (c.resume && ck.stage == stage) {
      first_epoch = ck.epoch;
      restore_optimizer_and_rng(c, *opt);
    }
    for (int epoch = first_epoch; epoch < c.epochs; ++epoch) {
      if (c.stop_after_epochs > 0 && epochs_this_run >= c.stop_after_epochs) {
        say("stopping after " + std::to_string(epochs_this_run) + " epoch(s) as asked; continue with --resume");
        return result;
      }
      EpochRecord rec = train_epoch(inputs, net, *opt, loader, stage, epoch);
      if (!validation.empty()) validate_epoch(net, cache, validation, device, po, rec);
      report_epoch(c, rec, epochs_log, say);
      result.epochs.push_back(rec);
      ck.stage = stage;
      ck.epoch = epoch + 1;
      ck.epochs = result.epochs;
      save_checkpoint(c, fingerprint, net, *opt, ck);
      ++epochs_this_run;
    }
    if (stage == 1 && last_stage == 2) save_stage1_weights(c, net, device);
  }

  finish_run(c, net, cache, train.size(), validation, device, po, say, result);
  return result;
}

}  // namespace hicomex::training
