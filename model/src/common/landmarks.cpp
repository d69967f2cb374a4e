// Landmark schemes and their mappings (hicomex/landmarks.h).
#include "hicomex/landmarks.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace hicomex {
namespace {

// The 49-point scheme in iBUG-68 terms: brows 17-26, nose 27-35, eyes 36-47,
// outer lips 48-59, inner lips 61-63 and 65-67 (no jaw, no inner-mouth corners).
std::array<int, kLandmarks49> make_from68() {
  std::array<int, kLandmarks49> idx{};
  int n = 0;
  for (int i = 17; i < kLandmarks68; ++i)
    if (i != 60 && i != 64) idx[n++] = i;
  return idx;
}

// DISFA's 66 points are the iBUG 68 without 60 and 64, so 61.. shift down by
// one and 65.. by two.
std::array<int, kLandmarks49> make_from66() {
  std::array<int, kLandmarks49> idx = make_from68();
  for (int& i : idx) i -= (i > 64) ? 2 : (i > 60) ? 1 : 0;
  return idx;
}

std::vector<cv::Point2f> select(const std::vector<cv::Point2f>& pts, std::size_t expected,
                                const std::array<int, kLandmarks49>& idx, const char* what) {
  if (pts.size() != expected)
    throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(expected) + " landmarks, got " +
                                std::to_string(pts.size()));
  std::vector<cv::Point2f> out(kLandmarks49);
  for (int i = 0; i < kLandmarks49; ++i) out[i] = pts[idx[i]];
  return out;
}

void require49(const std::vector<cv::Point2f>& pts, const char* what) {
  if (pts.size() != static_cast<std::size_t>(kLandmarks49))
    throw std::invalid_argument(std::string(what) + ": expected 49 landmarks, got " + std::to_string(pts.size()));
}

cv::Point2f mean_of(const std::vector<cv::Point2f>& pts, int first, int last) {
  cv::Point2f sum(0.f, 0.f);
  for (int i = first; i <= last; ++i) sum += pts[i];
  return sum * (1.f / static_cast<float>(last - first + 1));
}

}  // namespace

const std::array<int, kLandmarks49>& landmarks49_from68_indices() {
  static const std::array<int, kLandmarks49> idx = make_from68();
  return idx;
}

const std::array<int, kLandmarks49>& landmarks49_from66_indices() {
  static const std::array<int, kLandmarks49> idx = make_from66();
  return idx;
}

std::vector<cv::Point2f> landmarks68_to_49(const std::vector<cv::Point2f>& pts68) {
  return select(pts68, kLandmarks68, landmarks49_from68_indices(), "landmarks68_to_49");
}

std::vector<cv::Point2f> landmarks66_to_49(const std::vector<cv::Point2f>& pts66) {
  return select(pts66, kLandmarks66, landmarks49_from66_indices(), "landmarks66_to_49");
}

const std::array<int, kLandmarks49>& flip_permutation49() {
  // JAA-Net's reflect_49 (1-based there): brows reverse, nose bridge stays,
  // nostrils reverse, eyes swap corner by corner, lips mirror about the middle.
  static const std::array<int, kLandmarks49> perm = [] {
    const int one_based[kLandmarks49] = {10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  11, 12, 13, 14, 19, 18, 17,
                                         16, 15, 29, 28, 27, 26, 31, 30, 23, 22, 21, 20, 25, 24, 38, 37, 36,
                                         35, 34, 33, 32, 43, 42, 41, 40, 39, 46, 45, 44, 49, 48, 47};
    std::array<int, kLandmarks49> p{};
    for (int i = 0; i < kLandmarks49; ++i) p[i] = one_based[i] - 1;
    return p;
  }();
  return perm;
}

const std::array<int, kLandmarks68>& flip_permutation68() {
  // The usual iBUG-68 mirror (as in dlib/300-W augmentation).
  static const std::array<int, kLandmarks68> perm = {16, 15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,
                                                     4,  3,  2,  1,  0,                       // jaw
                                                     26, 25, 24, 23, 22, 21, 20, 19, 18, 17,  // brows
                                                     27, 28, 29, 30,                          // nose bridge
                                                     35, 34, 33, 32, 31,                      // nostrils
                                                     45, 44, 43, 42, 47, 46,                  // left eye <- right eye
                                                     39, 38, 37, 36, 41, 40,                  // right eye <- left eye
                                                     54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,  // outer lips
                                                     64, 63, 62, 61, 60, 67, 66, 65};                 // inner lips
  return perm;
}

std::vector<cv::Point2f> flip_landmarks(const std::vector<cv::Point2f>& pts, int width) {
  const int* perm = nullptr;
  if (pts.size() == static_cast<std::size_t>(kLandmarks49))
    perm = flip_permutation49().data();
  else if (pts.size() == static_cast<std::size_t>(kLandmarks68))
    perm = flip_permutation68().data();
  else
    throw std::invalid_argument("flip_landmarks: expected 49 or 68 landmarks, got " + std::to_string(pts.size()));
  // x -> width - 1 - x matches cv::flip on pixel centres.
  const float mirror = static_cast<float>(width - 1);
  std::vector<cv::Point2f> out(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const cv::Point2f& p = pts[perm[i]];
    out[i] = cv::Point2f(mirror - p.x, p.y);
  }
  return out;
}

cv::Point2f left_eye_centre49(const std::vector<cv::Point2f>& pts49) {
  require49(pts49, "left_eye_centre49");
  return mean_of(pts49, 19, 24);
}

cv::Point2f right_eye_centre49(const std::vector<cv::Point2f>& pts49) {
  require49(pts49, "right_eye_centre49");
  return mean_of(pts49, 25, 30);
}

float inter_ocular49(const std::vector<cv::Point2f>& pts49) {
  const cv::Point2f d = right_eye_centre49(pts49) - left_eye_centre49(pts49);
  return std::hypot(d.x, d.y);
}

}  // namespace hicomex
