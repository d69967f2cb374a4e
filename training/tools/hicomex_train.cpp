// hicomex-train: trains HiCOMEX on a dataset (raw or prepared) with the paper's
// two-stage protocol and writes safetensors weights with thresholds and provenance.
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "hicomex/option_parsers.h"
#include "tool_common.h"
#include "training/model_sizes.h"
#include "training/trainer.h"

namespace fs = std::filesystem;
using namespace hicomex;
using namespace hicomex::training;

int main(int argc, char** argv) {
  CLI::App app{
      "hicomex-train: trains the HiCOMEX AU network.\n"
      "--data is a raw dataset (prepared once into --out/cache, or --cache-dir) or a prepared .cache file.\n"
      "Writes to --out: weights.safetensors (and stage1.safetensors with --stage both), checkpoint/ after\n"
      "every epoch, steps.jsonl and epochs.jsonl logs, run.json."};
  tools::DataArgs data;
  data.split.val_fraction = 0.1;
  TrainConfig c;
  std::string stage = "both", variant = "full", size = "paper", cache_dir;
  std::int64_t aligned = 0, crop = 0;
  tools::add_data_options(app, data);
  tools::add_split_options(app, data, true);
  app.add_option("--out", c.out_dir, "output folder")->required();
  app.add_option("--cache-dir", cache_dir, "where a raw dataset is prepared (default: --out/cache)");
  app.add_option("--variant", variant, "relation modules: base, lstm, attention, hopfield, full")
      ->check(CLI::IsMember({"base", "lstm", "attention", "hopfield", "full"}))
      ->capture_default_str();
  app.add_option("--stage", stage,
                 "1 (no relation modules), 2 (features frozen; use --init with stage 1's weights), both, or "
                 "intensity (only the intensity head learns, on a finished model given with --init; its "
                 "occurrence outputs stay exactly as they were)")
      ->check(CLI::IsMember({"1", "2", "both", "intensity"}))
      ->capture_default_str();
  app.add_option("--size", size,
                 "model size preset: paper (aligned 200, crop 176), small (128 / 112, narrower), tiny (80 / 64)")
      ->check(CLI::IsMember(model_size_names()))
      ->capture_default_str();
  app.add_option("--aligned-size", aligned, "override the preset's aligned face side")->capture_default_str();
  app.add_option("--crop-size", crop, "override the preset's crop side (multiple of 16)")->capture_default_str();
  app.add_option("--epochs", c.epochs, "epochs per stage (the paper trains up to 30)")->capture_default_str();
  app.add_option("--batch-size", c.batch_size, "samples per step")->capture_default_str();
  app.add_option("--lr", c.lr, "initial learning rate (restarts at each stage)")->capture_default_str();
  app.add_option("--lr-step", c.lr_step, "epochs between learning-rate decays")->capture_default_str();
  app.add_option("--lr-gamma", c.lr_gamma, "learning-rate decay factor")->capture_default_str();
  app.add_option("--optimizer", c.optimizer,
                 "sgd (the paper's protocol) or adamw (faster from scratch; use --lr 0.001)")
      ->check(CLI::IsMember({"sgd", "adamw"}))
      ->capture_default_str();
  app.add_option("--momentum", c.momentum, "SGD momentum")->capture_default_str();
  app.add_flag("--nesterov", c.nesterov, "Nesterov momentum");
  app.add_option("--weight-decay", c.weight_decay, "SGD weight decay")->capture_default_str();
  app.add_option("--dice", c.dice_weight, "weight of the Dice term of the AU loss (0 = off)")->capture_default_str();
  app.add_option("--landmark-weight", c.landmark_weight, "weight of the landmark loss")->capture_default_str();
  std::string intensity_head = "off";
  app.add_option("--intensity-head", intensity_head,
                 "on: a per-AU intensity head (0-5) trained beside occurrence where the data has intensity labels "
                 "(hicomex-synth, DISFA, BP4D intensity codes, manifest AUxx_int); off: the paper's occurrence-only "
                 "network")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  app.add_option("--intensity-weight", c.intensity_weight, "weight of the intensity loss (masked MSE of intensity / 5)")
      ->capture_default_str();
  app.add_option("--threads", c.threads, "LibTorch CPU threads (0 = all cores)")->capture_default_str();
  app.add_option("--loader-threads", c.loader_threads, "batch-building threads")->capture_default_str();
  app.add_option("--device", c.device, kDeviceForms)->capture_default_str()->check([](const std::string& t) {
    return option_problem(parse_device, t);
  });
  app.add_flag("!--no-amp", c.amp, "no bf16 mixed precision on CUDA (it is on by default there; never on CPU)");
  app.add_option("--seed", c.seed, "seed of initialisation, shuffling, augmentation, folds")->capture_default_str();
  app.add_flag("--resume", c.resume,
               "continue from --out/checkpoint (same settings; gives the weights of an "
               "uninterrupted run)");
  app.add_option("--init", c.init_weights, "start from these weights (e.g. --stage 2 --init stage1.safetensors)")
      ->check(CLI::ExistingFile);
  app.add_option("--stop-after", c.stop_after_epochs, "stop after this many epochs in this run (resume later)")
      ->capture_default_str();
  app.add_option("--model-id", c.model_id, "model id stored in the weights")->capture_default_str();
  app.add_option("--log-interval", c.log_interval_s, "seconds between progress lines")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    data.split.seed = c.seed;
    tools::finish_data_args(data);
    c.stages = stage == "1" ? 1 : stage == "2" ? 2 : stage == "intensity" ? TrainConfig::kIntensityStage : 3;
    if (c.stages == 2 && c.init_weights.empty())
      tools::say("warning: --stage 2 without --init trains the relation modules on untrained features");
    c.model = model_size_preset(size);
    c.model.variant(variant_from_string(variant));
    c.model.intensity_head(intensity_head == "on" || stage == "intensity");
    if (aligned > 0) c.model.aligned_size(aligned);
    if (crop > 0) c.model.crop_size(crop);
    c.model.validate();
    if (cache_dir.empty()) cache_dir = (fs::path(c.out_dir) / "cache").string();

    BadDataLog log(data.spec.skip_bad);
    const auto prepared = ensure_cache(data.spec, cache_dir, log, tools::say);
    if (log.total() > 0) tools::say(log.summary());
    CacheReader cache(prepared.cache_path);
    const std::string kind = prepared.kind.empty() ? "manifest" : prepared.kind;
    const auto split = split_cache(cache, kind, data.split);
    c.model.aus(data.spec.read.aus.empty() ? cache.aus() : data.spec.read.aus);
    tools::say("split " + split.plan.description + ": " + std::to_string(split.train.size()) + " train, " +
               std::to_string(split.validation.size()) + " validation, " + std::to_string(split.test.size()) +
               " test faces (test not used by training)");

    nlohmann::json prov;
    prov["dataset"] = {{"kind", kind},
                       {"source", prepared.source},
                       {"cache", prepared.cache_path},
                       {"faces", cache.size()},
                       {"aus", cache.aus()}};
    auto one_based = [](const std::vector<int>& v) {
      std::vector<int> o;
      for (int f : v) o.push_back(f + 1);
      return o;
    };
    prov["folds"] = {{"plan", split.plan.description},
                     {"test", one_based(split.test_folds)},
                     {"train", one_based(split.train_folds)},
                     {"val_fraction", data.split.val_fraction}};
    prov["variant"] = variant;
    prov["size"] = size;
    prov["command"] = tools::command_line(argc, argv);
    if (!c.init_weights.empty()) prov["init_weights"] = c.init_weights;
    if (log.total() > 0) prov["bad_data_skipped"] = log.total();
    c.provenance = prov;
    fs::create_directories(c.out_dir);
    std::ofstream(fs::path(c.out_dir) / "run.json") << prov.dump(2) << '\n';

    const auto result = train_hicomex(c, cache, split.train, split.validation, tools::say);
    if (log.total() > 0) tools::say(log.summary() + " (not trained on)");
    if (!result.finished) return 0;
    std::cout << result.weights_path << '\n';
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hicomex-train: error: " << e.what() << '\n';
    return 1;
  }
}
