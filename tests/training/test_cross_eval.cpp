// Evaluation across datasets: a model scored on data that codes only some of its AUs,
// predicted and label intensities carried through predict() and the predictions CSV.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "nn/weights_io.h"
#include "training/cache.h"
#include "training/evaluate.h"
#include "training/loader.h"
#include "training/metrics.h"
#include "training/model_sizes.h"
#include "training/tensors.h"

namespace fs = std::filesystem;
using namespace hicomex;
using namespace hicomex::training;
using namespace hicomex::training::test;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool same_or_both_nan(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

bool mentions(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

/// The data's AUs, in an order unlike the model's: AU12, AU1, AU25.
const std::vector<int> kDataAus{12, 1, 25};

std::vector<std::int8_t> data_labels(int i) {
  return {std::int8_t(i % 2), std::int8_t(i % 3 == 0 ? -1 : (i / 2) % 2), std::int8_t(1 - i % 2)};
}
std::vector<float> data_intensities(int i) {
  // AU12 coded on every face, AU1 on two of three, AU25 never.
  return {float(i % 6) * 0.8f, i % 3 == 0 ? kNaN : float(i % 5), kNaN};
}

/// A cache of `n` random faces of 4 subjects coding kDataAus, with landmarks.
std::string write_data_cache(const TempDir& dir, int n) {
  const std::string path = dir / "data.cache";
  CacheWriter w(path, kDataAus, "cross-dataset test cache");
  for (int i = 0; i < n; ++i) {
    PreparedSample s;
    s.subject = "s" + std::to_string(i % 4);
    s.frame = i;
    s.source = "img" + std::to_string(i) + ".png";
    s.labels = data_labels(i);
    s.intensities = data_intensities(i);
    s.rgb = cv::Mat(200, 200, CV_8UC3);
    cv::RNG rng(static_cast<std::uint64_t>(i) + 5);
    rng.fill(s.rgb, cv::RNG::UNIFORM, 0, 256);
    for (int k = 0; k < 49; ++k) s.landmarks49.emplace_back(60.f + 2.f * float(k % 10), 70.f + 8.f * float(k / 10));
    w.add(s);
  }
  w.finish();
  return path;
}

/// An untrained "tiny" network predicting AUs 1 2 4 12 (a superset of the data's 1 and
/// 12), saved and loaded through the weights file like a trained model.
nn::LoadedHicomex tiny_superset_model(const TempDir& dir, bool intensity_head) {
  torch::manual_seed(3);
  auto o = model_size_preset("tiny");
  o.aus({1, 2, 4, 12});
  o.intensity_head(intensity_head);
  nn::Hicomex net{o};
  ModelInfo info;
  info.model_id = "tiny-superset";
  info.options = o;
  info.thresholds = {0.3f, 0.4f, 0.5f, 0.6f};
  const std::string path = dir / "weights.safetensors";
  nn::save_hicomex(path, net, info);
  return nn::load_hicomex(path);
}

}  // namespace

TEST(AuCoverage, ScoresTheIntersectionAndNamesWhatIsLeftOutAndWhy) {
  const std::vector<int> model{1, 2, 4, 12};
  auto c = plan_au_coverage(model, kDataAus, {}, {}, "data.cache");
  EXPECT_EQ(c.model_aus, model);
  EXPECT_EQ(c.scored, (std::vector<int>{1, 12}));  // the model's order
  ASSERT_EQ(c.left_out.size(), 2u);
  EXPECT_EQ(c.left_out[0].au, 2);
  EXPECT_EQ(c.left_out[0].reason, "not coded by the data");
  EXPECT_EQ(c.left_out[1].au, 4);
  // --aus narrows it further.
  c = plan_au_coverage(model, kDataAus, {12}, {}, "data.cache");
  EXPECT_EQ(c.scored, (std::vector<int>{12}));
  ASSERT_EQ(c.left_out.size(), 3u);
  EXPECT_EQ(c.left_out[0].au, 1);
  EXPECT_EQ(c.left_out[0].reason, "not in --aus");
  // A column without a single coded label among the evaluated faces is left out too.
  c = plan_au_coverage(model, kDataAus, {}, {5, 0, 5}, "data.cache");
  EXPECT_EQ(c.scored, (std::vector<int>{12}));
  EXPECT_EQ(c.left_out[0].au, 1);
  EXPECT_EQ(c.left_out[0].reason, "no coded labels in the evaluated faces");
}

TEST(AuCoverage, NothingToScoreIsAnErrorNamingBothAuLists) {
  try {
    plan_au_coverage({1, 2, 4, 12}, {9, 25, 26}, {}, {}, "disfa.cache");
    FAIL() << "no common AU must be an error";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_TRUE(mentions(m, "disfa.cache") && mentions(m, "1 2 4 12") && mentions(m, "9 25 26")) << m;
  }
  try {
    plan_au_coverage({1, 2, 4, 12}, kDataAus, {2}, {}, "data.cache");
    FAIL() << "--aus naming only AUs the data lacks must be an error";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_TRUE(mentions(m, "1 2 4 12") && mentions(m, "12 1 25") && mentions(m, "--aus asks for 2")) << m;
  }
  try {
    plan_au_coverage({1, 12}, kDataAus, {1, 5}, {}, "data.cache");
    FAIL() << "--aus naming an AU the model does not predict must be an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(mentions(e.what(), "AU5") && mentions(e.what(), "1 12")) << e.what();
  }
}

TEST(CrossDatasetEval, ModelWithMoreAusThanTheDataIsScoredOnTheCommonOnes) {
  TempDir dir;
  const int n = 10;
  CacheReader cache(write_data_cache(dir, n));
  auto loaded = tiny_superset_model(dir, true);
  const auto model_aus = loaded.info.options.aus();

  // Before: predicting every model AU needs the data to code all of them.
  PredictOptions all;
  all.loader_threads = 1;
  try {
    predict(loaded.net, cache, {}, torch::kCPU, all);
    FAIL() << "predicting AU2 on data without it must fail";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(mentions(e.what(), "AU2")) << e.what();
  }

  const auto coverage = plan_au_coverage(model_aus, cache.aus(), {}, coded_label_counts(cache, {}), cache.path());
  ASSERT_EQ(coverage.scored, (std::vector<int>{1, 12}));
  PredictOptions po;
  po.loader_threads = 1;
  po.batch_size = 4;
  po.aus = coverage.scored;
  const Predictions p = predict(loaded.net, cache, {}, torch::kCPU, po);
  EXPECT_EQ(p.aus, (std::vector<int>{1, 12}));
  ASSERT_EQ(p.rows(), std::size_t(n));
  ASSERT_EQ(p.probs.size(), std::size_t(2 * n));
  ASSERT_EQ(p.intensities.size(), std::size_t(2 * n));
  ASSERT_EQ(p.label_intensities.size(), std::size_t(2 * n));

  // Reference: the network's own outputs for the same centre crops, model columns 0 (AU1) and 3 (AU12).
  LoaderOptions lo;
  lo.batch_size = std::size_t(n);
  lo.threads = 1;
  lo.shuffle = false;
  lo.augment.train = false;
  lo.augment.crop = static_cast<int>(loaded.info.options.crop_size());
  lo.augment.aligned = static_cast<int>(loaded.info.options.aligned_size());
  BatchLoader loader(cache, {}, lo);
  loader.start_epoch(0);
  const auto batch = loader.next();
  ASSERT_TRUE(batch);
  torch::NoGradGuard no_grad;
  loaded.net->eval();
  const auto out = loaded.net->forward(to_tensors(*batch, torch::kCPU).images);
  const auto ref_probs = torch::sigmoid(out.au_logits).contiguous();
  ASSERT_TRUE(out.intensities.defined());
  const auto ref_int = out.intensities.contiguous();
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(p.records[i], std::size_t(i));
    const auto labels = data_labels(i);
    const auto intens = data_intensities(i);
    // Data columns: AU12 is column 0, AU1 column 1.
    EXPECT_EQ(p.labels[2 * i], labels[1]) << i;
    EXPECT_EQ(p.labels[2 * i + 1], labels[0]) << i;
    EXPECT_TRUE(same_or_both_nan(p.label_intensities[2 * i], intens[1])) << i;
    EXPECT_TRUE(same_or_both_nan(p.label_intensities[2 * i + 1], intens[0])) << i;
    EXPECT_NEAR(p.probs[2 * i], ref_probs[i][0].item<float>(), 1e-5) << i;
    EXPECT_NEAR(p.probs[2 * i + 1], ref_probs[i][3].item<float>(), 1e-5) << i;
    EXPECT_NEAR(p.intensities[2 * i], ref_int[i][0].item<float>(), 1e-4) << i;
    EXPECT_NEAR(p.intensities[2 * i + 1], ref_int[i][3].item<float>(), 1e-4) << i;
    EXPECT_TRUE(p.intensities[2 * i] >= 0.f && p.intensities[2 * i] <= 5.f);
  }

  // The report: F1 over the two AUs, intensity over both (each has coded intensities), coverage named.
  MetricsRow row{"tiny-superset on data", AuMetrics(p.aus)};
  row.metrics.add_batch(p.labels.data(), p.probs.data(), p.rows());
  score_intensities(row, p, loaded.net->has_intensity_head());
  ASSERT_TRUE(row.intensity);
  EXPECT_EQ(row.intensity->aus(), (std::vector<int>{1, 12}));
  EXPECT_EQ(row.intensity->frames(0), 6);  // AU1's intensity is coded on faces with i % 3 != 0
  EXPECT_EQ(row.intensity->frames(1), n);
  EXPECT_TRUE(row.intensity_note.empty()) << row.intensity_note;
  EXPECT_TRUE(mentions(markdown_coverage(coverage), "Left out: AU2 AU4 (not coded by the data)"))
      << markdown_coverage(coverage);
  const auto j = nlohmann::json::parse(json_report({row}, {0.3f, 0.6f}, &coverage));
  EXPECT_EQ(j.at("aus"), (std::vector<int>{1, 12}));
  EXPECT_EQ(j.at("left_out").size(), 2u);
  EXPECT_TRUE(j.at("rows").at(0).at("intensity").at("icc").contains("AU12"));
}

