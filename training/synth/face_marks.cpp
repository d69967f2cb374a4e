// Skin marks that carry AU appearance changes beyond landmark motion (FACS
// "appearance changes": furrows, wrinkles, bulges), age lines, facial hair.
// Each mark's strength is proportional to its AU's intensity, so an AU at 0
// draws nothing; mark shapes come from the identity's texture seed only.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "render_context.h"
#include "render_util.h"

namespace hicomex::synth {
namespace {

struct Creases {
  const RenderContext& c;
  cv::Mat1f lines;
  cv::Point2f up, right;
  float u;

  explicit Creases(const RenderContext& ctx, cv::Size size)
      : c(ctx), lines(size, 0.f), up(ctx.up()), right(ctx.right()), u(ctx.unit) {}

  void line(const std::vector<cv::Point2f>& pts, float strength, float width = 0.006f) {
    if (strength <= 0.f) return;
    draw_polyline(lines, spline(pts, 4), std::max(1.f, width * u), std::min(1.f, strength));
  }
  // A point offset in face directions (model units; dx to the image right, dy up).
  cv::Point2f at(cv::Point2f p, float dx, float dy) const { return p + right * (dx * u) + up * (dy * u); }
};

void forehead_lines(Creases& k, Rng rng, float centre, float lateral, float age) {
  for (int row = 0; row < 3; ++row) {
    float lift = 0.075f + 0.045f * row;
    std::vector<cv::Point2f> pts;
    for (int i = 17; i <= 26; ++i) {
      float wave = static_cast<float>(rng.normal(0, 0.004));
      pts.push_back(k.c.pt(i) + k.up * ((lift + wave) * k.u));
    }
    // AU1 acts on the centre of the forehead, AU2 on its sides.
    k.line(std::vector<cv::Point2f>(pts.begin() + 2, pts.end() - 2), 0.5f * centre);
    k.line(std::vector<cv::Point2f>(pts.begin(), pts.begin() + 4), 0.45f * lateral);
    k.line(std::vector<cv::Point2f>(pts.end() - 4, pts.end()), 0.45f * lateral);
    if (age > 0.25f) k.line(pts, 0.35f * (age - 0.25f));
  }
}

}  // namespace

void draw_creases(const RenderContext& c, cv::Mat3f& albedo) {
  const Appearance& a = *c.look;
  Creases k(c, albedo.size());
  const float age = a.age;
  Rng rng(a.texture_seed ^ 0xC4EA5Eull);
  forehead_lines(k, rng.fork(1), c.intensity(1), c.intensity(2), age);
  // AU4: vertical glabellar furrows between the brows' heads.
  const float t4 = c.intensity(4);
  cv::Point2f glabella = 0.5f * (c.pt(21) + c.pt(22));
  for (int s = -1; s <= 1; s += 2)
    k.line({k.at(glabella, s * 0.022f, -0.03f), k.at(glabella, s * 0.018f, 0.01f), k.at(glabella, s * 0.02f, 0.05f)},
           0.75f * t4, 0.007f);
  for (int side = 0; side < 2; ++side) {
    const float s = side == 0 ? -1.f : 1.f;  // -1 = image-left half
    const cv::Point2f outer = c.pt(side == 0 ? 36 : 45);
    // AU6 (and age): crow's feet fanning out from the outer eye corner.
    const float crow = 0.6f * c.intensity(6) + 0.25f * std::max(0.f, age - 0.3f);
    for (int r = -1; r <= 1; ++r)
      k.line({k.at(outer, s * 0.035f, 0.f), k.at(outer, s * 0.07f, r * 0.025f), k.at(outer, s * 0.095f, r * 0.045f)},
             crow, 0.005f);
    // AU6: infraorbital furrow; AU7: bulge just under the lower lid.
    const int l1 = side == 0 ? 41 : 46, l2 = side == 0 ? 40 : 47;
    k.line({k.at(c.pt(l1), 0.f, -0.045f), k.at(c.pt(l2), 0.f, -0.05f), k.at(c.pt(side == 0 ? 39 : 42), 0.f, -0.035f)},
           0.45f * c.intensity(6));
    k.line({k.at(c.pt(l1), 0.f, -0.02f), k.at(c.pt(l2), 0.f, -0.022f)}, 0.4f * c.intensity(7));
    // Nasolabial fold: from the nose wing down past the mouth corner.
    const cv::Point2f wing = c.pt(side == 0 ? 31 : 35), corner = c.pt(side == 0 ? 48 : 54);
    const float fold =
        0.5f * c.intensity(12) + 0.4f * c.intensity(10) + 0.3f * c.intensity(9) + 0.2f * c.intensity(6) + 0.22f * age;
    k.line(
        {k.at(wing, s * 0.035f, 0.02f), k.at(0.5f * (wing + corner), s * 0.07f, 0.f), k.at(corner, s * 0.04f, -0.03f)},
        fold, 0.008f);
    // AU14: dimples beside the corners; AU15: lines down from the corners;
    // AU20: short horizontal stretch lines.
    k.line({k.at(corner, s * 0.03f, 0.015f), k.at(corner, s * 0.035f, -0.02f)}, 0.7f * c.intensity(14), 0.008f);
    k.line({k.at(corner, s * 0.01f, -0.02f), k.at(corner, s * 0.02f, -0.07f)}, 0.45f * c.intensity(15));
    k.line({k.at(corner, s * 0.02f, -0.005f), k.at(corner, s * 0.07f, -0.015f)}, 0.4f * c.intensity(20));
  }
  // AU9: horizontal wrinkles across the nose root.
  for (int row = 0; row < 3; ++row) {
    cv::Point2f p = c.pt(27) + (c.pt(28) - c.pt(27)) * (0.5f * row);
    k.line({k.at(p, -0.045f, 0.005f), k.at(p, 0.f, 0.f), k.at(p, 0.045f, 0.005f)}, 0.6f * c.intensity(9), 0.005f);
  }
  // AU17: deeper fold under the lower lip; AU24: bulges above and below the lips.
  k.line({k.at(c.pt(58), 0.f, -0.035f), k.at(c.pt(57), 0.f, -0.045f), k.at(c.pt(56), 0.f, -0.035f)},
         0.5f * c.intensity(17), 0.008f);
  k.line({k.at(c.pt(49), 0.f, 0.024f), k.at(c.pt(51), 0.f, 0.032f), k.at(c.pt(53), 0.f, 0.024f)},
         0.6f * c.intensity(24), 0.008f);
  k.line({k.at(c.pt(59), 0.f, -0.022f), k.at(c.pt(57), 0.f, -0.03f), k.at(c.pt(55), 0.f, -0.022f)},
         0.6f * c.intensity(24), 0.008f);
  // AU23: vertical lines over the tightened upper and lower lip, drawn wide
  // enough to survive the 128-pixel aligned crop.
  const float t23 = c.intensity(23);
  for (int i = 0; i < 6; ++i) {
    const float f = i / 5.f;
    cv::Point2f p = c.pt(49) + (c.pt(53) - c.pt(49)) * f;
    cv::Point2f q = c.pt(59) + (c.pt(55) - c.pt(59)) * f;
    k.line({k.at(p, 0.f, 0.002f), k.at(p, 0.f, 0.03f)}, 0.6f * t23, 0.007f);
    k.line({k.at(q, 0.f, -0.002f), k.at(q, 0.f, -0.024f)}, 0.45f * t23, 0.007f);
  }
  soft(k.lines, 0.004f * c.unit);
  modulate(albedo, k.lines, -0.5f);
  // AU17: "orange peel" texture of the raised chin boss.
  const float t17 = c.intensity(17);
  if (t17 > 0.f) {
    cv::Mat1f chin(albedo.size(), 0.f);
    fill_ellipse(chin, c.pt(ExtraVertices::kChin), cv::Size2f(0.1f * c.unit, 0.06f * c.unit), 0.f);
    soft(chin, 0.03f * c.unit);
    cv::Mat1f bumps = value_noise(albedo.size(), std::max(2.f, 0.012f * c.unit), a.texture_seed ^ 0x17);
    modulate(albedo, chin.mul(bumps), 0.25f * t17);
  }
}

void draw_facial_hair(const RenderContext& c, cv::Mat3f& albedo) {
  const Appearance& a = *c.look;
  if (a.facial_hair == FacialHair::None) return;
  const cv::Point2f up = c.up(), right = c.right();
  cv::Mat1f region(albedo.size(), 0.f);
  // Moustache between the nose and the upper lip.
  std::vector<cv::Point2f> moustache = {c.pt(48) + up * (0.01f * c.unit) - right * (0.01f * c.unit)};
  for (int i = 49; i <= 53; ++i) moustache.push_back(c.pt(i) + up * (0.006f * c.unit));
  moustache.push_back(c.pt(54) + up * (0.01f * c.unit) + right * (0.01f * c.unit));
  for (int i = 35; i >= 31; --i) moustache.push_back(c.pt(i) - up * (0.012f * c.unit));
  fill_polygon(region, moustache);
  if (a.facial_hair != FacialHair::Moustache) {
    std::vector<cv::Point2f> beard;
    for (int i = 2; i <= 14; ++i) beard.push_back(c.pt(i));
    beard.push_back(c.pt(54) + right * (0.03f * c.unit));
    for (int i = 55; i <= 59; ++i) beard.push_back(c.pt(i) - up * (0.012f * c.unit));
    beard.push_back(c.pt(48) - right * (0.03f * c.unit));
    fill_polygon(region, beard);
  }
  soft(region, 0.015f * c.unit);
  Rng rng(a.texture_seed ^ 0xBEA4Dull);
  cv::Mat1f strokes(albedo.size(), 0.f);
  const cv::Rect box =
      cv::boundingRect(moustache) | cv::boundingRect(std::vector<cv::Point2f>{c.pt(2), c.pt(14), c.pt(8)});
  const int n = a.facial_hair == FacialHair::Stubble
                    ? 0
                    : static_cast<int>(box.area() / std::max(4.f, 0.0004f * c.unit * c.unit) * 0.02f);
  for (int h = 0; h < n; ++h) {
    cv::Point2f p(static_cast<float>(box.x + rng.uniform() * box.width),
                  static_cast<float>(box.y + rng.uniform() * box.height));
    int px = static_cast<int>(p.x), py = static_cast<int>(p.y);
    if (px < 0 || py < 0 || px >= region.cols || py >= region.rows || region(py, px) < 0.3f) continue;
    cv::Point2f dir = -up + right * static_cast<float>(rng.normal(0, 0.4));
    draw_polyline(strokes, {p, p + dir * (0.02f * c.unit)}, 1.f, static_cast<float>(rng.uniform(0.5, 1.0)));
  }
  cv::Mat1f dots = value_noise(albedo.size(), std::max(1.5f, 0.004f * c.unit), a.texture_seed ^ 0x5EB);
  cv::Mat1f alpha;
  if (a.facial_hair == FacialHair::Stubble) {
    alpha = region.mul(0.25f + 0.2f * dots) * a.facial_hair_density;
  } else {
    alpha = region.mul(cv::min(0.45f + strokes * 0.5f + 0.1f * dots, 0.95f)) * a.facial_hair_density;
  }
  blend_colour(albedo, alpha, a.hair * 0.9f);
}

}  // namespace hicomex::synth
