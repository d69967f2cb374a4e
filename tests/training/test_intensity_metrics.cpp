// AU intensity agreement: ICC(3,1) against a case worked by hand and against the
// two-way ANOVA computed directly, Pearson r, MAE, the conventions, the tables.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "training/metrics.h"

using namespace hicomex::training;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// The ANOVA of an n x 2 table (frames x {prediction, label}) straight from its
/// definition: sums of squares about the grand mean, row means and column means.
struct Anova {
  double ms_rows, ms_err, icc31;
};
Anova direct_anova(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = double(x.size()), k = 2;
  double grand = 0, cx = 0, cy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) grand += x[i] + y[i], cx += x[i], cy += y[i];
  grand /= n * k;
  cx /= n;
  cy /= n;
  double ss_total = 0, ss_rows = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    ss_total += (x[i] - grand) * (x[i] - grand) + (y[i] - grand) * (y[i] - grand);
    const double row = (x[i] + y[i]) / k;
    ss_rows += k * (row - grand) * (row - grand);
  }
  const double ss_cols = n * ((cx - grand) * (cx - grand) + (cy - grand) * (cy - grand));
  const double ss_err = ss_total - ss_rows - ss_cols;
  Anova a;
  a.ms_rows = ss_rows / (n - 1);
  a.ms_err = ss_err / ((n - 1) * (k - 1));
  a.icc31 = (a.ms_rows - a.ms_err) / (a.ms_rows + (k - 1) * a.ms_err);
  return a;
}

double direct_pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = double(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mx += x[i] / n, my += y[i] / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace

TEST(IntensityMetrics, MatchesAHandComputedCase) {
  // One AU, three coded frames and one not coded (NaN label, skipped):
  //   prediction x = 1 2 3, label y = 1 3 5.
  // Row means 1, 2.5, 4; grand mean 2.5; column means 2 and 3.
  //   SS_rows  = 2 * (1.5^2 + 0 + 1.5^2)                         = 9    -> MS_rows = 9 / 2 = 4.5
  //   SS_cols  = 3 * (0.5^2 + 0.5^2)                              = 1.5
  //   SS_total = 1.5^2 + 0.5^2 + 0.5^2 + 1.5^2 + 0.5^2 + 2.5^2    = 11.5
  //   SS_err   = 11.5 - 9 - 1.5                                   = 1    -> MS_err = 1 / (2 * 1) = 0.5
  //   ICC(3,1) = (4.5 - 0.5) / (4.5 + 0.5)                        = 0.8
  // r = 1 (y = 2x - 1 exactly): the scale difference lowers ICC but not r.
  // MAE = (0 + 1 + 2) / 3 = 1.
  IntensityMetrics m({12});
  const float pred[] = {1, 2, 3, 4.5f};
  const float label[] = {1, 3, 5, kNaN};
  m.add_batch(pred, label, 4);
  EXPECT_EQ(m.frames(0), 3);
  EXPECT_NEAR(m.ms_rows(0), 4.5, 1e-12);
  EXPECT_NEAR(m.ms_err(0), 0.5, 1e-12);
  EXPECT_NEAR(m.icc(0), 0.8, 1e-12);
  EXPECT_NEAR(m.pearson(0), 1.0, 1e-12);
  EXPECT_NEAR(m.mae(0), 1.0, 1e-12);
}

TEST(IntensityMetrics, AgreesWithTheDirectAnovaOnRandomDataAddedInUnevenBatches) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 5.f);
  std::normal_distribution<float> noise(0.f, 0.8f);
  const std::size_t n = 503, aus = 3;
  std::vector<float> pred(n * aus), label(n * aus);
  std::vector<std::vector<double>> xs(aus), ys(aus);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < aus; ++j) {
      // AU j: labels on the integer scale, predictions a noisy, scaled and shifted copy.
      const float y = std::round(u(rng));
      const float x = std::clamp(0.3f + (0.6f + 0.2f * float(j)) * y + noise(rng), 0.f, 5.f);
      const bool coded = (i + j) % 7 != 0;
      pred[i * aus + j] = x;
      label[i * aus + j] = coded ? y : kNaN;
      if (coded) xs[j].push_back(x), ys[j].push_back(y);
    }
  IntensityMetrics m({1, 6, 12});
  // Uneven batches: the running moments must not depend on how the frames are split.
  std::size_t done = 0;
  for (std::size_t b : {1u, 17u, 250u, 235u}) {
    m.add_batch(pred.data() + done * aus, label.data() + done * aus, b);
    done += b;
  }
  ASSERT_EQ(done, n);
  double icc_sum = 0, r_sum = 0, mae_sum = 0;
  for (std::size_t j = 0; j < aus; ++j) {
    const Anova a = direct_anova(xs[j], ys[j]);
    ASSERT_EQ(m.frames(j), static_cast<std::int64_t>(xs[j].size()));
    EXPECT_NEAR(m.ms_rows(j), a.ms_rows, 1e-9 * a.ms_rows) << j;
    EXPECT_NEAR(m.ms_err(j), a.ms_err, 1e-9 * a.ms_err) << j;
    EXPECT_NEAR(m.icc(j), a.icc31, 1e-10) << j;
    EXPECT_NEAR(m.pearson(j), direct_pearson(xs[j], ys[j]), 1e-10) << j;
    double mae = 0;
    for (std::size_t i = 0; i < xs[j].size(); ++i) mae += std::abs(xs[j][i] - ys[j][i]);
    mae /= double(xs[j].size());
    EXPECT_NEAR(m.mae(j), mae, 1e-10) << j;
    icc_sum += a.icc31, r_sum += m.pearson(j), mae_sum += mae;
    EXPECT_GT(m.icc(j), 0.3);                   // the data is meant to agree: a sign error would show
    EXPECT_LT(m.icc(j), m.pearson(j) + 1e-12);  // ICC(3,1) <= r for k = 2
  }
  EXPECT_NEAR(m.mean_icc(), icc_sum / 3, 1e-10);
  EXPECT_NEAR(m.mean_pearson(), r_sum / 3, 1e-10);
  EXPECT_NEAR(m.mean_mae(), mae_sum / 3, 1e-10);
}

