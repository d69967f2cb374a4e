// F1 / precision / recall on known confusion counts, edge cases, calibration, tables.
#include <gtest/gtest.h>

#include "training/metrics.h"

using namespace hicomex::training;

namespace {
Confusion counts(std::int64_t tp, std::int64_t fp, std::int64_t fn, std::int64_t tn) {
  Confusion c;
  c.tp = tp, c.fp = fp, c.fn = fn, c.tn = tn;
  return c;
}
}  // namespace

TEST(Confusion, GivesPrecisionRecallF1AndAccuracyOfKnownCounts) {
  const Confusion c = counts(3, 1, 2, 4);
  EXPECT_DOUBLE_EQ(c.precision(), 0.75);
  EXPECT_DOUBLE_EQ(c.recall(), 0.6);
  EXPECT_DOUBLE_EQ(c.f1(), 2.0 * 0.75 * 0.6 / (0.75 + 0.6));
  EXPECT_DOUBLE_EQ(c.accuracy(), 0.7);
}

TEST(Confusion, NoPositivesAndNoPredictedPositivesGiveZeroF1) {
  const Confusion c = counts(0, 0, 0, 9);
  EXPECT_DOUBLE_EQ(c.precision(), 0.0);
  EXPECT_DOUBLE_EQ(c.recall(), 0.0);
  EXPECT_DOUBLE_EQ(c.f1(), 0.0);
  EXPECT_DOUBLE_EQ(c.accuracy(), 1.0);
}

TEST(Confusion, NoPredictedPositivesGiveZeroPrecisionAndF1) {
  const Confusion c = counts(0, 0, 4, 6);
  EXPECT_DOUBLE_EQ(c.precision(), 0.0);
  EXPECT_DOUBLE_EQ(c.recall(), 0.0);
  EXPECT_DOUBLE_EQ(c.f1(), 0.0);
}

TEST(Confusion, NoPositivesButPredictedPositivesGiveZeroRecallAndF1) {
  const Confusion c = counts(0, 3, 0, 7);
  EXPECT_DOUBLE_EQ(c.precision(), 0.0);
  EXPECT_DOUBLE_EQ(c.recall(), 0.0);
  EXPECT_DOUBLE_EQ(c.f1(), 0.0);
  EXPECT_DOUBLE_EQ(Confusion{}.accuracy(), 0.0);
}

TEST(AuMetrics, IgnoresNotCodedLabelsAndUsesThresholds) {
  AuMetrics m({1, 2});
  const std::int8_t labels[] = {1, -1, 0, 1, 1, 0};
  const float probs[] = {0.9f, 0.9f, 0.6f, 0.4f, 0.3f, 0.1f};
  m.add_batch(labels, probs, 3);
  EXPECT_EQ(m.confusion(0).tp, 1);
  EXPECT_EQ(m.confusion(0).fp, 1);
  EXPECT_EQ(m.confusion(0).fn, 1);
  EXPECT_EQ(m.confusion(1).total(), 2);  // the not-coded label is not counted
  EXPECT_EQ(m.confusion(1).fn, 1);
  EXPECT_EQ(m.confusion(1).tn, 1);
  AuMetrics low({1, 2});
  low.add_batch(labels, probs, 3, {0.2f, 0.35f});
  EXPECT_EQ(low.confusion(0).tp, 2);
  EXPECT_EQ(low.confusion(1).tp, 1);
  EXPECT_DOUBLE_EQ(m.mean_f1(), (m.confusion(0).f1() + m.confusion(1).f1()) / 2);
  EXPECT_THROW(m.add(labels, probs, {0.5f}), std::invalid_argument);
}

TEST(Calibration, PicksAThresholdThatSeparatesTheClasses) {
  const float t = calibrate_threshold({0.9f, 0.8f, 0.3f, 0.2f, 0.7f}, {1, 1, 0, 0, -1});
  EXPECT_GT(t, 0.3f);
  EXPECT_LT(t, 0.8f);
  EXPECT_FLOAT_EQ(t, 0.55f);
  // Positives scored low: the best cut is below 0.5.
  const float low = calibrate_threshold({0.3f, 0.25f, 0.1f, 0.05f}, {1, 1, 0, 0});
  EXPECT_GT(low, 0.1f);
  EXPECT_LT(low, 0.25f);
  EXPECT_FLOAT_EQ(calibrate_threshold({0.9f, 0.1f}, {0, 0}), 0.5f);  // no positives: keep the default
}

TEST(Calibration, WorksPerAuOnRowMajorScores) {
  const std::vector<float> scores = {0.9f, 0.2f, 0.1f, 0.1f, 0.8f, 0.05f};
  const std::vector<std::int8_t> labels = {1, 1, 0, 0, 1, 0};
  const auto t = calibrate_thresholds(scores, labels, 2);
  AuMetrics m({1, 2});
  m.add_batch(labels.data(), scores.data(), 3, t);
  EXPECT_DOUBLE_EQ(m.confusion(0).f1(), 1.0);
  EXPECT_DOUBLE_EQ(m.confusion(1).f1(), 1.0);
}

TEST(Tables, MarkdownHasAColumnPerAuAndTheAverageInPercent) {
  AuMetrics m({1, 12});
  const std::int8_t labels[] = {1, 1, 0, 0};
  const float probs[] = {0.9f, 0.2f, 0.1f, 0.1f};
  m.add_batch(labels, probs, 2);
  const std::string md = markdown_f1_table({{"fold 1", m}});
  EXPECT_NE(md.find("| F1 (%) | AU1 | AU12 | Avg |"), std::string::npos) << md;
  EXPECT_NE(md.find("| fold 1 | 100.0 | 0.0 | **50.0** |"), std::string::npos) << md;
  const std::string json = json_report({{"fold 1", m}}, {0.5f, 0.5f});
  EXPECT_NE(json.find("\"avg_f1\": 0.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"AU12\""), std::string::npos) << json;
  EXPECT_NE(markdown_detail_table({"fold 1", m}).find("| AU12 | 0.0 | 0.0 | 0.0 | 50.0 | 0 | 0 | 1 | 1 |"),
            std::string::npos);
}
