// Per-person intensity calibration (AuCalibrator): deterministic, no model needed.
#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "hicomex/au_calibration.h"

using hicomex::AuCalibration;
using hicomex::AuCalibrator;
using hicomex::AuCalibratorOptions;

namespace {
// Enough evaluations for the track's own values to outweigh the neutral prior.
constexpr int kSettle = 200;
}  // namespace

TEST(AuCalibrator, RemovesAConstantOffsetOfOneTrack) {
  AuCalibrator cal;
  std::vector<float> out;
  for (int i = 0; i < kSettle; ++i) out = cal.update(7, {2.5f, 0.f});
  EXPECT_NEAR(out[0], 0.f, 0.021f);  // within one histogram bin
  EXPECT_EQ(out[1], 0.f);
  EXPECT_NEAR(cal.baseline(7)[0], 2.5f, 0.021f);
  // A real activation on top of the neutral level comes through, less the offset.
  out = cal.update(7, {4.5f, 3.f});
  EXPECT_NEAR(out[0], 2.f, 0.03f);
  EXPECT_NEAR(out[1], 3.f, 1e-6f);
}

TEST(AuCalibrator, EachTrackHasItsOwnBaseline) {
  AuCalibrator cal;
  for (int i = 0; i < kSettle; ++i) {
    cal.update(1, {2.f});
    cal.update(2, {0.5f});
  }
  EXPECT_NEAR(cal.baseline(1)[0], 2.f, 0.021f);
  EXPECT_NEAR(cal.baseline(2)[0], 0.5f, 0.021f);
  EXPECT_NEAR(cal.update(1, {3.f})[0], 1.f, 0.03f);
  EXPECT_NEAR(cal.update(2, {3.f})[0], 2.5f, 0.03f);
}

TEST(AuCalibrator, ANewTrackIdStartsFresh) {
  AuCalibrator cal;
  for (int i = 0; i < kSettle; ++i) cal.update(1, {3.f});
  cal.retain({});  // face 1 left
  EXPECT_TRUE(cal.baseline(1).empty());
  EXPECT_EQ(cal.observations(1), 0);
  // Face 5 appears smiling: its first frames are not calibrated away.
  const auto first = cal.update(5, {3.f});
  EXPECT_FLOAT_EQ(first[0], 3.f);
  EXPECT_EQ(cal.observations(5), 1);
}

TEST(AuCalibrator, ThePriorKeepsEarlyFramesUncalibrated) {
  AuCalibratorOptions o;
  o.percentile = 10;
  o.prior_frames = 10;
  AuCalibrator cal(o);
  // With 10 virtual neutral frames, the 10th percentile stays 0 while the
  // neutral frames are at least a tenth of all: up to 90 real ones.
  for (int i = 0; i < 90; ++i) EXPECT_FLOAT_EQ(cal.update(3, {2.f})[0], 2.f) << i;
  for (int i = 0; i < 20; ++i) cal.update(3, {2.f});
  EXPECT_NEAR(cal.update(3, {2.f})[0], 0.f, 0.021f);
}

TEST(AuCalibrator, ClampsAtZeroAndFive) {
  AuCalibrator cal;
  for (int i = 0; i < kSettle; ++i) cal.update(1, {1.f, 0.f});
  const auto out = cal.update(1, {0.f, 7.f});  // below the baseline; out of range
  EXPECT_EQ(out[0], 0.f);
  EXPECT_EQ(out[1], 5.f);
  const auto nan = cal.update(1, {std::nanf(""), 0.f});
  EXPECT_EQ(nan[0], 0.f);
}

TEST(AuCalibrator, RejectsBadOptionsAndNames) {
  AuCalibratorOptions o;
  o.percentile = 120;
  EXPECT_THROW(AuCalibrator{o}, std::invalid_argument);
  o.percentile = 10;
  o.prior_frames = -1;
  EXPECT_THROW(AuCalibrator{o}, std::invalid_argument);
  EXPECT_EQ(hicomex::au_calibration_from_string("dynamic"), AuCalibration::Dynamic);
  EXPECT_EQ(hicomex::au_calibration_from_string("none"), AuCalibration::None);
  try {
    hicomex::au_calibration_from_string("static");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'static'"), std::string::npos);
  }
}