TEST(CrossDatasetEval, IntensityIsNotScoredWithoutAHeadOrWithoutLabels) {
  TempDir dir;
  CacheReader cache(write_data_cache(dir, 4));
  auto loaded = tiny_superset_model(dir, false);
  PredictOptions po;
  po.loader_threads = 1;
  po.aus = {12, 1};  // any order of the common AUs
  const Predictions p = predict(loaded.net, cache, {}, torch::kCPU, po);
  EXPECT_EQ(p.aus, (std::vector<int>{12, 1}));
  EXPECT_FALSE(p.has_predicted_intensities());  // NaN without a head
  EXPECT_TRUE(p.has_label_intensities());
  MetricsRow row{"no head", AuMetrics(p.aus)};
  score_intensities(row, p, loaded.net->has_intensity_head());
  EXPECT_FALSE(row.intensity);
  EXPECT_TRUE(mentions(row.intensity_note, "no intensity head")) << row.intensity_note;

  // A head but no coded intensity for the scored AUs; then one AU coded, the other not.
  Predictions q = p;
  std::fill(q.intensities.begin(), q.intensities.end(), 2.f);
  std::fill(q.label_intensities.begin(), q.label_intensities.end(), kNaN);
  MetricsRow none{"no labels", AuMetrics(q.aus)};
  score_intensities(none, q, true);
  EXPECT_FALSE(none.intensity);
  EXPECT_TRUE(mentions(none.intensity_note, "no intensity labels")) << none.intensity_note;
  for (std::size_t r = 0; r < q.rows(); ++r) q.label_intensities[r * 2] = float(r);  // AU12 coded
  MetricsRow part{"AU12 only", AuMetrics(q.aus)};
  score_intensities(part, q, true);
  ASSERT_TRUE(part.intensity);
  EXPECT_EQ(part.intensity->aus(), (std::vector<int>{12}));
  EXPECT_TRUE(mentions(part.intensity_note, "AU1 ")) << part.intensity_note;
}

