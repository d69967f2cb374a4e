// Hair, ears, neck and shoulders: what makes a face read as a head on a body.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "render_context.h"
#include "render_util.h"

namespace hicomex::synth {
namespace {

cv::Point2f unit_vec(cv::Point2f d) {
  float n = std::hypot(d.x, d.y);
  return n > 1e-6f ? d / n : cv::Point2f(0, -1);
}

// The skull silhouette pushed out by the hair's volume.
std::vector<cv::Point2f> hair_outline(const RenderContext& c) {
  const cv::Point2f centre = c.project(cv::Point3f(0.f, -0.2f, -0.5f));
  std::vector<cv::Point2f> out;
  for (int i = 0; i < ExtraVertices::kSkullArcCount; ++i) {
    cv::Point2f s = c.pt(ExtraVertices::kSkullArc + i);
    out.push_back(s + unit_vec(s - centre) * (c.look->hair_volume * c.unit));
  }
  return spline(out, 4);
}

// Fills `poly` with strands flowing away from `origin`, lit like a sphere.
void paint_hair(const RenderContext& c, cv::Mat3f& dst, const std::vector<cv::Point2f>& poly, cv::Point2f origin,
                float darken, std::uint64_t seed) {
  const Appearance& a = *c.look;
  cv::Mat1f mask(dst.size(), 0.f);
  fill_polygon(mask, poly);
  soft(mask, 0.006f * c.unit);
  cv::Rect box = cv::boundingRect(poly) & cv::Rect(0, 0, dst.cols, dst.rows);
  if (box.area() <= 0) return;
  cv::Mat3f layer(dst.size(), a.hair * darken);
  Rng rng(seed);
  const int strands = std::min(2500, static_cast<int>(box.area() / std::max(3.f, 0.0006f * c.unit * c.unit)));
  for (int s = 0; s < strands; ++s) {
    cv::Point2f p(static_cast<float>(box.x + rng.uniform() * box.width),
                  static_cast<float>(box.y + rng.uniform() * box.height));
    int px = static_cast<int>(p.x), py = static_cast<int>(p.y);
    if (mask(py, px) < 0.5f) continue;
    cv::Point2f dir = unit_vec(p - origin);
    dir = unit_vec(dir + cv::Point2f(static_cast<float>(rng.normal(0, 0.25)), static_cast<float>(rng.normal(0, 0.25))));
    float len = static_cast<float>(rng.uniform(0.04, 0.1)) * c.unit;
    float g = static_cast<float>(rng.uniform(0.65, 1.4));
    cv::Vec3f col = a.hair * (darken * g);
    cv::line(layer, p, p + dir * len, cv::Scalar(col[0], col[1], col[2]), std::max(1, c.supersample / 2));
  }
  soft(layer, 0.4f);
  // Sphere-like shading about the head centre.
  const cv::Point2f hc = c.project(cv::Point3f(0.f, -0.25f, -0.55f));
  const float R = 0.75f * c.unit;
  cv::Vec3f L = cv::normalize(c.light->direction);
  for (int y = box.y; y < box.y + box.height; ++y)
    for (int x = box.x; x < box.x + box.width; ++x) {
      float nx = (x - hc.x) / R, ny = (y - hc.y) / R;
      float nz = std::sqrt(std::max(0.05f, 1.f - nx * nx - ny * ny));
      cv::Vec3f n = cv::normalize(cv::Vec3f(nx, ny, nz));
      float s = c.light->ambient + c.light->diffuse * std::max(0.f, n.dot(L));
      layer(y, x) = layer(y, x).mul(c.light->colour) * s;
    }
  blend_image(dst, mask, layer);
}

void shade_flat(const RenderContext& c, cv::Mat3f& dst, const cv::Mat1f& mask, const cv::Vec3f& colour, float facing) {
  const cv::Vec3f L = cv::normalize(c.light->direction);
  float s = c.light->ambient + c.light->diffuse * std::max(0.f, facing * L[2]);
  blend_colour(dst, mask, colour.mul(c.light->colour) * s);
}

}  // namespace

void draw_body(const RenderContext& c, cv::Mat3f& canvas) {
  const Appearance& a = *c.look;
  const float w = 0.19f * std::fabs(c.model[14].x - c.model[2].x) / 0.8f;
  cv::Point2f tl = c.project({-w, 0.15f, -0.5f}), tr = c.project({w, 0.15f, -0.5f});
  cv::Point2f bl = c.project({-w * 1.08f, 1.0f, -0.5f}), br = c.project({w * 1.08f, 1.0f, -0.5f});
  const cv::Point2f down = -c.up();
  // Shoulders and clothes.
  cv::Point2f base = 0.5f * (bl + br) + down * (0.3f * c.unit);
  cv::Mat1f clothes(canvas.size(), 0.f);
  float ang = std::atan2(c.right().y, c.right().x) * 180.f / 3.14159f;
  fill_ellipse(clothes, base, cv::Size2f(1.25f * c.unit, 0.5f * c.unit), ang);
  shade_flat(c, canvas, clothes, a.clothes, 0.9f);
  // Neck, darker under the jaw.
  cv::Mat1f neck(canvas.size(), 0.f);
  fill_polygon(neck, {tl, tr, br + down * (0.2f * c.unit), 0.5f * (bl + br) + down * (0.35f * c.unit),
                      bl + down * (0.2f * c.unit)});
  soft(neck, 0.5f * c.supersample);
  shade_flat(c, canvas, neck, a.skin * 0.9f, 0.8f);
  cv::Mat1f shadow(canvas.size(), 0.f);
  std::vector<cv::Point2f> jaw;
  for (int i = 3; i <= 13; ++i) jaw.push_back(c.pt(i) + down * (0.05f * c.unit));
  draw_polyline(shadow, jaw, 0.12f * c.unit);
  soft(shadow, 0.05f * c.unit);
  modulate(canvas, shadow.mul(neck), -0.45f);
}

void draw_back_hair(const RenderContext& c, cv::Mat3f& canvas) {
  const Appearance& a = *c.look;
  if (a.hair_style != HairStyle::Long && a.hair_style != HairStyle::Medium) return;
  std::vector<cv::Point2f> poly = hair_outline(c);
  const cv::Point2f down = -c.up(), right = c.right();
  const float drop = a.hair_style == HairStyle::Long ? 0.45f : 0.05f;
  const cv::Point2f lowest = c.pt(a.hair_style == HairStyle::Long ? 8 : 5) + down * (drop * c.unit);
  const float below = (lowest - poly.back()).dot(down);
  poly.push_back(poly.back() + right * (0.05f * c.unit) + down * below);
  poly.push_back(poly.front() - right * (0.05f * c.unit) + down * below);
  paint_hair(c, canvas, poly, c.project({0.f, -0.9f, -0.4f}), 0.7f, a.texture_seed ^ 0xBAC4ull);
}

void draw_ears(const RenderContext& c, cv::Mat3f& canvas) {
  const Appearance& a = *c.look;
  for (int side = 0; side < 2; ++side) {
    const cv::Point3f jaw = c.model[side == 0 ? 1 : 15];
    cv::Point3f m(jaw.x * 1.03f, jaw.y - 0.05f, -0.5f);
    cv::Point2f centre = c.project(m);
    float ang = std::atan2(c.up().y, c.up().x) * 180.f / 3.14159f + 90.f;
    cv::Mat1f ear(canvas.size(), 0.f), inner(canvas.size(), 0.f);
    fill_ellipse(ear, centre, cv::Size2f(0.065f * c.unit, 0.14f * c.unit), ang);
    soft(ear, 0.4f * c.supersample);
    shade_flat(c, canvas, ear, a.skin * 0.92f, 0.7f);
    cv::Point2f in = centre + c.right() * ((side == 0 ? 0.015f : -0.015f) * c.unit);
    fill_ellipse(inner, in, cv::Size2f(0.03f * c.unit, 0.08f * c.unit), ang);
    soft(inner, 0.015f * c.unit);
    modulate(canvas, inner, -0.35f);
  }
}

void draw_front_hair(const RenderContext& c, cv::Mat3f& canvas, const cv::Mat1f& face_mask) {
  (void)face_mask;
  const Appearance& a = *c.look;
  if (a.hair_style == HairStyle::Bald) return;
  const cv::Point2f right = c.right(), up = c.up();
  std::vector<cv::Point2f> poly;
  poly.push_back(c.pt(0) - right * (0.01f * c.unit) - up * (0.02f * c.unit));
  for (auto& p : hair_outline(c)) poly.push_back(p);
  poly.push_back(c.pt(16) + right * (0.01f * c.unit) - up * (0.02f * c.unit));
  std::vector<cv::Point2f> line;
  for (int i = ExtraVertices::kHairlineCount - 1; i >= 0; --i) line.push_back(c.pt(ExtraVertices::kHairline + i));
  if (a.hair_style == HairStyle::Fringe) {
    // Bangs: the middle of the hairline comes down, stopping above the brows.
    const float brow_top = std::min({(c.pt(19) - c.pt(27)).dot(-up), (c.pt(24) - c.pt(27)).dot(-up)});
    for (size_t k = 1; k + 1 < line.size(); ++k) {
      float depth = (line[k] - c.pt(27)).dot(-up);  // negative: above the nose root
      float target = brow_top - 0.07f * c.unit;
      if (depth < target) line[k] += -up * (0.75f * (target - depth));
    }
  }
  auto smooth_line = spline(line, 4);
  poly.insert(poly.end(), smooth_line.begin(), smooth_line.end());
  paint_hair(c, canvas, poly, c.project({0.f, -0.95f, -0.3f}), 1.f, a.texture_seed ^ 0xF40Dull);
}

}  // namespace hicomex::synth