TEST(IntensityMetrics, ConstantColumnsGiveZeroAndAusWithoutCodedFramesAreLeftOutOfTheAverages) {
  IntensityMetrics m({1, 2, 4, 6});
  // AU1: both columns constant (ICC 0/0, r 0/0 -> 0). AU2: label constant (r 0/0 -> 0,
  // ICC exactly 0 from the formula). AU4: never coded. AU6: perfect agreement.
  const float pred[] = {2, 1, 0, 0, 2, 3, 1, 5, 2, 1, 2, 3};
  const float label[] = {3, 2, kNaN, 0, 3, 2, kNaN, 5, 3, 2, kNaN, 3};
  m.add_batch(pred, label, 3);
  EXPECT_EQ(m.icc(0), 0.0);
  EXPECT_EQ(m.pearson(0), 0.0);
  EXPECT_NEAR(m.mae(0), 1.0, 1e-12);
  EXPECT_NEAR(m.icc(1), 0.0, 1e-12);
  EXPECT_EQ(m.pearson(1), 0.0);
  EXPECT_EQ(m.frames(2), 0);
  EXPECT_TRUE(std::isnan(m.icc(2)) && std::isnan(m.pearson(2)) && std::isnan(m.mae(2)));
  EXPECT_NEAR(m.icc(3), 1.0, 1e-12);
  EXPECT_NEAR(m.pearson(3), 1.0, 1e-12);
  EXPECT_NEAR(m.mae(3), 0.0, 1e-12);
  EXPECT_NEAR(m.mean_icc(), (0.0 + 0.0 + 1.0) / 3, 1e-12);
  EXPECT_NEAR(m.mean_mae(), (1.0 + m.mae(1) + 0.0) / 3, 1e-12);
  // One frame: no variance at all, the ICC convention gives 0 (the ANOVA has no degrees of freedom).
  IntensityMetrics one({1});
  const float p1[] = {2}, l1[] = {2};
  one.add(p1, l1);
  EXPECT_EQ(one.icc(0), 0.0);
  EXPECT_TRUE(std::isnan(one.ms_rows(0)));
  EXPECT_TRUE(std::isnan(IntensityMetrics({1}).mean_icc()));
}

