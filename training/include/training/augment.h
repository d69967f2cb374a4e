// Training-time augmentation of an aligned 200x200 face (docs/training.md, "Preprocessing and augmentation"):
// rescale to the model's aligned size when it is not 200, random 176 crop (centre
// crop at test), horizontal flip with the landmark permutation, photometric jitter.
// This is the ONE place where the trainer and the evaluator turn a cached face into
// a network input. Every random choice comes from a per-sample
// seed, so a sample looks the same whatever thread or run processes it.
#pragma once
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace hicomex::training {

/// Small portable RNG (splitmix64): same numbers on every platform and library,
/// unlike std::uniform_real_distribution.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();                      ///< [0, 1)
  double uniform(double lo, double hi);  ///< [lo, hi)
  int uniform_int(int lo, int hi);       ///< [lo, hi] inclusive

 private:
  std::uint64_t state_;
};

/// Mixes values into one seed (order matters).
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0);

struct AugmentOptions {
  bool train = true;  ///< false: centre crop, no flip, no jitter
  /// Side of the aligned face the model expects (HicomexOptions::aligned_size);
  /// a cached face of another side is first rescaled to it. 0 = use the face as given.
  int aligned = 0;
  int crop = 176;           ///< output side
  bool flip = true;         ///< random horizontal flip (p = 0.5) in training
  float brightness = 0.2f;  ///< factor in [1 - b, 1 + b]
  float contrast = 0.2f;    ///< factor in [1 - c, 1 + c] around the mean grey
  float saturation = 0.2f;  ///< factor in [1 - s, 1 + s] around each pixel's grey
};

struct AugmentedFace {
  cv::Mat rgb;                         ///< crop x crop, CV_8UC3, RGB
  std::vector<cv::Point2f> landmarks;  ///< 49 points in crop coordinates (empty if none given)
  int offset_x = 0, offset_y = 0;      ///< crop origin in the aligned face
  bool flipped = false;
};

/// Rescales an aligned face of side S (and its landmarks) to side `size` with the
/// transform align_face(image, pts, size) would have used instead of S: the face
/// centre (S - 1) / 2 maps to (size - 1) / 2 and distances scale by (size - 1) / (S - 1),
/// so a model trained on rescaled cache faces sees what inference's own alignment gives.
void rescale_aligned(const cv::Mat& aligned_rgb, const std::vector<cv::Point2f>& landmarks, int size, cv::Mat& out_rgb,
                     std::vector<cv::Point2f>& out_landmarks);

/// `aligned_rgb`: the aligned face (CV_8UC3, RGB, at least crop x crop after the
/// rescale to options.aligned); landmarks in its coordinates (49 points or empty).
/// Labels are not touched by any of this.
AugmentedFace augment_face(const cv::Mat& aligned_rgb, const std::vector<cv::Point2f>& landmarks49,
                           const AugmentOptions& options, std::uint64_t seed);

/// augment_face followed by hicomex::normalise_rgb_to_chw into out (3 * crop * crop floats).
AugmentedFace augment_to_chw(const cv::Mat& aligned_rgb, const std::vector<cv::Point2f>& landmarks49,
                             const AugmentOptions& options, std::uint64_t seed, float* out);

}  // namespace hicomex::training
