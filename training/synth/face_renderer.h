// Draws a synthetic face (head, hair, ears, neck, shoulders) onto a canvas,
// lit by a directional light, and returns its exact 68-point ground truth.
#pragma once
#include <vector>

#include <opencv2/core.hpp>

#include "appearance.h"
#include "au_model.h"
#include "face_model.h"

namespace hicomex::synth {

/// A directional light in camera coordinates (x right, y down, z towards the
/// camera), pointing from the face to the light.
struct Lighting {
  cv::Vec3f direction{0.f, -0.3f, 1.f};
  float ambient = 0.45f;
  float diffuse = 0.6f;
  float specular = 0.06f;
  cv::Vec3f colour{1.f, 1.f, 1.f};  ///< BGR multiplier of the light
};

Lighting sample_lighting(Rng& rng);

/// One face to draw: who, what the face does, and where it is. Pose centre and
/// scale are in output pixels.
struct FaceInstance {
  const SynthIdentity* identity = nullptr;
  AuIntensities aus;
  Pose pose;
  cv::Point2f gaze{0.f, 0.f};  ///< iris offset as a fraction of the eye width
};

struct RenderedFace {
  std::vector<cv::Point2f> landmarks;  ///< 68 iBUG points, output pixels (pixel centres at integers)
  cv::Rect2f box;                      ///< tight box around the 68 landmarks, output pixels
};

/// The 68 landmarks of a face without drawing it (output pixels).
RenderedFace face_landmarks(const FaceInstance& face);

/// Draws `face` onto `canvas` (CV_32FC3, BGR in [0, 1]), which is `supersample`
/// times the output resolution; landmarks are returned in output pixels.
/// Throws std::invalid_argument for a null identity, a bad canvas or bad AUs.
RenderedFace draw_face(cv::Mat3f& canvas, int supersample, const FaceInstance& face, const Lighting& light);

}  // namespace hicomex::synth
