// Loss values on inputs small enough to compute by hand.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "training/losses.h"

using namespace hicomex::training;

namespace {
const double kLn2 = std::log(2.0);
const double kBce2Neg = std::log(1.0 + std::exp(2.0));  // BCE(logit 2, target 0)
}  // namespace

TEST(AuWeights, AreInverseRatesNormalisedToTheAuCount) {
  const auto w = inverse_rate_weights({0.5, 0.25});
  EXPECT_NEAR(w[0], 2.0 / 3.0, 1e-6);
  EXPECT_NEAR(w[1], 4.0 / 3.0, 1e-6);
  const auto z = inverse_rate_weights({0.0, 0.5, 0.5});  // a never-positive AU does not divide by 0
  EXPECT_TRUE(std::isfinite(z[0]));
  EXPECT_NEAR(z[0] + z[1] + z[2], 3.0, 1e-5);
}

TEST(AuBceLoss, AveragesCodedSamplesPerAuThenAus) {
  const auto logits = torch::tensor({{0.f, 2.f}, {-1.f, 0.f}});
  const auto labels = torch::tensor({{1.f, 0.f}, {-1.f, 1.f}});
  const double au0 = kLn2, au1 = (kBce2Neg + kLn2) / 2;
  EXPECT_NEAR(au_bce_loss(logits, labels).item<double>(), (au0 + au1) / 2, 1e-5);
  const auto w = torch::tensor({0.5f, 1.5f});
  EXPECT_NEAR(au_bce_loss(logits, labels, w).item<double>(), (0.5 * au0 + 1.5 * au1) / 2, 1e-5);
}

TEST(AuBceLoss, IgnoresWhatNotCodedLogitsSay) {
  const auto labels = torch::tensor({{1.f, -1.f}});
  const auto a = au_bce_loss(torch::tensor({{0.f, 5.f}}), labels).item<double>();
  const auto b = au_bce_loss(torch::tensor({{0.f, -5.f}}), labels).item<double>();
  EXPECT_DOUBLE_EQ(a, b);
  EXPECT_NEAR(a, kLn2 / 2, 1e-6);  // the all-not-coded AU adds 0 to the mean
}

TEST(AuDiceLoss, MatchesJaanetsFormulaWithSmoothOne) {
  const auto logits = torch::zeros({3, 1});  // p = 0.5
  const auto labels = torch::tensor({{1.f}, {0.f}, {-1.f}});
  // p = [.5, .5], t = [1, 0]: 1 - (2 * .5 + 1) / (.5 + 1 + 1) = 0.2
  EXPECT_NEAR(au_dice_loss(logits, labels).item<double>(), 0.2, 1e-6);
  EXPECT_NEAR(au_dice_loss(logits, labels, torch::tensor({2.f})).item<double>(), 0.4, 1e-6);
}

TEST(LandmarkLoss, IsMeanPointDistanceOverInterOcularDistance) {
  const auto pred = torch::tensor({{0.f, 0.f, 3.f, 4.f}, {100.f, 0.f, 0.f, 0.f}});
  const auto target = torch::zeros({2, 4});
  const auto iod = torch::tensor({5.f, 1.f});
  EXPECT_NEAR(landmark_loss(pred, target, iod, torch::tensor({true, false})).item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(landmark_loss(pred, target, iod).item<double>(), (0.5 + 50.0) / 2, 1e-4);
}

TEST(LandmarkLoss, InterOcularComesFromTheEyeCentres) {
  auto lm = torch::zeros({1, 98});
  for (int k = 25; k <= 30; ++k) {
    lm[0][2 * k] = 3.f;
    lm[0][2 * k + 1] = 4.f;
  }
  EXPECT_NEAR(inter_ocular49(lm).item<double>(), 5.0, 1e-6);
}

TEST(AuBceLoss, HasGradientsThatLowerTheLoss) {
  auto logits = torch::zeros({4, 2}, torch::requires_grad());
  const auto labels = torch::tensor({{1.f, 0.f}, {0.f, 1.f}, {1.f, -1.f}, {0.f, 0.f}});
  const double before = au_bce_loss(logits, labels).item<double>();
  au_bce_loss(logits, labels).backward();
  torch::NoGradGuard g;
  const auto moved = logits - 1.0 * logits.grad();
  EXPECT_LT(au_bce_loss(moved, labels).item<double>(), before);
}

TEST(AuIntensityLoss, AveragesCodedSamplesPerAuOnTheFiveScale) {
  const float nan = std::nanf("");
  const auto pred = torch::tensor({{1.f, 0.f}, {3.f, 5.f}});
  const auto target = torch::tensor({{2.f, nan}, {3.f, 0.f}});
  // AU 0: ((1-2)/5)^2 and 0 -> mean 0.02; AU 1: only row 2, (5/5)^2 = 1.
  EXPECT_NEAR(au_intensity_loss(pred, target).item<double>(), (0.02 + 1.0) / 2, 1e-6);
}

TEST(AuIntensityLoss, UncodedIntensitiesGiveNoLossAndNoGradient) {
  const float nan = std::nanf("");
  auto pred = torch::tensor({{4.f, 1.f}, {2.f, 0.5f}}).set_requires_grad(true);
  const auto target = torch::tensor({{nan, 1.f}, {nan, nan}});
  auto loss = au_intensity_loss(pred, target);
  EXPECT_NEAR(loss.item<double>(), 0.0, 1e-9);  // AU 1 row 1 is exact; AU 0 is never coded
  loss.backward();
  EXPECT_TRUE(torch::equal(pred.grad(), torch::zeros_like(pred)));

  // Nothing coded at all (data without intensity labels): exactly 0, still differentiable.
  auto p2 = torch::tensor({{4.f, 1.f}}).set_requires_grad(true);
  auto none = au_intensity_loss(p2, torch::full({1, 2}, nan));
  EXPECT_EQ(none.item<double>(), 0.0);
  none.backward();
  EXPECT_TRUE(torch::equal(p2.grad(), torch::zeros_like(p2)));
}

TEST(AuIntensityLoss, GradientPullsTowardsTheLabel) {
  auto pred = torch::tensor({{1.f}}).set_requires_grad(true);
  au_intensity_loss(pred, torch::tensor({{4.f}})).backward();
  EXPECT_LT(pred.grad().item<float>(), 0.f);  // descent raises the prediction
}
