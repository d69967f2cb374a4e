// Whole synthetic images: background clutter, one face, occlusion, camera
// effects (lighting colour, blur, noise, resolution, JPEG).
#pragma once
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "expression_sampler.h"
#include "face_renderer.h"

namespace hicomex::synth {

struct SceneOptions {
  int size = 256;       ///< output width and height, pixels
  int supersample = 2;  ///< render at this multiple, then area-downsample
  double max_abs_yaw = 25.0, max_abs_pitch = 25.0, max_abs_roll = 25.0;  ///< degrees
  double min_face_width = 0.38, max_face_width = 0.62;                   ///< jaw width as a fraction of the image width
  double occlusion_probability = 0.2;
  double blur_probability = 0.3;
  double noise_probability = 0.5;
  double lowres_probability = 0.2;
  double jpeg_probability = 0.4;
};

/// Throws std::invalid_argument naming the option at fault.
void validate(const SceneOptions& o);

struct Sample {
  cv::Mat image;  ///< CV_8UC3, BGR
  Expression expression;
  RenderedFace face;
  Pose pose;
  bool occluded = false;
  std::string effects;  ///< camera effects applied, e.g. "blur,jpeg"
};

/// Renders sample `index` of identity `who`; depends only on (seed, index, who, options, rules).
Sample render_sample(std::uint64_t seed, std::int64_t index, const SynthIdentity& who, const SceneOptions& options,
                     const ExpressionRules& rules);

/// Background clutter at `size` (CV_32FC3, BGR in [0, 1]).
cv::Mat3f make_background(cv::Size size, Rng& rng);

/// Paints a random occluder over part of the face box (canvas pixels); never most of the face.
void add_occluder(cv::Mat3f& canvas, const cv::Rect2f& face_box, Rng& rng);

/// Camera effects on an 8-bit image, returning a comma-separated list of what was applied.
std::string apply_camera_effects(cv::Mat& bgr8, Rng& rng, const SceneOptions& o);

}  // namespace hicomex::synth
