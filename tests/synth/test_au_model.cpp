// Ground-truth consistency of the AU deformations: an AU at intensity 0
// changes nothing, and each AU moves the landmarks FACS says it moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "face_renderer.h"

using namespace hicomex::synth;

namespace {

struct Render {
  cv::Mat3f image;
  std::vector<cv::Point2f> landmarks;
};

Render render(const SynthIdentity& who, const AuIntensities& aus, float yaw = 0.f) {
  FaceInstance f;
  f.identity = &who;
  f.aus = aus;
  f.pose.yaw = yaw;
  f.pose.centre = {64.f, 64.f};
  f.pose.scale = 70.f / 0.9f;
  Render r;
  r.image = cv::Mat3f(256, 256, cv::Vec3f(0.5f, 0.5f, 0.5f));
  r.landmarks = draw_face(r.image, 2, f, Lighting{}).landmarks;
  return r;
}

std::vector<cv::Point2f> landmarks(const SynthIdentity& who, const AuIntensities& aus) {
  FaceInstance f;
  f.identity = &who;
  f.aus = aus;
  f.pose.centre = {200.f, 200.f};
  f.pose.scale = 300.f;  // large, so that small motions are many pixels
  return face_landmarks(f).landmarks;
}

float width(const std::vector<cv::Point2f>& p, int a, int b) { return std::fabs(p[b].x - p[a].x); }

}  // namespace

TEST(AuModel, AnAuAtIntensityZeroChangesNeitherImageNorLandmarks) {
  const SynthIdentity who = make_identity(7, 3);
  const Render neutral = render(who, {}, 12.f);
  for (int au : rendered_aus()) {
    const Render zero = render(who, {{au, 0.f}}, 12.f);
    EXPECT_EQ(cv::norm(zero.image, neutral.image, cv::NORM_INF), 0.0) << "AU" << au;
    EXPECT_EQ(zero.landmarks, neutral.landmarks) << "AU" << au;
  }
}

TEST(AuModel, EveryAuChangesTheImage) {
  const SynthIdentity who = make_identity(7, 4);
  const Render neutral = render(who, {});
  for (int au : rendered_aus()) {
    const Render active = render(who, {{au, 4.f}});
    EXPECT_GT(cv::norm(active.image, neutral.image, cv::NORM_L1), 1.0) << "AU" << au;
  }
}

TEST(AuModel, EachAuMovesOnlyTheLandmarksItDeclares) {
  const SynthIdentity who = make_identity(11, 0);
  const auto base = landmarks(who, {});
  for (int au : rendered_aus()) {
    const auto moved = landmarks(who, {{au, 4.f}});
    const auto declared = au_moved_landmarks(au);
    const std::set<int> allowed(declared.begin(), declared.end());
    int moved_count = 0;
    for (int i = 0; i < 68; ++i) {
      const float d = std::hypot(moved[i].x - base[i].x, moved[i].y - base[i].y);
      if (d > 0.05f) {
        ++moved_count;
        EXPECT_TRUE(allowed.count(i)) << "AU" << au << " moved landmark " << i << " by " << d << " px";
      }
    }
    EXPECT_GT(moved_count, 0) << "AU" << au << " moved no landmark";
  }
}

TEST(AuModel, BrowAusRaiseAndLowerTheRightPartsOfTheBrows) {
  const SynthIdentity who = make_identity(11, 1);
  const auto n = landmarks(who, {});
  const auto au1 = landmarks(who, {{1, 4.f}});
  EXPECT_LT(au1[21].y, n[21].y - 5.f);                          // inner brow up
  EXPECT_GT(n[21].y - au1[21].y, 2.f * (n[17].y - au1[17].y));  // more than the outer brow
  const auto au2 = landmarks(who, {{2, 4.f}});
  EXPECT_LT(au2[17].y, n[17].y - 5.f);  // outer brow up
  EXPECT_GT(n[17].y - au2[17].y, 2.f * (n[21].y - au2[21].y));
  const auto au4 = landmarks(who, {{4, 4.f}});
  EXPECT_GT(au4[21].y, n[21].y + 3.f);                    // brows down
  EXPECT_LT(width(au4, 21, 22), width(n, 21, 22) - 2.f);  // and together
  for (int i = 48; i < 68; ++i) EXPECT_EQ(au4[i], n[i]) << "AU4 moved mouth point " << i;
}