TEST(PredictionsCsv, RoundTripsIntensitiesWithEmptyCellsForNaN) {
  TempDir dir;
  Predictions p;
  p.aus = {6, 12};
  p.records = {4, 9, 11};
  p.probs = {0.25f, 0.5f, 0.75f, 0.125f, 1.f, 0.f};
  p.labels = {1, 0, -1, 1, 0, 0};
  p.intensities = {1.5f, 0.25f, 4.75f, 5.f, 0.f, 2.5f};
  p.label_intensities = {2.f, kNaN, kNaN, 5.f, 0.f, 3.f};
  write_predictions_csv(dir / "p.csv", p);
  const Predictions q = read_predictions_csv(dir / "p.csv");
  EXPECT_EQ(q.aus, p.aus);
  EXPECT_EQ(q.records, p.records);
  EXPECT_EQ(q.probs, p.probs);
  EXPECT_EQ(q.labels, p.labels);
  ASSERT_EQ(q.intensities.size(), p.intensities.size());
  ASSERT_EQ(q.label_intensities.size(), p.label_intensities.size());
  for (std::size_t i = 0; i < p.intensities.size(); ++i) {
    EXPECT_TRUE(same_or_both_nan(q.intensities[i], p.intensities[i])) << i;
    EXPECT_TRUE(same_or_both_nan(q.label_intensities[i], p.label_intensities[i])) << i;
  }
  std::ifstream in(dir / "p.csv");
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  EXPECT_EQ(header,
            "record,subject,AU6_prob,AU12_prob,AU6_label,AU12_label,AU6_int,AU12_int,AU6_label_int,AU12_label_int");
  EXPECT_EQ(first, "4,,0.25,0.5,1,0,1.5,0.25,2,");

  // A model without a head: predicted intensity cells are empty and read back as NaN.
  Predictions no_head = p;
  std::fill(no_head.intensities.begin(), no_head.intensities.end(), kNaN);
  write_predictions_csv(dir / "n.csv", no_head);
  const auto r = read_predictions_csv(dir / "n.csv");
  EXPECT_FALSE(r.has_predicted_intensities());
  EXPECT_TRUE(r.has_label_intensities());
}

