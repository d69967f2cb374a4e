// hicomex-eval: evaluates HiCOMEX weights on a dataset's test fold and prints the
// paper's table (F1 % per AU + Avg) as Markdown, with precision / recall /
// accuracy per AU; --json writes the same as JSON.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "nn/weights_io.h"
#include "tool_common.h"
#include "training/evaluate.h"
#include "training/metrics.h"
#include "training/progress.h"

namespace fs = std::filesystem;
using namespace hicomex;
using namespace hicomex::training;

int main(int argc, char** argv) {
  CLI::App app{
      "hicomex-eval: F1 per AU (the paper's table), precision, recall and accuracy of HiCOMEX weights\n"
      "on the test fold of a dataset (raw or prepared), or re-scores saved predictions (--from-predictions)."};
  tools::DataArgs data;
  std::string weights, json_path, predictions_out, from_predictions, cache_dir, centres = "model", device = "auto",
                                                                               name;
  float threshold = -1.f;
  std::size_t batch_size = 32;
  int threads = 0, loader_threads = 2;
  std::uint64_t seed = 0;
  app.add_option("--weights", weights, "HiCOMEX weights (.safetensors)")->check(CLI::ExistingFile);
  tools::add_data_options(app, data);
  tools::add_split_options(app, data, false);
  app.add_option("--seed", seed, "seed of hashed folds (use the training run's)")->capture_default_str();
  app.add_option("--threshold", threshold,
                 "one decision threshold for every AU (default: the thresholds stored in the weights)");
  app.add_option("--centres", centres,
                 "AU centres from the network's own landmark estimate (model) or from the face's 68 "
                 "landmarks (gt: the dataset's, or the project's detector + landmarker with "
                 "--force-detect, which is what the element and hicomex-analyze do)")
      ->check(CLI::IsMember({"model", "gt"}))
      ->capture_default_str();
  app.add_option("--json", json_path, "also write the results as JSON to this file");
  app.add_option("--predictions", predictions_out, "write per-face probabilities and labels (CSV)");
  app.add_option("--from-predictions", from_predictions,
                 "score a predictions CSV instead of running a model (no --weights / --data needed)")
      ->check(CLI::ExistingFile);
  app.add_option("--name", name, "row name in the table (default: the model id and fold)");
  app.add_option("--cache-dir", cache_dir, "where a raw dataset is prepared (default: cache/ beside the weights)");
  app.add_option("--batch-size", batch_size, "faces per forward pass")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch CPU threads (0 = all cores)")->capture_default_str();
  app.add_option("--loader-threads", loader_threads, "batch-building threads")->capture_default_str();
  app.add_option("--device", device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  // --data is required only when a model runs.
  for (auto* o : app.get_options())
    if (o->get_name() == "--data") o->required(false);
  CLI11_PARSE(app, argc, argv);

  try {
    Predictions p;
    std::vector<float> thresholds;
    std::string row_name = name;
    if (!from_predictions.empty()) {
      p = read_predictions_csv(from_predictions);
      if (row_name.empty()) row_name = fs::path(from_predictions).stem().string();
      thresholds.assign(p.aus.size(), threshold >= 0 ? threshold : 0.5f);
    } else {
      if (weights.empty()) throw std::invalid_argument("--weights is required (or --from-predictions)");
      if (data.spec.path.empty()) throw std::invalid_argument("--data is required (or --from-predictions)");
      data.split.seed = seed;
      tools::finish_data_args(data);
      if (threads > 0) torch::set_num_threads(threads);
      auto loaded = nn::load_hicomex(weights);
      if (cache_dir.empty()) cache_dir = (fs::path(weights).parent_path() / "cache").string();
      BadDataLog log(data.spec.skip_bad);
      const auto prepared = ensure_cache(data.spec, cache_dir, log, tools::say);
      if (log.total() > 0) tools::say(log.summary() + " (not evaluated)");
      CacheReader cache(prepared.cache_path);
      const auto split = split_cache(cache, prepared.kind.empty() ? "manifest" : prepared.kind, data.split);
      std::vector<std::size_t> records = split.test;
      if (data.split.test_folds == "none") records = split.train;
      if (records.empty()) throw std::runtime_error(prepared.cache_path + ": the test split has no faces");
      const torch::Device dev = device == "auto" ? (torch::cuda::is_available() ? torch::Device(torch::kCUDA)
                                                                                : torch::Device(torch::kCPU))
                                                 : torch::Device(device);
      loaded.net->to(dev);
      PredictOptions po;
      po.batch_size = batch_size;
      po.loader_threads = loader_threads;
      po.gt_centres = centres == "gt";
      po.amp = dev.is_cuda();
      ProgressMeter meter("evaluating", records.size(), "faces");
      meter.sink = tools::say;
      po.progress = [&](std::size_t done, std::size_t) { meter.update(done); };
      p = predict(loaded.net, cache, records, dev, po);
      thresholds = threshold >= 0 ? std::vector<float>(p.aus.size(), threshold) : loaded.info.thresholds_or_default();
      if (row_name.empty()) row_name = loaded.info.model_id + " test fold " + data.split.test_folds;
      if (!predictions_out.empty()) write_predictions_csv(predictions_out, p, &cache);
    }
    std::vector<MetricsRow> rows{{row_name, AuMetrics(p.aus)}};
    rows[0].metrics.add_batch(p.labels.data(), p.probs.data(), p.rows(), thresholds);
    std::cout << markdown_f1_table(rows) << '\n' << markdown_detail_table(rows[0]) << '\n';
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << json_report(rows, thresholds) << '\n';
      if (!out) throw std::runtime_error(json_path + ": cannot write the JSON report");
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hicomex-eval: error: " << e.what() << '\n';
    return 1;
  }
}
