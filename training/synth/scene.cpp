// Scene composition and camera effects.
#include "scene.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "render_util.h"

namespace hicomex::synth {
namespace {

cv::Scalar random_colour(Rng& rng) {
  return cv::Scalar(rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95));
}

double pose_angle(Rng& rng, double limit) {
  // Mostly near frontal, with a uniform tail over the whole range.
  if (rng.chance(0.3)) return rng.uniform(-limit, limit);
  return rng.normal_clipped(0.0, limit / 2.5, -limit, limit);
}

}  // namespace

void validate(const SceneOptions& o) {
  if (o.size < 32 || o.size > 4096)
    throw std::invalid_argument("scene: size " + std::to_string(o.size) + " is outside [32, 4096]");
  if (o.supersample < 1 || o.supersample > 4)
    throw std::invalid_argument("scene: supersample " + std::to_string(o.supersample) + " is outside [1, 4]");
  if (!(o.min_face_width > 0.05 && o.min_face_width <= o.max_face_width && o.max_face_width <= 1.2))
    throw std::invalid_argument("scene: face width range must satisfy 0.05 < min <= max <= 1.2");
  for (double a : {o.max_abs_yaw, o.max_abs_pitch, o.max_abs_roll})
    if (a < 0.0 || a > 45.0) throw std::invalid_argument("scene: pose limits must be within [0, 45] degrees");
}

cv::Mat3f make_background(cv::Size size, Rng& rng) {
  // A two-colour gradient, then shapes at a few depths, then sensor texture.
  cv::Mat3f bg(size);
  cv::Scalar c0 = random_colour(rng), c1 = random_colour(rng);
  double ang = rng.uniform(0, 6.283);
  float dx = static_cast<float>(std::cos(ang)), dy = static_cast<float>(std::sin(ang));
  float span = std::fabs(dx) * size.width + std::fabs(dy) * size.height + 1.f;
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      float t = std::clamp(0.5f + ((x - 0.5f * size.width) * dx + (y - 0.5f * size.height) * dy) / span, 0.f, 1.f);
      for (int k = 0; k < 3; ++k) bg(y, x)[k] = static_cast<float>(c0[k] * (1 - t) + c1[k] * t);
    }
  const float s = static_cast<float>(std::max(size.width, size.height));
  const int shapes = rng.integer(4, 18);
  for (int i = 0; i < shapes; ++i) {
    cv::Mat3f layer = bg.clone();
    cv::Scalar col = random_colour(rng);
    cv::Point c(rng.integer(0, size.width - 1), rng.integer(0, size.height - 1));
    int r = static_cast<int>(s * rng.uniform(0.03, 0.35));
    switch (rng.integer(0, 3)) {
      case 0:
        cv::rectangle(layer, cv::Rect(c.x - r, c.y - r / 2, 2 * r, r + rng.integer(0, r)), col, cv::FILLED);
        break;
      case 1: cv::circle(layer, c, r, col, cv::FILLED); break;
      case 2:
        cv::line(layer, c, cv::Point(rng.integer(0, size.width - 1), rng.integer(0, size.height - 1)), col,
                 std::max(1, static_cast<int>(s * rng.uniform(0.005, 0.04))));
        break;
      default: {
        std::vector<cv::Point> poly;
        for (int k = 0; k < rng.integer(3, 6); ++k)
          poly.emplace_back(c.x + rng.integer(-r, r), c.y + rng.integer(-r, r));
        cv::fillPoly(layer, std::vector<std::vector<cv::Point>>{poly}, col);
      }
    }
    float alpha = static_cast<float>(rng.uniform(0.4, 1.0));
    float blur = static_cast<float>(rng.uniform(0.0, 0.01) * s);
    soft(layer, blur);
    cv::addWeighted(bg, 1.0 - alpha, layer, alpha, 0.0, bg);
  }
  cv::Mat1f tex = value_noise(size, std::max(2.f, static_cast<float>(s * rng.uniform(0.005, 0.05))), rng.next());
  modulate(bg, tex, static_cast<float>(rng.uniform(0.0, 0.12)));
  soft(bg, static_cast<float>(rng.uniform(0.0, 0.006) * s));
  return bg;
}

void add_occluder(cv::Mat3f& canvas, const cv::Rect2f& box, Rng& rng) {
  // Cover 10-30% of the face box at one of its sides or its lower half
  // (a hand, a cup, a microphone), never its centre from edge to edge.
  const float area = box.area() * static_cast<float>(rng.uniform(0.1, 0.3));
  const float aspect = static_cast<float>(rng.uniform(0.5, 2.0));
  const float w = std::sqrt(area * aspect), h = area / w;
  cv::Point2f centre;
  switch (rng.integer(0, 3)) {
    case 0: centre = {box.x, box.y + box.height * static_cast<float>(rng.uniform(0.3, 0.9))}; break;
    case 1: centre = {box.x + box.width, box.y + box.height * static_cast<float>(rng.uniform(0.3, 0.9))}; break;
    case 2: centre = {box.x + box.width * static_cast<float>(rng.uniform(0.2, 0.8)), box.y + box.height}; break;
    default: centre = {box.x + box.width * static_cast<float>(rng.uniform(0.3, 0.7)), box.y + box.height * 0.85f};
  }
  cv::Mat1f mask(canvas.size(), 0.f);
  if (rng.chance(0.5))
    fill_ellipse(mask, centre, cv::Size2f(0.5f * w, 0.5f * h), static_cast<float>(rng.uniform(0, 180)));
  else
    fill_polygon(mask, {centre + cv::Point2f(-w / 2, -h / 2), centre + cv::Point2f(w / 2, -h / 2),
                        centre + cv::Point2f(w / 2, h / 2), centre + cv::Point2f(-w / 2, h / 2)});
  cv::Scalar col = random_colour(rng);
  cv::Mat3f layer(canvas.size(),
                  cv::Vec3f(static_cast<float>(col[0]), static_cast<float>(col[1]), static_cast<float>(col[2])));
  cv::Mat1f tex = value_noise(canvas.size(), std::max(2.f, 0.05f * w), rng.next());
  modulate(layer, tex, 0.2f);
  soft(mask, 1.f);
  blend_image(canvas, mask, layer);
}