TEST(PredictionsCsv, ReadsFilesWithoutIntensityColumns) {
  TempDir dir;
  write_text(dir / "old.csv",
             "record,subject,AU1_prob,AU12_prob,AU1_label,AU12_label\n0,a,0.9,0.1,1,0\n1,b,0.2,0.7,9,1\n");
  const auto p = read_predictions_csv(dir / "old.csv");
  EXPECT_EQ(p.aus, (std::vector<int>{1, 12}));
  EXPECT_EQ(p.labels, (std::vector<std::int8_t>{1, 0, -1, 1}));
  ASSERT_EQ(p.intensities.size(), 4u);
  ASSERT_EQ(p.label_intensities.size(), 4u);
  EXPECT_FALSE(p.has_predicted_intensities());
  EXPECT_FALSE(p.has_label_intensities());
  // Selecting AUs keeps every column group.
  const auto s = select_aus(p, {12});
  EXPECT_EQ(s.probs, (std::vector<float>{0.1f, 0.7f}));
  EXPECT_EQ(s.labels, (std::vector<std::int8_t>{0, 1}));
  EXPECT_EQ(s.label_intensities.size(), 2u);
}

TEST(PredictionsCsv, AnIntensityOutsideZeroToFiveIsAnErrorNamingLineAndColumn) {
  TempDir dir;
  write_text(dir / "bad.csv",
             "record,subject,AU1_prob,AU1_label,AU1_int,AU1_label_int\n0,a,0.9,1,2.5,3\n1,a,0.9,1,2.5,7\n");
  try {
    read_predictions_csv(dir / "bad.csv");
    FAIL() << "a label intensity of 7 must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(mentions(e.what(), "bad.csv:3:") && mentions(e.what(), "AU1_label_int")) << e.what();
  }
}
