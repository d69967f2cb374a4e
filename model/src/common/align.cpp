// Face alignment, crops and normalisation (hicomex/align.h), JAA-Net convention.
#include "hicomex/align.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>

#include "hicomex/landmarks.h"

namespace hicomex {
namespace {

// JAA-Net's box_enlarge: the face box is 2.9 times the eye/nose/mouth box.
constexpr double kBoxEnlarge = 2.9;

void require_finite(const std::vector<cv::Point2f>& pts, const char* what) {
  for (std::size_t i = 0; i < pts.size(); ++i)
    if (!std::isfinite(pts[i].x) || !std::isfinite(pts[i].y))
      throw std::invalid_argument(std::string(what) + ": landmark " + std::to_string(i) + " is not finite");
}

}  // namespace

// The eye line is levelled first and the box of the five points is taken in
// that rotated frame, as JAA-Net's align_face_49pts does (rotate the points,
// then min/max): the box, and so the scale, does not depend on the head roll.
cv::Matx23d alignment_transform49(const std::vector<cv::Point2f>& pts49, int out_size) {
  if (pts49.size() != static_cast<std::size_t>(kLandmarks49))
    throw std::invalid_argument("alignment_transform49: expected 49 landmarks, got " + std::to_string(pts49.size()));
  if (out_size < 2)
    throw std::invalid_argument("alignment_transform49: out_size " + std::to_string(out_size) + " must be at least 2");
  require_finite(pts49, "alignment_transform49");

  const cv::Point2d le(left_eye_centre49(pts49)), re(right_eye_centre49(pts49));
  const double dx = re.x - le.x, dy = re.y - le.y;
  const double eye_dist = std::hypot(dx, dy);
  if (!(eye_dist > 1e-6)) throw std::invalid_argument("alignment_transform49: the two eye centres coincide");
  const double c = dx / eye_dist, s = dy / eye_dist;
  // Rotation by minus the eye-line angle: the right eye ends up level with the left.
  const auto rotate = [c, s](const cv::Point2d& p) { return cv::Point2d(c * p.x + s * p.y, -s * p.x + c * p.y); };

  const cv::Point2d five[] = {le, re, cv::Point2d(pts49[13]), cv::Point2d(pts49[31]), cv::Point2d(pts49[37])};
  double min_x = 1e300, min_y = 1e300, max_x = -1e300, max_y = -1e300;
  for (const cv::Point2d& p : five) {
    const cv::Point2d r = rotate(p);
    min_x = std::min(min_x, r.x);
    max_x = std::max(max_x, r.x);
    min_y = std::min(min_y, r.y);
    max_y = std::max(max_y, r.y);
  }
  const double half = 0.5 * kBoxEnlarge * std::max(max_x - min_x, max_y - min_y);
  const double cx = 0.5 * (min_x + max_x), cy = 0.5 * (min_y + max_y);
  const double scale = (out_size - 1) / 2.0 / half;
  // out = scale * (R p - centre) + (out_size - 1) / 2
  const double centre_out = (out_size - 1) / 2.0;
  return cv::Matx23d(scale * c, scale * s, centre_out - scale * cx, -scale * s, scale * c, centre_out - scale * cy);
}

AlignedFace align_face(const cv::Mat& image, const std::vector<cv::Point2f>& pts49, int out_size) {
  if (image.empty()) throw std::invalid_argument("align_face: the image is empty");
  if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    throw std::invalid_argument("align_face: the image must be 8-bit with 1, 3 or 4 channels, got " +
                                cv::typeToString(image.type()));
  AlignedFace face;
  face.transform = alignment_transform49(pts49, out_size);
  cv::warpAffine(image, face.image, cv::Mat(face.transform), cv::Size(out_size, out_size), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(128));
  face.landmarks = transform_points(pts49, face.transform);
  return face;
}

std::vector<cv::Point2f> transform_points(const std::vector<cv::Point2f>& pts, const cv::Matx23d& m) {
  std::vector<cv::Point2f> out(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const double x = pts[i].x, y = pts[i].y;
    out[i] = cv::Point2f(static_cast<float>(m(0, 0) * x + m(0, 1) * y + m(0, 2)),
                         static_cast<float>(m(1, 0) * x + m(1, 1) * y + m(1, 2)));
  }
  return out;
}

cv::Matx23d invert_transform(const cv::Matx23d& m) {
  const double det = m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0);
  if (!(std::abs(det) > 1e-12) || !std::isfinite(det))
    throw std::invalid_argument("invert_transform: the 2x2 part is singular (det " + std::to_string(det) + ")");
  const double a = m(1, 1) / det, b = -m(0, 1) / det;
  const double c = -m(1, 0) / det, d = m(0, 0) / det;
  return cv::Matx23d(a, b, -(a * m(0, 2) + b * m(1, 2)), c, d, -(c * m(0, 2) + d * m(1, 2)));
}

int centre_crop_offset(int aligned, int crop) {
  if (crop <= 0 || crop > aligned)
    throw std::invalid_argument("centre_crop_offset: crop " + std::to_string(crop) + " must be in 1.." +
                                std::to_string(aligned) + " (the aligned size)");
  return (aligned - crop) / 2;
}

void normalise_rgb_to_chw(const cv::Mat& rgb_crop, float* out) {
  if (out == nullptr) throw std::invalid_argument("normalise_rgb_to_chw: out is null");
  if (rgb_crop.empty() || rgb_crop.type() != CV_8UC3)
    throw std::invalid_argument("normalise_rgb_to_chw: expected a non-empty CV_8UC3 crop, got " +
                                cv::typeToString(rgb_crop.type()) + " " + std::to_string(rgb_crop.cols) + "x" +
                                std::to_string(rgb_crop.rows));
  // (v / 255 - 0.5) / 0.5 = v * (2 / 255) - 1
  const float k = 2.f / 255.f;
  const std::size_t plane = static_cast<std::size_t>(rgb_crop.rows) * rgb_crop.cols;
  float* r = out;
  float* g = out + plane;
  float* b = out + 2 * plane;
  for (int y = 0; y < rgb_crop.rows; ++y) {
    const std::uint8_t* row = rgb_crop.ptr<std::uint8_t>(y);
    for (int x = 0; x < rgb_crop.cols; ++x, row += 3) {
      *r++ = row[0] * k - 1.f;
      *g++ = row[1] * k - 1.f;
      *b++ = row[2] * k - 1.f;
    }
  }
}

}  // namespace hicomex