std::string apply_camera_effects(cv::Mat& img, Rng& rng, const SceneOptions& o) {
  std::string applied;
  auto note = [&](const char* what) {
    if (!applied.empty()) applied += ',';
    applied += what;
  };
  Rng r = rng;  // fixed draw count per effect, whatever is applied
  const bool blur = r.chance(o.blur_probability);
  const double blur_sigma = r.uniform(0.4, 1.4);
  const bool lowres = r.chance(o.lowres_probability);
  const double factor = r.uniform(0.35, 0.8);
  const bool noise = r.chance(o.noise_probability);
  const double noise_sd = r.uniform(2.0, 9.0);
  const bool jpeg = r.chance(o.jpeg_probability);
  const int quality = r.integer(25, 90);
  const std::uint64_t noise_seed = r.next();
  if (blur) {
    cv::GaussianBlur(img, img, cv::Size(0, 0), blur_sigma);
    note("blur");
  }
  if (lowres) {
    cv::Mat small;
    cv::resize(img, small, cv::Size(), factor, factor, cv::INTER_AREA);
    cv::resize(small, img, img.size(), 0, 0, cv::INTER_LINEAR);
    note("lowres");
  }
  if (noise) {
    Rng nr(noise_seed);
    for (int y = 0; y < img.rows; ++y) {
      auto* p = img.ptr<cv::Vec3b>(y);
      for (int x = 0; x < img.cols; ++x) {
        float n = static_cast<float>(nr.normal(0.0, noise_sd));
        for (int k = 0; k < 3; ++k) p[x][k] = cv::saturate_cast<uchar>(p[x][k] + n * (0.8f + 0.1f * k));
      }
    }
    note("noise");
  }
  if (jpeg) {
    std::vector<uchar> buf;
    cv::imencode(".jpg", img, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
    img = cv::imdecode(buf, cv::IMREAD_COLOR);
    note("jpeg");
  }
  return applied;
}

Sample render_sample(std::uint64_t seed, std::int64_t index, const SynthIdentity& who, const SceneOptions& o,
                     const ExpressionRules& rules) {
  validate(o);
  Rng rng(mix_seed(seed, static_cast<std::uint64_t>(index)));
  Rng expr_rng = rng.fork(1), pose_rng = rng.fork(2), light_rng = rng.fork(3), bg_rng = rng.fork(4),
      occ_rng = rng.fork(5), cam_rng = rng.fork(6);
  Sample s;
  s.expression = sample_expression(expr_rng, rules);
  const int ss = o.supersample;
  const float size = static_cast<float>(o.size);
  s.pose.yaw = static_cast<float>(pose_angle(pose_rng, o.max_abs_yaw));
  s.pose.pitch = static_cast<float>(pose_angle(pose_rng, o.max_abs_pitch));
  s.pose.roll = static_cast<float>(pose_angle(pose_rng, o.max_abs_roll));
  s.pose.scale = static_cast<float>(pose_rng.uniform(o.min_face_width, o.max_face_width)) * size / 0.9f;
  s.pose.centre = cv::Point2f(size * static_cast<float>(0.5 + pose_rng.uniform(-0.08, 0.08)),
                              size * static_cast<float>(0.5 + pose_rng.uniform(-0.06, 0.08)));
  FaceInstance face;
  face.identity = &who;
  face.aus = s.expression.aus;
  face.pose = s.pose;
  face.gaze = cv::Point2f(static_cast<float>(pose_rng.normal_clipped(0, 0.05, -0.12, 0.12)),
                          static_cast<float>(pose_rng.normal_clipped(0, 0.03, -0.06, 0.06)));
  Lighting light = sample_lighting(light_rng);
  cv::Mat3f canvas = make_background(cv::Size(o.size * ss, o.size * ss), bg_rng);
  s.face = draw_face(canvas, ss, face, light);
  if (occ_rng.chance(o.occlusion_probability)) {
    const cv::Rect2f& b = s.face.box;
    add_occluder(canvas, cv::Rect2f(b.x * ss, b.y * ss, b.width * ss, b.height * ss), occ_rng);
    s.occluded = true;
  }
  cv::Mat3f out;
  cv::resize(canvas, out, cv::Size(o.size, o.size), 0, 0, cv::INTER_AREA);
  // Exposure and the scene's white balance.
  const float gain = static_cast<float>(cam_rng.uniform(0.8, 1.12));
  const cv::Vec3f wb(static_cast<float>(cam_rng.uniform(0.93, 1.07)), 1.f,
                     static_cast<float>(cam_rng.uniform(0.93, 1.07)));
  out.forEach([&](cv::Vec3f& p, const int*) { p = p.mul(wb) * gain; });
  out.convertTo(s.image, CV_8UC3, 255.0);
  s.effects = apply_camera_effects(s.image, cam_rng, o);
  return s;
}

}  // namespace hicomex::synth
