// Face rendering: geometry, a small z-buffer rasteriser for the skin depth,
// albedo with features, and directional shading from the depth's normals.
#include "face_renderer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "hicomex/geometry.h"
#include "render_context.h"
#include "render_util.h"

namespace hicomex::synth {
namespace {

Pose canvas_pose(const Pose& p, int ss) {
  Pose c = p;
  c.scale = p.scale * ss;
  // Output pixel centre x maps to supersampled x * ss + (ss - 1) / 2.
  c.centre = p.centre * static_cast<float>(ss) + cv::Point2f(0.5f * (ss - 1), 0.5f * (ss - 1));
  return c;
}

RenderedFace to_output(const std::vector<cv::Point3f>& canvas_pts, int ss) {
  RenderedFace r;
  const float off = 0.5f * (ss - 1);
  for (int i = 0; i < kLandmarkCount; ++i)
    r.landmarks.emplace_back((canvas_pts[i].x - off) / ss, (canvas_pts[i].y - off) / ss);
  const Box box = bounding_box(r.landmarks);
  r.box = cv::Rect2f(box.x, box.y, box.width, box.height);
  return r;
}

float edge(const cv::Point3f& a, const cv::Point3f& b, float px, float py) {
  return (b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x);
}

// Nearest-surface depth of the face mesh; -inf outside.
cv::Mat1f rasterise_depth(const RenderContext& c, cv::Size size) {
  cv::Mat1f depth(size, -1e9f);
  for (const auto& t : face_triangles()) {
    const cv::Point3f &a = c.image[t[0]], &b = c.image[t[1]], &d = c.image[t[2]];
    float area = edge(a, b, d.x, d.y);
    if (std::fabs(area) < 1e-6f) continue;
    int xa = std::max(0, static_cast<int>(std::floor(std::min({a.x, b.x, d.x}))));
    int xb = std::min(size.width - 1, static_cast<int>(std::ceil(std::max({a.x, b.x, d.x}))));
    int ya = std::max(0, static_cast<int>(std::floor(std::min({a.y, b.y, d.y}))));
    int yb = std::min(size.height - 1, static_cast<int>(std::ceil(std::max({a.y, b.y, d.y}))));
    for (int y = ya; y <= yb; ++y) {
      float* row = depth.ptr<float>(y);
      for (int x = xa; x <= xb; ++x) {
        float w0 = edge(b, d, x, y) / area, w1 = edge(d, a, x, y) / area, w2 = edge(a, b, x, y) / area;
        if (w0 < -1e-4f || w1 < -1e-4f || w2 < -1e-4f) continue;
        float z = w0 * a.z + w1 * b.z + w2 * d.z;
        if (z > row[x]) row[x] = z;
      }
    }
  }
  return depth;
}

// Skin albedo: base tone, blotches, pores, blush on the cheeks.
cv::Mat3f skin_albedo(const RenderContext& c, cv::Size size) {
  const Appearance& a = *c.look;
  cv::Mat3f albedo(size, a.skin);
  cv::Mat1f low = value_noise(size, 0.12f * c.unit, a.texture_seed ^ 0x51);
  cv::Mat1f high = value_noise(size, std::max(1.5f, 0.01f * c.unit), a.texture_seed ^ 0x52);
  cv::Mat1f tex = low * (0.6f * a.skin_texture) + high * (0.5f * a.skin_texture);
  modulate(albedo, tex, 1.f);
  cv::Mat1f blush(size, 0.f);
  for (int k = 0; k < 2; ++k)
    fill_ellipse(blush, c.pt(ExtraVertices::kCheeks + k), cv::Size2f(0.1f * c.unit, 0.07f * c.unit), 0.f);
  soft(blush, 0.06f * c.unit);
  blend_colour(albedo, blush * a.blush * 2.f, cv::Vec3f(a.skin[0] * 0.8f, a.skin[1] * 0.75f, a.skin[2]));
  return albedo;
}

// Lambert + Blinn-Phong from normals of the blurred depth, with a cavity term
// (depth below its wider neighbourhood) standing in for ambient occlusion.
cv::Mat3f shade(const RenderContext& c, const cv::Mat1f& depth, const cv::Mat1f& mask, const cv::Mat3f& albedo) {
  cv::Mat1f z = depth.clone();
  float zmin = 1e9f;
  for (int y = 0; y < z.rows; ++y)
    for (int x = 0; x < z.cols; ++x)
      if (mask(y, x) > 0.f) zmin = std::min(zmin, z(y, x));
  const float back = zmin - 0.15f * c.unit;
  for (int y = 0; y < z.rows; ++y)
    for (int x = 0; x < z.cols; ++x)
      if (mask(y, x) <= 0.f) z(y, x) = back;
  soft(z, 0.035f * c.unit);
  cv::Mat1f wide = z.clone();
  soft(wide, 0.12f * c.unit);
  const Lighting& l = *c.light;
  cv::Vec3f L = cv::normalize(l.direction);
  cv::Vec3f H = cv::normalize(L + cv::Vec3f(0.f, 0.f, 1.f));
  cv::Mat3f out(albedo.size());
  for (int y = 0; y < z.rows; ++y) {
    for (int x = 0; x < z.cols; ++x) {
      float gx = 0.5f * (z(y, std::min(x + 1, z.cols - 1)) - z(y, std::max(x - 1, 0)));
      float gy = 0.5f * (z(std::min(y + 1, z.rows - 1), x) - z(std::max(y - 1, 0), x));
      cv::Vec3f n(-gx, -gy, 1.f);
      n /= std::sqrt(n.dot(n));
      float diff = std::max(0.f, n.dot(L));
      float spec = std::pow(std::max(0.f, n.dot(H)), 24.f) * l.specular;
      float cavity = std::clamp((wide(y, x) - z(y, x)) / (0.06f * c.unit), 0.f, 1.f);
      float s = (l.ambient + l.diffuse * diff) * (1.f - 0.3f * cavity);
      const cv::Vec3f& al = albedo(y, x);
      out(y, x) = cv::Vec3f(al[0] * s * l.colour[0] + spec * l.colour[0], al[1] * s * l.colour[1] + spec * l.colour[1],
                            al[2] * s * l.colour[2] + spec * l.colour[2]);
    }
  }
  return out;
}

}  // namespace

cv::Point2f RenderContext::project(const cv::Point3f& m) const {
  auto p = project_vertices({m}, canvas_pose);
  return {p[0].x - roi.x, p[0].y - roi.y};
}

cv::Point2f RenderContext::up() const {
  cv::Point2f d = pt(27) - pt(8);
  float n = std::hypot(d.x, d.y);
  return n > 1e-6f ? d / n : cv::Point2f(0.f, -1.f);
}

cv::Point2f RenderContext::right() const {
  cv::Point2f d = pt(45) - pt(36);
  float n = std::hypot(d.x, d.y);
  return n > 1e-6f ? d / n : cv::Point2f(1.f, 0.f);
}

Lighting sample_lighting(Rng& rng) {
  Lighting l;
  l.direction = cv::normalize(
      cv::Vec3f(static_cast<float>(rng.uniform(-0.9, 0.9)), static_cast<float>(rng.uniform(-0.9, 0.25)), 1.f));
  l.ambient = static_cast<float>(rng.uniform(0.3, 0.55));
  l.diffuse = static_cast<float>(1.0 - l.ambient + rng.uniform(-0.05, 0.2));
  l.specular = static_cast<float>(rng.uniform(0.01, 0.1));
  float warm = static_cast<float>(rng.normal_clipped(0.0, 0.05, -0.12, 0.12));
  l.colour = cv::Vec3f(1.f - warm, 1.f, 1.f + 0.7f * warm);
  return l;
}

RenderedFace face_landmarks(const FaceInstance& face) {
  if (face.identity == nullptr) throw std::invalid_argument("face_landmarks: face has no identity");
  auto model = apply_aus(identity_vertices(face.identity->shape), face.aus);
  return to_output(project_vertices(model, canvas_pose(face.pose, 1)), 1);
}

RenderedFace draw_face(cv::Mat3f& canvas, int ss, const FaceInstance& face, const Lighting& light) {
  if (face.identity == nullptr) throw std::invalid_argument("draw_face: face has no identity");
  if (canvas.empty() || ss < 1)
    throw std::invalid_argument("draw_face: empty canvas or supersample " + std::to_string(ss) + " < 1");
  RenderContext c;
  c.model = apply_aus(identity_vertices(face.identity->shape), face.aus);
  c.canvas_pose = canvas_pose(face.pose, ss);
  c.image = project_vertices(c.model, c.canvas_pose);
  c.unit = c.canvas_pose.scale;
  c.look = &face.identity->look;
  c.aus = &face.aus;
  c.light = &light;
  c.gaze = face.gaze;
  c.supersample = ss;
  RenderedFace result = to_output(c.image, ss);

  const auto [x0, y0, x1, y1] = bounds_of(c.image);
  const float margin = (0.25f + c.look->hair_volume) * c.unit;
  cv::Rect roi(static_cast<int>(std::floor(x0 - margin - 0.5f * c.unit)), static_cast<int>(std::floor(y0 - margin)), 0,
               0);
  roi.width = static_cast<int>(std::ceil(x1 + margin + 0.5f * c.unit)) - roi.x;
  roi.height = canvas.rows - roi.y;
  roi &= cv::Rect(0, 0, canvas.cols, canvas.rows);
  if (roi.width < 4 || roi.height < 4) return result;
  c.roi = roi;
  for (auto& p : c.image) {
    p.x -= roi.x;
    p.y -= roi.y;
  }

  cv::Mat3f view = canvas(roi);
  draw_body(c, view);
  draw_back_hair(c, view);
  draw_ears(c, view);

  cv::Mat1f depth = rasterise_depth(c, roi.size());
  cv::Mat1f mask(roi.size(), 0.f);
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x)
      if (depth(y, x) > -1e8f) mask(y, x) = 1.f;

  cv::Mat3f albedo = skin_albedo(c, roi.size());
  draw_creases(c, albedo);
  draw_facial_hair(c, albedo);
  draw_nose(c, albedo);
  draw_mouth(c, albedo);
  draw_eyes(c, albedo);
  draw_brows(c, albedo);
  cv::Mat3f lit = shade(c, depth, mask, albedo);

  cv::Mat1f alpha = mask.clone();
  soft(alpha, 0.5f * ss);
  blend_image(view, alpha, lit);
  draw_front_hair(c, view, mask);
  return result;
}

}  // namespace hicomex::synth
