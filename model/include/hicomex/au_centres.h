// Landmark-defined AU centres (JAA-Net; docs/model.md, "AU centres"), in one table that the
// OpenCV code and the network's tensor code both read.
#pragma once
#include <array>
#include <vector>

#include <opencv2/core/types.hpp>

namespace hicomex {

/// One centre: point `index` of the 49-point scheme, shifted vertically by
/// `dy_r * r`, where r = |x22 - x25| (inner eye corners). A second point index
/// (`index_b` >= 0) makes the centre the midpoint of two points before the shift.
struct AuCentreRule {
  int index;
  int index_b;
  float dy_r;
};

/// The two centres of an AU (left and right of the face, or two points of the mouth).
struct AuCentreRules {
  int au;
  std::array<AuCentreRule, 2> centres;
};

/// Rules for `au`; throws std::invalid_argument naming the AU if it has none.
const AuCentreRules& au_centre_rules(int au);
/// Every AU with rules (covers bp4d_aus(), disfa_aus() and synthetic_aus()).
const std::vector<AuCentreRules>& au_centre_table();

/// r = |x22 - x25| of 49 points.
float au_centre_scale49(const std::vector<cv::Point2f>& pts49);
/// The two centres of each AU in `aus`, in the coordinates of `pts49`.
std::vector<std::array<cv::Point2f, 2>> au_centres(const std::vector<cv::Point2f>& pts49, const std::vector<int>& aus);

}  // namespace hicomex