TEST(IntensityMetrics, ANanPredictionForACodedLabelIsAnError) {
  IntensityMetrics m({12});
  const float pred[] = {kNaN}, label[] = {2};
  EXPECT_THROW(m.add(pred, label), std::invalid_argument);
  const float not_coded[] = {kNaN};
  EXPECT_NO_THROW(m.add(pred, not_coded));
}

TEST(IntensityTables, MarkdownAndJsonCarryIccRAndMaePerAu) {
  AuMetrics occ({6, 12});
  const std::int8_t labels[] = {1, 0, 0, 1};
  const float probs[] = {0.9f, 0.1f, 0.2f, 0.8f};
  occ.add_batch(labels, probs, 2);
  IntensityMetrics in({6, 12});
  const float pred[] = {1, 2, 2, 4, 3, 0};
  const float lab[] = {1, kNaN, 3, kNaN, 5, kNaN};
  in.add_batch(pred, lab, 3);  // AU6 is the hand-computed case (ICC 0.8); AU12 has no coded frames
  MetricsRow row{"fold 1", occ};
  row.intensity = in;
  const std::string md = markdown_intensity_table(row);
  EXPECT_NE(md.find("| fold 1 intensity | AU6 | AU12 | Avg |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ICC(3,1) | 0.80 | n/a | **0.80** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| Pearson r | 1.00 | n/a | **1.00** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| MAE | 1.00 | n/a | **1.00** |"), std::string::npos) << md;
  EXPECT_NE(md.find("| Coded frames | 3 | 0 | |"), std::string::npos) << md;
  EXPECT_THROW(markdown_intensity_table(MetricsRow{"no intensity", occ}), std::invalid_argument);

  AuCoverage cov;
  cov.model_aus = {1, 6, 12, 17};
  cov.scored = {6, 12};
  cov.left_out = {{1, "not coded by the data"}, {17, "not coded by the data"}};
  const auto j = nlohmann::json::parse(json_report({row}, {0.5f, 0.5f}, &cov));
  // The keys older consumers read are unchanged.
  EXPECT_EQ(j.at("aus"), (std::vector<int>{6, 12}));
  EXPECT_NEAR(j.at("rows").at(0).at("avg_f1").get<double>(), 1.0, 1e-12);
  EXPECT_EQ(j.at("model_aus"), (std::vector<int>{1, 6, 12, 17}));
  EXPECT_EQ(j.at("scored_aus"), (std::vector<int>{6, 12}));
  EXPECT_EQ(j.at("left_out").at(1).at("au"), 17);
  EXPECT_EQ(j.at("left_out").at(1).at("reason"), "not coded by the data");
  const auto& ij = j.at("rows").at(0).at("intensity");
  EXPECT_NEAR(ij.at("icc").at("AU6").get<double>(), 0.8, 1e-12);
  EXPECT_NEAR(ij.at("pearson").at("AU6").get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(ij.at("mae").at("AU6").get<double>(), 1.0, 1e-12);
  EXPECT_TRUE(ij.at("icc").at("AU12").is_null());
  EXPECT_EQ(ij.at("frames").at("AU12"), 0);
  EXPECT_NEAR(ij.at("avg_icc").get<double>(), 0.8, 1e-12);
  // Without coverage or intensity the report has exactly the old keys.
  const auto plain = nlohmann::json::parse(json_report({MetricsRow{"fold 1", occ}}, {0.5f, 0.5f}));
  EXPECT_FALSE(plain.contains("left_out"));
  EXPECT_FALSE(plain.at("rows").at(0).contains("intensity"));
}

TEST(IntensityTables, CoverageLineNamesScoredAndLeftOutAusWithTheirReasons) {
  AuCoverage cov;
  cov.model_aus = {1, 2, 4, 5, 12};
  cov.scored = {1, 12};
  cov.left_out = {{2, "not in --aus"}, {4, "not coded by the data"}, {5, "not coded by the data"}};
  const std::string line = markdown_coverage(cov);
  EXPECT_EQ(line,
            "Scored AUs: AU1 AU12 (2 of the model's 5). Left out: AU2 (not in --aus); "
            "AU4 AU5 (not coded by the data).");
  AuCoverage all;
  all.model_aus = all.scored = {1, 12};
  EXPECT_EQ(markdown_coverage(all), "Scored AUs: AU1 AU12 (all 2 of the model's AUs).");
}