TEST(AuModel, LidAusOpenAndNarrowTheEyes) {
  const SynthIdentity who = make_identity(11, 2);
  auto aperture = [](const std::vector<cv::Point2f>& p) { return (p[41].y + p[40].y) - (p[37].y + p[38].y); };
  const auto n = landmarks(who, {});
  EXPECT_GT(aperture(landmarks(who, {{5, 4.f}})), aperture(n) + 3.f);
  EXPECT_LT(aperture(landmarks(who, {{7, 4.f}})), aperture(n) - 3.f);
  const auto au6 = landmarks(who, {{6, 4.f}});
  EXPECT_LT(au6[40].y, n[40].y - 1.f);  // lower lid pushed up
}

TEST(AuModel, LipCornerAusMoveTheCornersTheFacsWay) {
  const SynthIdentity who = make_identity(11, 3);
  const auto n = landmarks(who, {});
  const auto au12 = landmarks(who, {{12, 4.f}});
  EXPECT_LT(au12[48].y, n[48].y - 5.f);                    // corners up
  EXPECT_GT(width(au12, 48, 54), width(n, 48, 54) + 5.f);  // and out
  for (int i = 17; i <= 26; ++i) EXPECT_EQ(au12[i], n[i]) << "AU12 moved brow point " << i;
  const auto au15 = landmarks(who, {{15, 4.f}});
  EXPECT_GT(au15[48].y, n[48].y + 5.f);
  EXPECT_GT(width(landmarks(who, {{20, 4.f}}), 48, 54), width(n, 48, 54) + 5.f);
  EXPECT_LT(width(landmarks(who, {{14, 4.f}}), 48, 54), width(n, 48, 54) - 2.f);
  // AU23 (tightener) narrows the mouth; AU24 (pressor) does not, so the two
  // differ in the corners and not only in the lip red.
  const auto au23 = landmarks(who, {{23, 4.f}}), au24 = landmarks(who, {{24, 4.f}});
  EXPECT_LT(width(au23, 48, 54), width(n, 48, 54) - 6.f);
  EXPECT_GE(width(au24, 48, 54), width(n, 48, 54) - 0.5f);
  EXPECT_LT(width(au23, 48, 54), width(au24, 48, 54) - 6.f);
}

TEST(AuModel, MouthOpeningAusPartTheLipsAndDropTheJaw) {
  const SynthIdentity who = make_identity(11, 4);
  const auto n = landmarks(who, {});
  auto gap = [](const std::vector<cv::Point2f>& p) { return p[66].y - p[62].y; };
  EXPECT_NEAR(gap(n), 0.f, 0.5f);  // neutral lips touch
  EXPECT_GT(gap(landmarks(who, {{25, 4.f}})), 8.f);
  const auto au26 = landmarks(who, {{26, 4.f}, {25, 3.f}});
  EXPECT_GT(au26[8].y, n[8].y + 20.f);  // chin down
  EXPECT_GT(gap(au26), 30.f);
  const auto au17 = landmarks(who, {{17, 4.f}});
  EXPECT_LT(au17[57].y, n[57].y - 3.f);  // lower lip pushed up
  EXPECT_LT(au17[8].y, n[8].y - 3.f);    // chin boss up
  const auto au24 = landmarks(who, {{24, 4.f}});
  EXPECT_LT(au24[57].y - au24[51].y, n[57].y - n[51].y - 4.f);  // lips pressed thinner
  const auto au10 = landmarks(who, {{10, 4.f}});
  EXPECT_LT(au10[51].y, n[51].y - 5.f);  // upper lip up
  const auto au9 = landmarks(who, {{9, 4.f}});
  EXPECT_LT(au9[31].y, n[31].y - 3.f);  // nose wings up
}

TEST(AuModel, RejectsUnknownAusAndIntensitiesOutOfRange) {
  EXPECT_THROW(validate_aus({{3, 1.f}}), std::invalid_argument);
  EXPECT_THROW(validate_aus({{12, 5.5f}}), std::invalid_argument);
  EXPECT_THROW(validate_aus({{12, -1.f}}), std::invalid_argument);
  EXPECT_NO_THROW(validate_aus({{12, 5.f}, {25, 0.f}}));
}
