// Landmark-defined AU centres on the hand-made face.
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include "face_fixture.h"
#include "hicomex/au_catalog.h"
#include "hicomex/au_centres.h"
#include "hicomex/landmarks.h"

namespace hicomex {
namespace {

std::vector<cv::Point2f> canonical49() { return landmarks68_to_49(test::canonical_face68()); }

void expect_centres(int au, cv::Point2f a, cv::Point2f b) {
  const auto c = au_centres(canonical49(), {au})[0];
  EXPECT_NEAR(c[0].x, a.x, 1e-4) << "AU" << au;
  EXPECT_NEAR(c[0].y, a.y, 1e-4) << "AU" << au;
  EXPECT_NEAR(c[1].x, b.x, 1e-4) << "AU" << au;
  EXPECT_NEAR(c[1].y, b.y, 1e-4) << "AU" << au;
}

TEST(AuCentres, ScaleIsTheInnerEyeCornerDistance) {
  // Inner eye corners at x = 82 and 118.
  EXPECT_FLOAT_EQ(au_centre_scale49(canonical49()), 36.f);
}

TEST(AuCentres, MatchHandComputedValuesOnTheFixtureFace) {
  // r = 36. Points quoted as iBUG-68 indices of the fixture.
  expect_centres(1, {85, 62 - 18}, {115, 62 - 18});    // inner brow ends 21, 22, r/2 up
  expect_centres(2, {58, 61 - 12}, {142, 61 - 12});    // brows 18, 25, r/3 up
  expect_centres(4, {67, 59 + 12}, {133, 59 + 12});    // brows 19, 24, r/3 down
  expect_centres(5, {70, 76 - 6}, {130, 76 - 6});      // upper-lid midpoints, r/6 up
  expect_centres(6, {65, 83 + 36}, {135, 83 + 36});    // lower lids 41, 46, r down
  expect_centres(7, {75, 76}, {125, 76});              // lids 38, 43
  expect_centres(9, {94, 114 - 18}, {106, 114 - 18});  // nostrils 32, 34, r/2 up
  expect_centres(10, {94, 133}, {106, 133});           // inner upper lip 61, 63
  expect_centres(12, {78, 135}, {122, 135});           // mouth corners 48, 54
  expect_centres(14, {78, 135}, {122, 135});
  expect_centres(15, {78, 135}, {122, 135});
  expect_centres(17, {106, 144 + 18}, {94, 144 + 18});  // lower lip 56, 58, r/2 down
  expect_centres(20, {78, 135 + 18}, {122, 135 + 18});  // mouth corners, r/2 down
  expect_centres(23, {100, 129}, {100, 145});           // lip middles 51, 57
  expect_centres(24, {100, 129}, {100, 145});
  expect_centres(25, {100, 129}, {100, 145});
  expect_centres(26, {106, 144 + 18}, {94, 144 + 18});
}

TEST(AuCentres, CoverEveryAuOfTheDatasetsAndTheSyntheticFaces) {
  std::set<int> all;
  for (const auto* set : {&bp4d_aus(), &disfa_aus(), &synthetic_aus()}) all.insert(set->begin(), set->end());
  for (int au : all) {
    const AuCentreRules& rules = au_centre_rules(au);
    EXPECT_EQ(rules.au, au);
    for (const AuCentreRule& c : rules.centres) {
      EXPECT_GE(c.index, 0);
      EXPECT_LT(c.index, kLandmarks49);
      EXPECT_LT(c.index_b, kLandmarks49);
    }
    EXPECT_TRUE(is_known_au(au));
  }
  EXPECT_EQ(au_centre_table().size(), all.size());
}

TEST(AuCentres, ComeInTheOrderOfTheRequestedAus) {
  const auto c = au_centres(canonical49(), {12, 1});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_FLOAT_EQ(c[0][0].x, 78.f);
  EXPECT_FLOAT_EQ(c[1][0].x, 85.f);
}

TEST(AuCentres, UnknownAuOrWrongPointCountFails) {
  EXPECT_THROW(au_centre_rules(3), std::invalid_argument);
  EXPECT_THROW(au_centres(canonical49(), {43}), std::invalid_argument);
  EXPECT_THROW(au_centres(test::canonical_face68(), {1}), std::invalid_argument);
}

}  // namespace
}  // namespace hicomex
