// Brows, eyes, nose and mouth, drawn onto the face albedo through the
// projected landmarks, so the pixels and the ground truth agree.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "render_context.h"
#include "render_util.h"

namespace hicomex::synth {
namespace {

float dist(cv::Point2f a, cv::Point2f b) { return std::hypot(a.x - b.x, a.y - b.y); }

std::vector<cv::Point2f> reversed(std::vector<cv::Point2f> v) {
  std::reverse(v.begin(), v.end());
  return v;
}

std::vector<cv::Point2f> concat(std::vector<cv::Point2f> a, const std::vector<cv::Point2f>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<cv::Point2f> shifted(const std::vector<cv::Point2f>& v, cv::Point2f d) {
  std::vector<cv::Point2f> out(v);
  for (auto& p : out) p += d;
  return out;
}

cv::Mat1f blank(const cv::Mat3f& like) { return cv::Mat1f(like.size(), 0.f); }

void draw_brow(const RenderContext& c, cv::Mat3f& albedo, bool left) {
  const Appearance& a = *c.look;
  // Left to right in the image; the inner head of the brow is at the midline side.
  std::vector<cv::Point2f> pts = left ? c.pts({17, 18, 19, 20, 21}) : c.pts({22, 23, 24, 25, 26});
  std::vector<float> profile = {0.5f, 0.78f, 0.93f, 1.f, 1.f};
  if (!left) std::reverse(profile.begin(), profile.end());
  const int steps = 8;
  std::vector<cv::Point2f> curve = spline(pts, steps);
  const float th = a.brow_thickness * c.unit;
  std::vector<float> up_d, down_d;
  for (size_t i = 0; i < curve.size(); ++i) {
    float u = static_cast<float>(i) / steps;
    int k = std::min(static_cast<int>(u), 3);
    float w = profile[k] + (profile[k + 1] - profile[k]) * (u - k);
    up_d.push_back(-0.3f * th * w);
    down_d.push_back(0.75f * th * w);
  }
  auto upper = offset_curve(curve, up_d), lower = offset_curve(curve, down_d);
  cv::Mat1f fill = blank(albedo);
  fill_polygon(fill, concat(upper, reversed(lower)));
  soft(fill, 0.18f * th);
  // Individual hairs, slanting up towards the tail; steeper at the head.
  cv::Mat1f hairs = blank(albedo);
  Rng rng(a.texture_seed ^ (left ? 0xB70Full : 0xB70Eull));
  const float hair_w = std::max(1.f, 0.07f * th);
  for (int h = 0; h < 70; ++h) {
    float u = static_cast<float>(rng.uniform());
    float v = static_cast<float>(rng.uniform(0.05, 0.95));
    size_t i = std::min(curve.size() - 1, static_cast<size_t>(u * (curve.size() - 1)));
    cv::Point2f base = upper[i] + (lower[i] - upper[i]) * v;
    cv::Point2f tan = curve[std::min(i + 1, curve.size() - 1)] - curve[i > 0 ? i - 1 : 0];
    float tl = std::hypot(tan.x, tan.y);
    tan = tl > 1e-6f ? tan / tl : cv::Point2f(1, 0);
    float head = left ? u : 1.f - u;  // 1 at the inner head
    cv::Point2f outward = left ? -tan : tan;
    cv::Point2f dir = outward * (1.f - 0.7f * head) + (c.up()) * (0.35f + 0.8f * head);
    float dl = std::hypot(dir.x, dir.y);
    dir /= dl;
    draw_polyline(hairs, {base, base + dir * (0.55f * th)}, hair_w, 0.8f);
  }
  soft(hairs, 0.3f);
  cv::Mat1f alpha = cv::min(fill * 0.6f + hairs.mul(fill + 0.2f) * 0.7f, 0.92f);
  blend_colour(albedo, alpha, a.brows);
}

void draw_eye(const RenderContext& c, cv::Mat3f& albedo, bool left) {
  const Appearance& a = *c.look;
  // Corner a is at the image left, b at the image right.
  int ca = left ? 36 : 42, u1 = left ? 37 : 43, u2 = left ? 38 : 44, cb = left ? 39 : 45;
  int l1 = left ? 40 : 46, l2 = left ? 41 : 47;
  auto upper = spline(c.pts({ca, u1, u2, cb}), 8);
  auto lower = spline(c.pts({cb, l1, l2, ca}), 8);
  std::vector<cv::Point2f> poly = concat(upper, lower);
  const float W = dist(c.pt(ca), c.pt(cb));
  const float H = 0.5f * (dist(c.pt(u1), c.pt(l2)) + dist(c.pt(u2), c.pt(l1)));
  // Work in a small window around the eye.
  cv::Rect r = cv::boundingRect(poly);
  r.x -= static_cast<int>(W);
  r.y -= static_cast<int>(W);
  r.width += static_cast<int>(2 * W);
  r.height += static_cast<int>(2 * W);
  r &= cv::Rect(0, 0, albedo.cols, albedo.rows);
  if (r.width < 3 || r.height < 3) return;
  cv::Mat3f win = albedo(r);
  const cv::Point2f o(static_cast<float>(r.x), static_cast<float>(r.y));
  auto local = [&](const std::vector<cv::Point2f>& v) { return shifted(v, -o); };
  cv::Mat1f eye = blank(win);
  fill_polygon(eye, local(poly));
  const cv::Point2f centre = 0.5f * (c.pt(ca) + c.pt(cb)) - o;
  // Sclera, darker towards the corners.
  cv::Mat3f sclera(win.size());
  for (int y = 0; y < win.rows; ++y)
    for (int x = 0; x < win.cols; ++x) {
      float d = std::min(1.f, dist(cv::Point2f(x, y), centre) / (0.5f * W));
      sclera(y, x) = a.sclera * (1.f - 0.28f * d * d);
    }
  blend_image(win, eye, sclera);
  // Iris and pupil, clipped by the lids.
  const float R = 0.21f * W;
  cv::Point2f ic = centre + c.right() * (c.gaze.x * W) - c.up() * (c.gaze.y * W + 0.05f * H);
  cv::Mat3f iris(win.size(), cv::Vec3f(0, 0, 0));
  cv::Mat1f iris_mask = blank(win);
  fill_ellipse(iris_mask, ic, cv::Size2f(R, R), 0.f);
  Rng rng(a.texture_seed ^ (left ? 0x1415ull : 0x1416ull));
  const float phase = static_cast<float>(rng.uniform(0, 6.28));
  cv::Vec3f L = cv::normalize(c.light->direction);
  cv::Point2f glint = ic + cv::Point2f(L[0], L[1]) * (0.45f * R);
  for (int y = 0; y < win.rows; ++y)
    for (int x = 0; x < win.cols; ++x) {
      if (iris_mask(y, x) <= 0.f) continue;
      cv::Point2f d(x - ic.x, y - ic.y);
      float rr = std::hypot(d.x, d.y) / R;
      float ang = std::atan2(d.y, d.x);
      float streak = 0.12f * std::sin(ang * 23.f + phase) + 0.08f * std::sin(ang * 41.f + 2 * phase);
      cv::Vec3f col = a.iris * (0.75f + 0.45f * (1.f - rr) + streak);
      if (rr > 0.82f) col *= 0.55f;  // limbal ring
      if (rr < 0.38f) col = cv::Vec3f(0.03f, 0.03f, 0.03f);
      if (dist(cv::Point2f(x, y), glint) < 0.14f * R) col = cv::Vec3f(0.95f, 0.95f, 0.95f);
      iris(y, x) = col;
    }
  blend_image(win, iris_mask.mul(eye), iris);
  // Shadow of the upper lid on the eyeball.
  cv::Mat1f lid = blank(win);
  draw_polyline(lid, local(upper), std::max(1.f, 0.45f * H));
  soft(lid, 0.2f * H);
  modulate(win, lid.mul(eye), -0.4f);
  // Lid crease above the upper lid and the socket shadow between.
  std::vector<float> up_off(upper.size());
  for (size_t i = 0; i < upper.size(); ++i) {
    float t = static_cast<float>(i) / (upper.size() - 1);
    up_off[i] = -(0.45f + 0.25f * std::sin(3.14159f * t)) * H;
  }
  cv::Mat1f crease = blank(win);
  draw_polyline(crease, local(offset_curve(upper, up_off)), std::max(1.f, 0.04f * W));
  soft(crease, 0.04f * W);
  modulate(win, crease, -0.35f);
  // Lash line and lashes.
  cv::Mat1f lash = blank(win);
  draw_polyline(lash, local(upper), std::max(1.f, 0.065f * W));
  const bool outer_right = !left;  // the outer corner is at the image right for the subject's left eye
  for (int k = 0; k < 12; ++k) {
    float t = 0.15f + 0.85f * k / 11.f;
    float tt = outer_right ? t : 1.f - t;
    size_t i = std::min(upper.size() - 1, static_cast<size_t>(tt * (upper.size() - 1)));
    cv::Point2f out = c.up() + c.right() * ((outer_right ? 1.f : -1.f) * 0.6f * t);
    draw_polyline(lash, {upper[i] - o, upper[i] - o + out * (0.16f * W * (0.6f + 0.4f * t))}, std::max(1.f, 0.02f * W),
                  0.7f);
  }
  soft(lash, 0.35f);
  blend_colour(win, lash * (0.35f + 0.6f * a.lash_strength), cv::Vec3f(0.05f, 0.05f, 0.06f));
  // Lower lid margin and the pink caruncle at the inner corner.
  cv::Mat1f low = blank(win);
  draw_polyline(low, local(lower), std::max(1.f, 0.03f * W));
  soft(low, 0.5f);
  blend_colour(win, low * 0.4f, a.skin * 0.55f);
  cv::Mat1f car = blank(win);
  cv::Point2f inner = (left ? c.pt(cb) : c.pt(ca)) - o;
  cv::Point2f toward = centre - inner;
  toward /= std::max(1e-3f, std::hypot(toward.x, toward.y));
  fill_ellipse(car, inner + toward * (0.07f * W), cv::Size2f(0.07f * W, 0.05f * W), 0.f);
  blend_colour(win, car.mul(eye) * 0.7f, cv::Vec3f(0.5f, 0.5f, 0.8f));
  // Bags under the eyes with age.
  if (a.age > 0.3f) {
    std::vector<float> down(lower.size());
    for (size_t i = 0; i < lower.size(); ++i) {
      float t = static_cast<float>(i) / (lower.size() - 1);
      down[i] = -(0.5f + 0.5f * std::sin(3.14159f * t)) * H;  // lower runs right to left: negative = down
    }
    cv::Mat1f bag = blank(win);
    draw_polyline(bag, local(offset_curve(lower, down)), std::max(1.f, 0.03f * W));
    soft(bag, 0.05f * W);
    modulate(win, bag, -0.35f * (a.age - 0.3f));
  }
}

}  // namespace

void draw_brows(const RenderContext& c, cv::Mat3f& albedo) {
  draw_brow(c, albedo, true);
  draw_brow(c, albedo, false);
}

void draw_eyes(const RenderContext& c, cv::Mat3f& albedo) {
  draw_eye(c, albedo, true);
  draw_eye(c, albedo, false);
}

void draw_nose(const RenderContext& c, cv::Mat3f& albedo) {
  const Appearance& a = *c.look;
  const float nw = dist(c.pt(31), c.pt(35));
  const cv::Point2f up = c.up(), right = c.right();
  cv::Mat1f dark = blank(albedo);
  // Nostrils just above the lower border of the nose.
  for (int side = 0; side < 2; ++side) {
    cv::Point2f outer = c.pt(side == 0 ? 31 : 35), inner = c.pt(side == 0 ? 32 : 34);
    cv::Point2f centre = 0.5f * (outer + inner) + up * (0.1f * nw);
    cv::Point2f d = inner - outer;
    float ang = std::atan2(d.y, d.x) * 180.f / 3.14159f;
    fill_ellipse(dark, centre, cv::Size2f(0.17f * nw, 0.075f * nw), ang, 0.85f);
  }
  soft(dark, 0.03f * nw);
  blend_colour(albedo, dark, a.skin * 0.25f);
  // Alar creases curving around the wings, and the nose's lower border.
  cv::Mat1f lines = blank(albedo);
  for (int side = 0; side < 2; ++side) {
    float s = side == 0 ? 1.f : -1.f;
    cv::Point2f wing = c.pt(side == 0 ? 31 : 35);
    cv::Point2f centre = wing + right * (s * 0.1f * nw) + up * (0.12f * nw);
    std::vector<cv::Point2f> arc;
    for (int k = 0; k <= 10; ++k) {
      float t = (-60.f + 170.f * k / 10.f) * 3.14159f / 180.f;
      arc.push_back(centre - right * (s * 0.22f * nw * std::cos(t)) - up * (0.22f * nw * std::sin(t)));
    }
    draw_polyline(lines, arc, std::max(1.f, 0.025f * nw), 0.6f);
  }
  draw_polyline(lines, spline(c.pts({31, 32, 33, 34, 35}), 4), std::max(1.f, 0.02f * nw), 0.3f);
  soft(lines, 0.02f * nw);
  modulate(albedo, lines, -0.45f);
  // A highlight on the tip.
  cv::Mat1f tip = blank(albedo);
  fill_ellipse(tip, c.pt(30) + up * (0.08f * nw), cv::Size2f(0.12f * nw, 0.1f * nw), 0.f);
  soft(tip, 0.08f * nw);
  modulate(albedo, tip, 0.12f);
}

void draw_mouth(const RenderContext& c, cv::Mat3f& albedo) {
  const Appearance& a = *c.look;
  const cv::Point2f up = c.up();
  const float mw = dist(c.pt(48), c.pt(54));
  auto outer_up = spline(c.pts({48, 49, 50, 51, 52, 53, 54}), 5);
  auto outer_low = spline(c.pts({54, 55, 56, 57, 58, 59, 48}), 5);
  auto inner_up = spline(c.pts({60, 61, 62, 63, 64}), 5);
  auto inner_low = spline(c.pts({64, 65, 66, 67, 60}), 5);
  std::vector<cv::Point2f> upper_lip = concat(concat({c.pt(48)}, inner_up), reversed(outer_up));
  std::vector<cv::Point2f> lower_lip = concat(concat({c.pt(48)}, reversed(inner_low)), reversed(outer_low));
  // Mouth interior first (the lips overlap its border).
  std::vector<cv::Point2f> opening = concat(inner_up, inner_low);
  const float open_h = 0.5f * (dist(c.pt(61), c.pt(67)) + dist(c.pt(63), c.pt(65)));
  if (open_h > 0.004f * c.unit) {
    cv::Mat1f hole = blank(albedo);
    fill_polygon(hole, opening);
    blend_colour(albedo, hole, cv::Vec3f(0.06f, 0.05f, 0.12f));
    cv::Mat1f tongue = blank(albedo);
    fill_ellipse(tongue, c.pt(66) + up * (0.3f * open_h), cv::Size2f(0.3f * mw, 0.4f * open_h), 0.f);
    soft(tongue, 0.08f * open_h);
    blend_colour(albedo, tongue.mul(hole) * 0.8f, cv::Vec3f(0.3f, 0.28f, 0.6f));
    const float tooth_h = std::min(0.05f * c.unit, 0.55f * open_h + 0.012f * c.unit);
    cv::Mat1f teeth = blank(albedo);
    fill_polygon(teeth, concat(inner_up, reversed(shifted(inner_up, -up * tooth_h))));
    if (open_h > 0.04f * c.unit)
      fill_polygon(teeth, concat(inner_low, reversed(shifted(inner_low, up * (0.6f * tooth_h)))), 0.8f);
    cv::Mat1f gaps = blank(albedo);
    for (int k = -3; k <= 3; ++k) {
      cv::Point2f top = c.pt(62) + c.right() * (k * 0.1f * mw);
      draw_polyline(gaps, {top, top - up * tooth_h}, 1.f, 0.5f);
    }
    cv::Mat1f tm = teeth.mul(hole);
    blend_colour(albedo, tm, cv::Vec3f(0.8f, 0.87f, 0.9f));
    modulate(albedo, gaps.mul(tm), -0.3f);
    // Teeth further back are darker: shade the opening towards its corners.
    cv::Mat1f inner_shadow = hole.clone();
    soft(inner_shadow, 0.15f * mw);
    modulate(albedo, hole - inner_shadow, -0.5f);
  }
  cv::Mat1f lips_up = blank(albedo), lips_low = blank(albedo);
  fill_polygon(lips_up, upper_lip);
  fill_polygon(lips_low, lower_lip);
  soft(lips_up, 0.005f * c.unit);
  soft(lips_low, 0.005f * c.unit);
  // AU23 tenses the lips and rolls their red inwards: less of it shows, and
  // the tense vermilion border stands out as a pale ridge around the mouth.
  const float t23 = c.intensity(23), t24 = c.intensity(24);
  const float red = 0.9f * (1.f - 0.45f * t23);
  blend_colour(albedo, lips_up * red, a.lips * 0.88f);
  blend_colour(albedo, lips_low * red, a.lips);
  if (t23 > 0.f) {
    cv::Mat1f ridge = blank(albedo);
    draw_polyline(ridge, outer_up, std::max(1.f, 0.007f * c.unit));
    draw_polyline(ridge, outer_low, std::max(1.f, 0.007f * c.unit));
    soft(ridge, 0.003f * c.unit);
    modulate(albedo, ridge, 0.3f * t23);
  }
  cv::Mat1f shine = blank(albedo);
  fill_ellipse(shine, 0.5f * (c.pt(66) + c.pt(57)) + up * (0.1f * dist(c.pt(66), c.pt(57))),
               cv::Size2f(0.15f * mw, 0.25f * dist(c.pt(66), c.pt(57))), 0.f);
  soft(shine, 0.04f * mw);
  modulate(albedo, shine.mul(lips_low), 0.18f);
  // The line where the lips meet, the corners, and the shadow below the lower lip.
  cv::Mat1f seam = blank(albedo);
  // AU24 presses the lips together: a deeper, wider seam.
  draw_polyline(seam, inner_up, std::max(1.f, (0.008f + 0.008f * t24) * c.unit));
  fill_ellipse(seam, c.pt(48), cv::Size2f(0.012f * c.unit, 0.008f * c.unit), 0.f, 0.6f);
  fill_ellipse(seam, c.pt(54), cv::Size2f(0.012f * c.unit, 0.008f * c.unit), 0.f, 0.6f);
  soft(seam, 0.003f * c.unit);
  blend_colour(albedo, seam * 0.85f, a.lips * 0.3f);
  cv::Mat1f below = blank(albedo);
  fill_ellipse(below, c.pt(57) - up * (0.03f * c.unit), cv::Size2f(0.22f * mw, 0.02f * c.unit), 0.f);
  soft(below, 0.015f * c.unit);
  modulate(albedo, below, -0.15f);
  // Philtrum ridges.
  cv::Mat1f ph = blank(albedo);
  for (int s = -1; s <= 1; s += 2) {
    cv::Point2f top = c.pt(33) + c.right() * (s * 0.035f * c.unit) - up * (0.01f * c.unit);
    draw_polyline(ph, {top, c.pt(s < 0 ? 50 : 52) + up * (0.008f * c.unit)}, std::max(1.f, 0.008f * c.unit));
  }
  soft(ph, 0.008f * c.unit);
  modulate(albedo, ph, -0.12f);
}

}  // namespace hicomex::synth
