// Landmark-defined AU centres (hicomex/au_centres.h).
#include "hicomex/au_centres.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "hicomex/landmarks.h"

namespace hicomex {
namespace {

constexpr int kNone = -1;

// {index, index_b, dy_r}: a 49-point index (or the midpoint of two), shifted
// down by dy_r * r (image y grows downwards, so negative = above).
// The 49-point scheme: brows 0-9, nose 10-18 (13 = tip, 14-18 nostrils),
// eyes 19-24 / 25-30 (22, 25 inner corners; 20, 21 / 26, 27 upper lids),
// outer lips 31-42 (31, 37 corners; 34 upper middle; 40 lower middle),
// inner lips 43-48.
const std::vector<AuCentreRules>& table() {
  static const std::vector<AuCentreRules> rules = {
      // JAA-Net (docs/model.md, "AU centres").
      {1, {{{4, kNone, -1.f / 2}, {5, kNone, -1.f / 2}}}},  // above the inner brow ends
      {2, {{{1, kNone, -1.f / 3}, {8, kNone, -1.f / 3}}}},  // above the outer brows
      {4, {{{2, kNone, 1.f / 3}, {7, kNone, 1.f / 3}}}},    // below the brows (glabella sides)
      // Our choice: the upper lids, midpoint of the two upper-lid points, a
      // sixth of r above (the lid fold that AU5 uncovers/retracts).
      {5, {{{20, 21, -1.f / 6}, {26, 27, -1.f / 6}}}},
      {6, {{{24, kNone, 1.f}, {29, kNone, 1.f}}}},            // cheeks below the lower lids
      {7, {{{21, kNone, 0.f}, {26, kNone, 0.f}}}},            // lids
      {9, {{{15, kNone, -1.f / 2}, {17, kNone, -1.f / 2}}}},  // nose sides (DISFA)
      {10, {{{43, kNone, 0.f}, {45, kNone, 0.f}}}},           // upper lip, inner
      {12, {{{31, kNone, 0.f}, {37, kNone, 0.f}}}},           // mouth corners
      {14, {{{31, kNone, 0.f}, {37, kNone, 0.f}}}},
      {15, {{{31, kNone, 0.f}, {37, kNone, 0.f}}}},
      {17, {{{39, kNone, 1.f / 2}, {41, kNone, 1.f / 2}}}},  // chin below the lower lip
      // Our choice: the lip stretcher pulls the corners sideways and flattens
      // the skin below and beside them; half r below each corner keeps the
      // patch on that skin, apart from AU12/15 (at the corners) and AU17.
      {20, {{{31, kNone, 1.f / 2}, {37, kNone, 1.f / 2}}}},
      {23, {{{34, kNone, 0.f}, {40, kNone, 0.f}}}},  // lip middles
      {24, {{{34, kNone, 0.f}, {40, kNone, 0.f}}}},
      {25, {{{34, kNone, 0.f}, {40, kNone, 0.f}}}},
      {26, {{{39, kNone, 1.f / 2}, {41, kNone, 1.f / 2}}}},
  };
  return rules;
}

cv::Point2f apply(const AuCentreRule& rule, const std::vector<cv::Point2f>& pts, float r) {
  cv::Point2f p = pts[rule.index];
  if (rule.index_b >= 0) p = 0.5f * (p + pts[rule.index_b]);
  p.y += rule.dy_r * r;
  return p;
}

}  // namespace

const AuCentreRules& au_centre_rules(int au) {
  for (const AuCentreRules& rules : table())
    if (rules.au == au) return rules;
  throw std::invalid_argument("no AU centre rule for AU" + std::to_string(au));
}

const std::vector<AuCentreRules>& au_centre_table() { return table(); }

float au_centre_scale49(const std::vector<cv::Point2f>& pts49) {
  if (pts49.size() != static_cast<std::size_t>(kLandmarks49))
    throw std::invalid_argument("au_centre_scale49: expected 49 landmarks, got " + std::to_string(pts49.size()));
  return std::abs(pts49[22].x - pts49[25].x);
}

std::vector<std::array<cv::Point2f, 2>> au_centres(const std::vector<cv::Point2f>& pts49, const std::vector<int>& aus) {
  const float r = au_centre_scale49(pts49);
  std::vector<std::array<cv::Point2f, 2>> out;
  out.reserve(aus.size());
  for (int au : aus) {
    const AuCentreRules& rules = au_centre_rules(au);
    out.push_back({apply(rules.centres[0], pts49, r), apply(rules.centres[1], pts49, r)});
  }
  return out;
}

}  // namespace hicomex
