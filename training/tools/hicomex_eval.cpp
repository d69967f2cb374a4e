// hicomex-eval: evaluates HiCOMEX weights on a dataset's test fold and prints the
// paper's table (F1 % per AU + Avg) as Markdown, with precision / recall /
// accuracy per AU and, for a model with an intensity head on data with intensity
// codes, ICC(3,1) / Pearson r / MAE per AU; --json writes the same as JSON. Data
// that codes only some of the model's AUs (another dataset) is scored on those,
// and the output says which of the model's AUs were left out and why.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include "hicomex/option_parsers.h"
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
      "on the test fold of a dataset (raw or prepared), or re-scores saved predictions (--from-predictions);\n"
      "ICC(3,1), Pearson r and MAE of AU intensity for a model with an intensity head. Data coding only some\n"
      "of the model's AUs (another dataset) is scored on those; the output names the AUs left out."};
  tools::DataArgs data;
  std::string weights, json_path, predictions_out, from_predictions, cache_dir, centres = "model", device = "auto",
                                                                                name;
  std::string threshold;  // the library's threshold grammar (hicomex/option_parsers.h)
  std::size_t batch_size = 32;
  int threads = 0, loader_threads = 2;
  std::uint64_t seed = 0;
  app.add_option("--weights", weights, "HiCOMEX weights (.safetensors)")->check(CLI::ExistingFile);
  tools::add_data_options(app, data);
  tools::add_split_options(app, data, false);
  app.add_option("--seed", seed, "seed of hashed folds (use the training run's)")->capture_default_str();
  app.add_option("--threshold", threshold,
                 std::string("AU decision thresholds of the scored AUs (default: the thresholds stored in the "
                             "weights, 0.5 for --from-predictions): ") +
                     kThresholdForms)
      ->check([](const std::string& t) { return option_problem(parse_threshold_spec, t); });
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
  app.add_option("--cache-dir", cache_dir,
                 "where a raw dataset is prepared (default: $XDG_CACHE_HOME/hicomex, else ~/.cache/hicomex)");
  app.add_option("--batch-size", batch_size, "faces per forward pass")->capture_default_str();
  app.add_option("--threads", threads, "LibTorch CPU threads (0 = all cores)")->capture_default_str();
  app.add_option("--loader-threads", loader_threads, "batch-building threads")->capture_default_str();
  app.add_option("--device", device, kDeviceForms)->capture_default_str()->check([](const std::string& t) {
    return option_problem(parse_device, t);
  });
  // --data is required only when a model runs.
  for (auto* o : app.get_options())
    if (o->get_name() == "--data") o->required(false);
  CLI11_PARSE(app, argc, argv);

  try {
    const ThresholdSpec threshold_spec = parse_threshold_spec(threshold);
    Predictions p;
    std::vector<float> thresholds;
    std::string row_name = name;
    AuCoverage coverage;
    bool model_has_head = false;
    if (!from_predictions.empty()) {
      const Predictions all = read_predictions_csv(from_predictions);
      if (row_name.empty()) row_name = fs::path(from_predictions).stem().string();
      // The file holds what was scored then; --aus narrows it, AUs without coded labels are left out.
      std::vector<std::int64_t> coded(all.aus.size(), 0);
      for (std::size_t i = 0; i < all.labels.size(); ++i) coded[i % all.aus.size()] += all.labels[i] >= 0 ? 1 : 0;
      const std::vector<int> requested = data.aus.empty() ? std::vector<int>{} : tools::parse_au_list(data.aus);
      coverage = plan_au_coverage(all.aus, all.aus, requested, coded, from_predictions);
      p = select_aus(all, coverage.scored);
      thresholds = resolve_thresholds(threshold_spec, p.aus, std::vector<float>(p.aus.size(), 0.5f));
      if (thresholds.size() <= 1) thresholds.assign(p.aus.size(), thresholds.empty() ? 0.5f : thresholds[0]);
      model_has_head = p.has_predicted_intensities();
    } else {
      if (weights.empty()) throw std::invalid_argument("--weights is required (or --from-predictions)");
      if (data.spec.path.empty()) throw std::invalid_argument("--data is required (or --from-predictions)");
      data.split.seed = seed;
      tools::finish_data_args(data);
      if (threads > 0) torch::set_num_threads(threads);
      auto loaded = nn::load_hicomex(weights);
      if (cache_dir.empty()) {
        // The training run's own cache (hicomex-train --out DIR keeps it in DIR/cache)
        // is reused when it holds this data; nothing new is written beside the weights.
        const std::string run_cache = (fs::path(weights).parent_path() / "cache").string();
        const std::string candidate = cache_path_for(data.spec, run_cache);
        cache_dir = !candidate.empty() && fs::exists(candidate) ? run_cache : tools::user_cache_dir();
      }
      BadDataLog log(data.spec.skip_bad);
      const auto prepared = ensure_cache(data.spec, cache_dir, log, tools::say);
      if (log.total() > 0) tools::say(log.summary() + " (not evaluated)");
      CacheReader cache(prepared.cache_path);
      const auto split = split_cache(cache, prepared.kind.empty() ? "manifest" : prepared.kind, data.split);
      std::vector<std::size_t> records = split.test;
      if (data.split.test_folds == "none") records = split.train;
      if (records.empty()) throw std::runtime_error(prepared.cache_path + ": the test split has no faces");
      // Cross-dataset: score the AUs both the model and the data have (and --aus names).
      const auto model_aus = loaded.info.options.aus();
      coverage = plan_au_coverage(model_aus, cache.aus(), data.spec.read.aus, coded_label_counts(cache, records),
                                  data.spec.path);
      const torch::Device dev(resolve_device(device));  // DeviceError: no such device here
      loaded.net->to(dev);
      model_has_head = loaded.net->has_intensity_head();
      PredictOptions po;
      po.batch_size = batch_size;
      po.loader_threads = loader_threads;
      po.gt_centres = centres == "gt";
      po.amp = dev.is_cuda();
      po.aus = coverage.scored;
      ProgressMeter meter("evaluating", records.size(), "faces");
      meter.sink = tools::say;
      po.progress = [&](std::size_t done, std::size_t) { meter.update(done); };
      p = predict(loaded.net, cache, records, dev, po);
      {  // the stored thresholds of the scored AUs, then --threshold over them
        const auto all = loaded.info.thresholds_or_default();
        std::vector<float> stored;
        for (int au : p.aus)
          stored.push_back(
              all.at(static_cast<std::size_t>(std::find(model_aus.begin(), model_aus.end(), au) - model_aus.begin())));
        thresholds = resolve_thresholds(threshold_spec, p.aus, stored);
        if (thresholds.empty()) thresholds = stored;
        if (thresholds.size() == 1) thresholds.assign(p.aus.size(), thresholds[0]);
      }
      if (row_name.empty()) row_name = loaded.info.model_id + " test fold " + data.split.test_folds;
      if (!predictions_out.empty()) write_predictions_csv(predictions_out, p, &cache);
    }
    std::vector<MetricsRow> rows{{row_name, AuMetrics(p.aus)}};
    rows[0].metrics.add_batch(p.labels.data(), p.probs.data(), p.rows(), thresholds);
    score_intensities(rows[0], p, model_has_head);
    std::cout << markdown_coverage(coverage) << "\n\n"
              << markdown_f1_table(rows) << '\n'
              << markdown_detail_table(rows[0]) << '\n';
    if (rows[0].intensity) std::cout << markdown_intensity_table(rows[0]) << '\n';
    if (!rows[0].intensity_note.empty()) std::cout << "Intensity: " << rows[0].intensity_note << "\n\n";
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << json_report(rows, thresholds, &coverage) << '\n';
      if (!out) throw std::runtime_error(json_path + ": cannot write the JSON report");
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "hicomex-eval: error: " << e.what() << '\n';
    return 1;
  }
}
