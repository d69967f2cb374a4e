// AU displacement fields. Each AU lists, at intensity 5, how far the landmarks
// of the image-left half move (out = away from the midline, dy = down,
// dz = towards the camera); the right half mirrors them. Skin vertices between
// landmarks follow by a Gaussian-weighted blend, plus the bulges FACS names
// (cheeks in AU6/AU12, chin boss in AU17, ...).
#include "au_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <string>

#include "face_model.h"
#include "hicomex/au_catalog.h"

namespace hicomex::synth {
namespace {

using Field = std::array<cv::Point3f, ExtraVertices::kTotal>;

struct FieldBuilder {
  Field f{};
  // Landmark i (an image-left or midline point) and its mirror partner.
  FieldBuilder& at(int i, float out, float dy, float dz = 0.f) {
    int m = mirror_landmarks()[i];
    if (m == i) {
      f[i] = cv::Point3f(0.f, dy, dz);
    } else {
      f[i] = cv::Point3f(-out, dy, dz);
      f[m] = cv::Point3f(out, dy, dz);
    }
    return *this;
  }
  // An extra vertex pair (image-left index first) or a single midline vertex.
  FieldBuilder& extra(int first, bool pair, float out, float dy, float dz) {
    f[first] += cv::Point3f(pair ? -out : 0.f, dy, dz);
    if (pair) f[first + 1] += cv::Point3f(out, dy, dz);
    return *this;
  }
};

// The displacements keep their grouping by facial feature (not clang-formatted).
// clang-format off
// Landmark displacement fields at intensity 5. Distances in model units: an
// eye is ~0.05 high, the mouth ~0.35 wide, the face ~0.9 wide.
Field landmark_field(int au) {
  FieldBuilder b;
  switch (au) {
    case 1:  // inner brow raiser: the medial brow rises
      b.at(21, 0.f, -0.065f).at(20, 0.f, -0.05f).at(19, 0.f, -0.03f).at(18, 0.f, -0.012f);
      break;
    case 2:  // outer brow raiser: the lateral brow rises
      b.at(17, 0.005f, -0.06f).at(18, 0.f, -0.058f).at(19, 0.f, -0.042f).at(20, 0.f, -0.02f)
          .at(21, 0.f, -0.006f);
      break;
    case 4:  // brow lowerer: brows down and together
      b.at(21, -0.025f, 0.045f).at(20, -0.015f, 0.04f).at(19, -0.008f, 0.032f)
          .at(18, 0.f, 0.022f).at(17, 0.f, 0.012f);
      break;
    case 5:  // upper lid raiser: the upper lid rises, more sclera shows
      b.at(37, 0.f, -0.024f).at(38, 0.f, -0.024f);
      break;
    case 6:  // cheek raiser: lower lid pushed up from below
      b.at(40, 0.f, -0.012f).at(41, 0.f, -0.013f).at(36, 0.003f, -0.004f);
      break;
    case 7:  // lid tightener: lids narrow, the lower lid rises and straightens
      b.at(40, 0.f, -0.016f).at(41, 0.f, -0.016f).at(37, 0.f, 0.008f).at(38, 0.f, 0.008f)
          .at(39, 0.f, -0.002f);
      break;
    case 9:  // nose wrinkler: nostril wings and upper lip up, medial brow down
      b.at(31, 0.006f, -0.022f).at(32, 0.003f, -0.02f).at(33, 0.f, -0.018f).at(30, 0.f, -0.01f)
          .at(48, 0.f, -0.006f).at(49, 0.f, -0.012f).at(50, 0.f, -0.014f).at(51, 0.f, -0.014f)
          .at(60, 0.f, -0.004f).at(61, 0.f, -0.008f).at(62, 0.f, -0.008f)
          .at(21, -0.008f, 0.02f).at(20, 0.f, 0.012f);
      break;
    case 10:  // upper lip raiser: the upper lip centre rises, nostrils widen
      b.at(50, 0.f, -0.035f).at(51, 0.f, -0.033f).at(49, 0.f, -0.03f).at(48, 0.f, -0.012f)
          .at(61, 0.f, -0.022f).at(62, 0.f, -0.022f).at(60, 0.f, -0.01f)
          .at(31, 0.004f, -0.008f).at(32, 0.f, -0.006f).at(33, 0.f, -0.005f);
      break;
    case 12:  // lip corner puller: corners up and out
      b.at(48, 0.045f, -0.04f, -0.01f).at(60, 0.04f, -0.035f).at(49, 0.02f, -0.018f)
          .at(59, 0.02f, -0.012f).at(61, 0.015f, -0.015f).at(67, 0.015f, -0.01f)
          .at(50, 0.006f, -0.005f).at(58, 0.006f, -0.003f);
      break;
    case 14:  // dimpler: corners tightened inwards
      b.at(48, -0.018f, -0.004f, -0.015f).at(60, -0.014f, -0.003f).at(49, -0.006f, 0.f)
          .at(59, -0.006f, 0.f);
      break;
    case 15:  // lip corner depressor: corners pulled down
      b.at(48, 0.006f, 0.04f).at(60, 0.004f, 0.035f).at(59, 0.f, 0.02f).at(49, 0.f, 0.015f)
          .at(67, 0.f, 0.012f).at(61, 0.f, 0.012f).at(58, 0.f, 0.008f);
      break;
    case 17:  // chin raiser: chin boss and lower lip pushed up
      b.at(57, 0.f, -0.025f, 0.015f).at(58, 0.f, -0.022f, 0.012f).at(59, 0.f, -0.015f)
          .at(66, 0.f, -0.012f).at(67, 0.f, -0.01f).at(61, 0.f, -0.01f).at(62, 0.f, -0.012f)
          .at(8, 0.f, -0.022f, 0.01f).at(7, 0.f, -0.018f).at(6, 0.f, -0.01f);
      break;
    case 20:  // lip stretcher: corners pulled sideways, lips flatten
      b.at(48, 0.045f, 0.012f).at(60, 0.04f, 0.01f).at(49, 0.02f, 0.004f).at(59, 0.02f, 0.f)
          .at(61, 0.015f, 0.003f).at(67, 0.015f, 0.f).at(50, 0.006f, 0.004f).at(58, 0.006f, -0.004f)
          .at(51, 0.f, 0.004f).at(57, 0.f, -0.006f);
      break;
    case 23:  // lip tightener: the lips tense, roll in (less red shows) and
              // narrow the mouth, pushed slightly forward; corners drawn in
      b.at(48, -0.034f, 0.f, 0.012f).at(60, -0.03f, 0.f, 0.012f).at(49, -0.016f, 0.012f, 0.016f)
          .at(50, -0.006f, 0.014f, 0.018f).at(51, 0.f, 0.014f, 0.02f).at(59, -0.016f, -0.014f, 0.016f)
          .at(58, -0.006f, -0.016f, 0.018f).at(57, 0.f, -0.016f, 0.02f).at(61, -0.012f, 0.f, 0.014f)
          .at(67, -0.012f, 0.f, 0.014f).at(62, 0.f, 0.f, 0.016f).at(66, 0.f, 0.f, 0.016f);
      break;
    case 24:  // lip pressor: lips pressed together and flattened; the mouth
              // keeps (or slightly gains) its width, skin bulges above and below
      b.at(49, 0.f, 0.014f).at(50, 0.f, 0.015f).at(51, 0.f, 0.015f).at(59, 0.f, -0.014f)
          .at(58, 0.f, -0.016f).at(57, 0.f, -0.016f).at(48, 0.006f, 0.002f).at(60, 0.004f, 0.f)
          .at(61, 0.f, 0.004f).at(62, 0.f, 0.004f).at(67, 0.f, -0.004f).at(66, 0.f, -0.004f);
      break;
    case 25:  // lips part
      b.at(61, 0.f, -0.008f).at(62, 0.f, -0.008f).at(60, 0.f, -0.002f).at(66, 0.f, 0.045f)
          .at(67, 0.f, 0.04f).at(57, 0.f, 0.04f).at(58, 0.f, 0.036f).at(59, 0.f, 0.022f)
          .at(48, 0.f, 0.004f).at(50, 0.f, -0.006f).at(51, 0.f, -0.006f);
      break;
    case 26:  // jaw drop: mandible, lower lip and chin down
      b.at(8, 0.f, 0.13f).at(7, 0.f, 0.125f).at(6, 0.f, 0.11f).at(5, -0.005f, 0.085f)
          .at(4, -0.006f, 0.06f).at(3, -0.004f, 0.03f).at(2, 0.f, 0.01f)
          .at(66, 0.f, 0.11f).at(67, 0.f, 0.10f).at(57, 0.f, 0.115f).at(58, 0.f, 0.11f)
          .at(59, 0.f, 0.085f).at(48, -0.006f, 0.04f).at(60, -0.006f, 0.045f)
          .at(61, 0.f, -0.004f).at(62, 0.f, -0.004f);
      break;
    default:
      throw std::invalid_argument("AU" + std::to_string(au) + " is not rendered by hicomex-synth");
  }
  return b.f;
  // clang-format on
}

// Skin bulges FACS describes, on extra vertices only (no landmark moves here).
void add_bulges(int au, Field& f) {
  FieldBuilder b;
  b.f = f;
  using E = ExtraVertices;
  switch (au) {
    case 6:
      b.extra(E::kUnderEyes, true, 0.f, -0.025f, 0.02f)
          .extra(E::kCheekbones, true, 0.f, -0.025f, 0.03f)
          .extra(E::kCheeks, true, 0.f, -0.02f, 0.02f);
      break;
    case 12:
      b.extra(E::kCheeks, true, 0.005f, -0.03f, 0.035f)
          .extra(E::kBesideMouth, true, 0.015f, -0.035f, 0.02f)
          .extra(E::kCheekbones, true, 0.f, -0.01f, 0.01f);
      break;
    case 14: b.extra(E::kBesideMouth, true, -0.006f, 0.f, -0.012f); break;
    case 17: b.extra(E::kChin, false, 0.f, -0.02f, 0.03f).extra(E::kBelowMouth, true, 0.f, -0.02f, 0.012f); break;
    case 24: b.extra(E::kPhiltrum, false, 0.f, 0.004f, 0.016f).extra(E::kBelowMouth, true, 0.f, -0.004f, 0.02f); break;
    case 9: b.extra(E::kNoseSides, true, 0.f, -0.01f, 0.005f); break;
    default: break;
  }
  f = b.f;
}

// Extra vertices follow nearby landmarks (not the skull and hairline arcs).
void blend_into_extras(Field& f, const std::vector<cv::Point3f>& v) {
  const float inv_two_sigma2 = 1.f / (2.f * 0.07f * 0.07f);
  for (int e = ExtraVertices::kForehead; e < ExtraVertices::kTotal; ++e) {
    if (e >= ExtraVertices::kTemples && e < ExtraVertices::kTemples + 2) continue;
    cv::Point3f acc(0, 0, 0);
    float wsum = 0.f;
    for (int i = 0; i < kLandmarkCount; ++i) {
      float dx = v[e].x - v[i].x, dy = v[e].y - v[i].y;
      float w = std::exp(-(dx * dx + dy * dy) * inv_two_sigma2);
      acc += w * f[i];
      wsum += w;
    }
    f[e] += acc * (1.f / std::max(wsum, 1.f));
  }
}

}  // namespace

const std::vector<int>& rendered_aus() {
  static const std::vector<int> aus(std::begin(kSyntheticAus), std::end(kSyntheticAus));
  return aus;
}

bool is_rendered_au(int au) {
  const auto& a = rendered_aus();
  return std::find(a.begin(), a.end(), au) != a.end();
}

float au_intensity(const AuIntensities& aus, int au) {
  auto it = aus.find(au);
  if (it == aus.end()) return 0.f;
  return std::clamp(it->second, 0.f, 5.f);
}

void validate_aus(const AuIntensities& aus) {
  for (const auto& [au, v] : aus) {
    if (!is_rendered_au(au))
      throw std::invalid_argument("AU" + std::to_string(au) + " is not rendered by hicomex-synth");
    if (!(v >= 0.f && v <= 5.f))
      throw std::invalid_argument("AU" + std::to_string(au) + " intensity " + std::to_string(v) + " is outside [0, 5]");
  }
}

std::vector<int> au_moved_landmarks(int au) {
  Field f = landmark_field(au);
  std::vector<int> out;
  for (int i = 0; i < kLandmarkCount; ++i)
    if (f[i].x != 0.f || f[i].y != 0.f || f[i].z != 0.f) out.push_back(i);
  return out;
}

std::vector<cv::Point3f> apply_aus(const std::vector<cv::Point3f>& neutral, const AuIntensities& aus) {
  if (neutral.size() != static_cast<size_t>(ExtraVertices::kTotal))
    throw std::invalid_argument("apply_aus: expected " + std::to_string(ExtraVertices::kTotal) + " vertices, got " +
                                std::to_string(neutral.size()));
  validate_aus(aus);
  std::vector<cv::Point3f> v = neutral;
  for (const auto& [au, intensity] : aus) {
    if (intensity <= 0.f) continue;
    Field f = landmark_field(au);
    blend_into_extras(f, neutral);
    add_bulges(au, f);
    const float t = intensity / 5.f;
    for (int i = 0; i < ExtraVertices::kTotal; ++i) v[i] += t * f[i];
  }
  // Keep the lips from crossing when several mouth AUs add up: the inner lower
  // lip never rises above the inner upper lip, and each lip keeps some red.
  const int upper_inner[] = {61, 62, 63}, lower_inner[] = {67, 66, 65};
  for (int k = 0; k < 3; ++k) {
    cv::Point3f& u = v[upper_inner[k]];
    cv::Point3f& l = v[lower_inner[k]];
    if (l.y < u.y) u.y = l.y = 0.5f * (u.y + l.y);
  }
  const int upper_outer[] = {50, 51, 52}, lower_outer[] = {58, 57, 56};
  for (int k = 0; k < 3; ++k) {
    v[upper_outer[k]].y = std::min(v[upper_outer[k]].y, v[upper_inner[k]].y - 0.006f);
    v[lower_outer[k]].y = std::max(v[lower_outer[k]].y, v[lower_inner[k]].y + 0.008f);
  }
  return v;
}

}  // namespace hicomex::synth
