// Augmentation of aligned faces (see augment.h). Torch-free: the loader workers run it.
#include "training/augment.h"

#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "hicomex/align.h"
#include "hicomex/landmarks.h"

namespace hicomex::training {

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
double SplitMix64::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
int SplitMix64::uniform_int(int lo, int hi) {
  return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
}

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  SplitMix64 r(a);
  std::uint64_t h = r.next() ^ (b * 0xd1b54a32d192ed03ull);
  SplitMix64 r2(h);
  h = r2.next() ^ (c * 0x8cb92ba72f3d8dd7ull);
  return SplitMix64(h).next();
}

namespace {

/// Brightness, contrast, saturation (in that order) on an RGB 8-bit image.
void photometric_jitter(cv::Mat& rgb, double b, double c, double s) {
  cv::Mat f;
  rgb.convertTo(f, CV_32FC3, b);
  cv::Mat grey;
  cv::cvtColor(f, grey, cv::COLOR_RGB2GRAY);
  const double mean = cv::mean(grey)[0];
  f = (f - cv::Scalar::all(mean)) * c + cv::Scalar::all(mean);
  cv::cvtColor(f, grey, cv::COLOR_RGB2GRAY);  // per-pixel grey after contrast
  cv::Mat grey3;
  cv::cvtColor(grey, grey3, cv::COLOR_GRAY2RGB);
  f = grey3 + (f - grey3) * s;
  f.convertTo(rgb, CV_8UC3);  // saturates to 0..255 and rounds
}

}  // namespace

void rescale_aligned(const cv::Mat& aligned_rgb, const std::vector<cv::Point2f>& landmarks, int size, cv::Mat& out_rgb,
                     std::vector<cv::Point2f>& out_landmarks) {
  if (aligned_rgb.empty() || aligned_rgb.cols != aligned_rgb.rows || size < 2)
    throw std::invalid_argument("rescale_aligned: need a square aligned face and a size >= 2, got " +
                                std::to_string(aligned_rgb.cols) + "x" + std::to_string(aligned_rgb.rows) + " -> " +
                                std::to_string(size));
  const double from_c = (aligned_rgb.cols - 1) / 2.0, to_c = (size - 1) / 2.0;
  const double k = (size - 1.0) / (aligned_rgb.cols - 1.0);
  const cv::Matx23d m(k, 0, to_c - k * from_c, 0, k, to_c - k * from_c);
  // Linear, like align_face at inference, so both paths interpolate the same way.
  cv::warpAffine(aligned_rgb, out_rgb, cv::Mat(m), cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  out_landmarks = transform_points(landmarks, m);
}

AugmentedFace augment_face(const cv::Mat& aligned_in, const std::vector<cv::Point2f>& landmarks_in,
                           const AugmentOptions& o, std::uint64_t seed) {
  cv::Mat aligned_rgb = aligned_in;
  std::vector<cv::Point2f> landmarks49 = landmarks_in;
  if (o.aligned > 0 && !aligned_in.empty() && aligned_in.cols != o.aligned)
    rescale_aligned(aligned_in, landmarks_in, o.aligned, aligned_rgb, landmarks49);
  if (aligned_rgb.type() != CV_8UC3 || aligned_rgb.cols < o.crop || aligned_rgb.rows < o.crop)
    throw std::invalid_argument("augment_face: need an 8-bit RGB image of at least " + std::to_string(o.crop) + "x" +
                                std::to_string(o.crop) + ", got " + std::to_string(aligned_rgb.cols) + "x" +
                                std::to_string(aligned_rgb.rows));
  if (!landmarks49.empty() && landmarks49.size() != static_cast<std::size_t>(kLandmarks49))
    throw std::invalid_argument("augment_face: " + std::to_string(landmarks49.size()) + " landmarks, expected 49");
  SplitMix64 rng(seed);
  // Draw every number whatever the options, so one option does not shift the others.
  const int ox_r = rng.uniform_int(0, aligned_rgb.cols - o.crop);
  const int oy_r = rng.uniform_int(0, aligned_rgb.rows - o.crop);
  const bool flip_r = rng.uniform() < 0.5;
  const double b = rng.uniform(1.0 - o.brightness, 1.0 + o.brightness);
  const double c = rng.uniform(1.0 - o.contrast, 1.0 + o.contrast);
  const double s = rng.uniform(1.0 - o.saturation, 1.0 + o.saturation);

  AugmentedFace out;
  if (o.train) {
    out.offset_x = ox_r;
    out.offset_y = oy_r;
  } else {
    out.offset_x = (aligned_rgb.cols - o.crop) / 2;
    out.offset_y = (aligned_rgb.rows - o.crop) / 2;
  }
  out.rgb = aligned_rgb(cv::Rect(out.offset_x, out.offset_y, o.crop, o.crop)).clone();
  for (const auto& p : landmarks49) out.landmarks.emplace_back(p.x - float(out.offset_x), p.y - float(out.offset_y));
  out.flipped = o.train && o.flip && flip_r;
  if (out.flipped) {
    cv::flip(out.rgb, out.rgb, 1);
    if (!out.landmarks.empty()) out.landmarks = flip_landmarks(out.landmarks, o.crop);
  }
  if (o.train && (o.brightness > 0 || o.contrast > 0 || o.saturation > 0)) photometric_jitter(out.rgb, b, c, s);
  return out;
}

AugmentedFace augment_to_chw(const cv::Mat& aligned_rgb, const std::vector<cv::Point2f>& landmarks49,
                             const AugmentOptions& options, std::uint64_t seed, float* out) {
  auto face = augment_face(aligned_rgb, landmarks49, options, seed);
  normalise_rgb_to_chw(face.rgb, out);
  return face;
}

}  // namespace hicomex::training
