// Drawing helpers for the face renderer: smooth curves, anti-aliased float
// masks and blending on BGR float images in [0, 1].
#pragma once
#include <vector>

#include <opencv2/core.hpp>

namespace hicomex::synth {

/// Catmull-Rom curve through `pts` with `steps` samples per segment.
std::vector<cv::Point2f> spline(const std::vector<cv::Point2f>& pts, int steps, bool closed = false);

/// Offsets each point of an open curve along its normal (rotated tangent, +90
/// degrees: for a curve running left to right, positive = down).
std::vector<cv::Point2f> offset_curve(const std::vector<cv::Point2f>& curve, const std::vector<float>& dist);

/// Filled polygon as an anti-aliased mask (0..1) of `size`, ORed into `mask`
/// at `value`.
void fill_polygon(cv::Mat1f& mask, const std::vector<cv::Point2f>& poly, float value = 1.f);
/// Anti-aliased polyline of `thickness` pixels into `mask` at `value`.
void draw_polyline(cv::Mat1f& mask, const std::vector<cv::Point2f>& pts, float thickness, float value = 1.f,
                   bool closed = false);
void fill_ellipse(cv::Mat1f& mask, cv::Point2f centre, cv::Size2f axes, float angle_deg, float value = 1.f);

/// dst = dst * (1 - alpha) + colour * alpha, alpha clamped to [0, 1].
void blend_colour(cv::Mat3f& dst, const cv::Mat1f& alpha, const cv::Vec3f& colour);
/// dst = dst * (1 - alpha) + src * alpha.
void blend_image(cv::Mat3f& dst, const cv::Mat1f& alpha, const cv::Mat3f& src);
/// dst *= (1 + gain * m): darkens for negative gain, lightens for positive.
void modulate(cv::Mat3f& dst, const cv::Mat1f& m, float gain);

/// Gaussian blur that accepts sigma 0 (no-op) and keeps the size.
void soft(cv::Mat& m, float sigma);

/// Smooth value noise in [-1, 1] at a feature size of `cell` pixels.
cv::Mat1f value_noise(cv::Size size, float cell, std::uint64_t seed);

}  // namespace hicomex::synth
