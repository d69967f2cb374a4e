// Drawing helpers. OpenCV anti-aliases only 8-bit drawing, so masks are drawn
// into 8-bit scratch images and converted to float.
#include "render_util.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "synth_rng.h"

namespace hicomex::synth {
namespace {

constexpr int kShift = 4;
constexpr float kOne = 16.f;

cv::Point fixed(const cv::Point2f& p) {
  return cv::Point(static_cast<int>(std::lround(p.x * kOne)), static_cast<int>(std::lround(p.y * kOne)));
}

void max_into(cv::Mat1f& mask, const cv::Mat1b& drawn, float value) {
  for (int y = 0; y < mask.rows; ++y) {
    float* m = mask.ptr<float>(y);
    const uchar* d = drawn.ptr<uchar>(y);
    for (int x = 0; x < mask.cols; ++x)
      if (d[x]) m[x] = std::max(m[x], value * (d[x] / 255.f));
  }
}

}  // namespace

std::vector<cv::Point2f> spline(const std::vector<cv::Point2f>& pts, int steps, bool closed) {
  const int n = static_cast<int>(pts.size());
  if (n < 2) return pts;
  auto at = [&](int i) {
    if (closed) return pts[(i % n + n) % n];
    return pts[std::clamp(i, 0, n - 1)];
  };
  std::vector<cv::Point2f> out;
  const int segs = closed ? n : n - 1;
  for (int s = 0; s < segs; ++s) {
    cv::Point2f p0 = at(s - 1), p1 = at(s), p2 = at(s + 1), p3 = at(s + 2);
    for (int k = 0; k < steps; ++k) {
      float t = static_cast<float>(k) / steps, t2 = t * t, t3 = t2 * t;
      out.push_back(0.5f * ((2.f * p1) + (-p0 + p2) * t + (2.f * p0 - 5.f * p1 + 4.f * p2 - p3) * t2 +
                            (-p0 + 3.f * p1 - 3.f * p2 + p3) * t3));
    }
  }
  if (!closed) out.push_back(pts.back());
  return out;
}

std::vector<cv::Point2f> offset_curve(const std::vector<cv::Point2f>& c, const std::vector<float>& dist) {
  std::vector<cv::Point2f> out(c.size());
  const int n = static_cast<int>(c.size());
  for (int i = 0; i < n; ++i) {
    cv::Point2f t = c[std::min(i + 1, n - 1)] - c[std::max(i - 1, 0)];
    float len = std::hypot(t.x, t.y);
    cv::Point2f nrm = len > 1e-6f ? cv::Point2f(-t.y / len, t.x / len) : cv::Point2f(0, 1);
    float d = dist.empty() ? 0.f : dist[std::min<size_t>(i, dist.size() - 1)];
    out[i] = c[i] + nrm * d;
  }
  return out;
}

void fill_polygon(cv::Mat1f& mask, const std::vector<cv::Point2f>& poly, float value) {
  if (poly.size() < 3) return;
  cv::Mat1b tmp(mask.size(), uchar(0));
  std::vector<cv::Point> p;
  p.reserve(poly.size());
  for (auto& q : poly) p.push_back(fixed(q));
  const cv::Point* pp = p.data();
  int np = static_cast<int>(p.size());
  cv::fillPoly(tmp, &pp, &np, 1, cv::Scalar(255), cv::LINE_AA, kShift);
  max_into(mask, tmp, value);
}

void draw_polyline(cv::Mat1f& mask, const std::vector<cv::Point2f>& pts, float thickness, float value, bool closed) {
  if (pts.size() < 2) return;
  cv::Mat1b tmp(mask.size(), uchar(0));
  std::vector<cv::Point> p;
  for (auto& q : pts) p.push_back(fixed(q));
  int th = std::max(1, static_cast<int>(std::lround(thickness)));
  cv::polylines(tmp, p, closed, cv::Scalar(255), th, cv::LINE_AA, kShift);
  if (thickness < 1.f) tmp *= thickness;
  max_into(mask, tmp, value);
}

void fill_ellipse(cv::Mat1f& mask, cv::Point2f centre, cv::Size2f axes, float angle_deg, float value) {
  if (axes.width <= 0.f || axes.height <= 0.f) return;
  cv::Mat1b tmp(mask.size(), uchar(0));
  cv::ellipse(tmp, fixed(centre), cv::Size(static_cast<int>(axes.width * kOne), static_cast<int>(axes.height * kOne)),
              angle_deg, 0, 360, cv::Scalar(255), cv::FILLED, cv::LINE_AA, kShift);
  max_into(mask, tmp, value);
}

void blend_colour(cv::Mat3f& dst, const cv::Mat1f& alpha, const cv::Vec3f& colour) {
  for (int y = 0; y < dst.rows; ++y) {
    cv::Vec3f* d = dst.ptr<cv::Vec3f>(y);
    const float* a = alpha.ptr<float>(y);
    for (int x = 0; x < dst.cols; ++x) {
      float t = std::clamp(a[x], 0.f, 1.f);
      if (t > 0.f) d[x] = d[x] * (1.f - t) + colour * t;
    }
  }
}

void blend_image(cv::Mat3f& dst, const cv::Mat1f& alpha, const cv::Mat3f& src) {
  for (int y = 0; y < dst.rows; ++y) {
    cv::Vec3f* d = dst.ptr<cv::Vec3f>(y);
    const cv::Vec3f* s = src.ptr<cv::Vec3f>(y);
    const float* a = alpha.ptr<float>(y);
    for (int x = 0; x < dst.cols; ++x) {
      float t = std::clamp(a[x], 0.f, 1.f);
      if (t > 0.f) d[x] = d[x] * (1.f - t) + s[x] * t;
    }
  }
}

void modulate(cv::Mat3f& dst, const cv::Mat1f& m, float gain) {
  for (int y = 0; y < dst.rows; ++y) {
    cv::Vec3f* d = dst.ptr<cv::Vec3f>(y);
    const float* a = m.ptr<float>(y);
    for (int x = 0; x < dst.cols; ++x)
      if (a[x] != 0.f) d[x] *= std::max(0.f, 1.f + gain * a[x]);
  }
}

void soft(cv::Mat& m, float sigma) {
  if (sigma <= 0.05f || m.empty()) return;
  cv::GaussianBlur(m, m, cv::Size(0, 0), sigma, sigma, cv::BORDER_REPLICATE);
}

cv::Mat1f value_noise(cv::Size size, float cell, std::uint64_t seed) {
  Rng rng(seed);
  const int ci = std::max(1, static_cast<int>(std::lround(cell)));
  const int gw = (size.width + ci - 1) / ci + 2, gh = (size.height + ci - 1) / ci + 2;
  cv::Mat1f grid(gh, gw);
  for (int y = 0; y < gh; ++y)
    for (int x = 0; x < gw; ++x) grid(y, x) = static_cast<float>(rng.uniform(-1.0, 1.0));
  cv::Mat1f out;
  cv::resize(grid, out, cv::Size(gw * ci, gh * ci), 0, 0, cv::INTER_CUBIC);
  return out(cv::Rect(0, 0, size.width, size.height)).clone();
}

}  // namespace hicomex::synth
