// The parametric face model: a mean 68-point iBUG shape lifted to 3D, extra
// skin vertices for shading, identity variation, and head pose projection.
//
// Model units: the face is about 0.9 units wide (jaw point 0 to 16), x to the
// image right, y down, z towards the camera; the nose tip is at z = 0.
#pragma once
#include <array>
#include <vector>

#include <opencv2/core/types.hpp>

#include "synth_rng.h"

namespace hicomex::synth {

constexpr int kLandmarkCount = 68;

/// Names for the extra vertices that follow the 68 landmarks in a face mesh.
/// The skull and hairline arcs run from the image-left side over the top.
struct ExtraVertices {
  static constexpr int kSkullArc = 68;  ///< 9 points, head silhouette above the jaw
  static constexpr int kSkullArcCount = 9;
  static constexpr int kHairline = 77;  ///< 7 points, forehead edge
  static constexpr int kHairlineCount = 7;
  static constexpr int kForehead = 84;  ///< centre; 85, 86 = sides
  static constexpr int kGlabella = 87;
  static constexpr int kTemples = 88;  ///< pairs: image-left first, then image-right
  static constexpr int kUnderEyes = 90;
  static constexpr int kCheekbones = 92;
  static constexpr int kCheeks = 94;
  static constexpr int kLateralCheeks = 96;
  static constexpr int kNoseSides = 98;
  static constexpr int kBesideNostrils = 100;
  static constexpr int kBesideMouth = 102;
  static constexpr int kJawInterior = 104;
  static constexpr int kBelowMouth = 106;
  static constexpr int kChin = 108;
  static constexpr int kPhiltrum = 109;
  static constexpr int kTotal = 110;  ///< vertex count of a face mesh
};

/// Mirror partner of each landmark (left/right swap, midline points map to themselves).
const std::array<int, kLandmarkCount>& mirror_landmarks();

/// The neutral mean face: 68 landmarks followed by the extra vertices.
const std::vector<cv::Point3f>& mean_face_vertices();
/// Triangles (vertex index triples) over mean_face_vertices(), from a Delaunay
/// triangulation of the frontal neutral face; valid for every deformed face.
const std::vector<std::array<int, 3>>& face_triangles();

/// Identity shape variation, in model units or as factors around 1.
struct ShapeParams {
  float face_width = 1.f;         ///< x scale of the whole face
  float face_length = 1.f;        ///< y scale of the lower face (below the eyes)
  float jaw_width = 1.f;          ///< extra x scale of the lower jaw, growing towards the chin
  float eye_size = 1.f;           ///< scale of each eye about its centre
  float eye_spacing = 0.f;        ///< added to each eye's distance from the midline
  float nose_length = 1.f;        ///< y scale of the nose below its root
  float nose_width = 1.f;         ///< x scale of the nostrils
  float mouth_width = 1.f;        ///< x scale of the mouth
  float mouth_shift = 0.f;        ///< vertical offset of the mouth
  float upper_lip = 1.f;          ///< thickness factor of the upper lip
  float lower_lip = 1.f;          ///< thickness factor of the lower lip
  float brow_height = 0.f;        ///< vertical offset of the brows (negative = higher)
  float brow_arch = 0.f;          ///< lift of the brow middle
  float forehead = 1.f;           ///< height factor of the forehead (hairline)
  float chin_length = 1.f;        ///< y factor of the chin below the mouth
  float nose_depth = 1.f;         ///< z factor of the nose
  std::uint64_t jitter_seed = 0;  ///< small per-point asymmetry
  float jitter = 0.004f;
};

ShapeParams sample_shape_params(Rng& rng);

/// The neutral face of an identity (landmarks + extra vertices, model units).
std::vector<cv::Point3f> identity_vertices(const ShapeParams& params);

/// Head pose and placement in an image.
struct Pose {
  float yaw = 0.f;               ///< degrees; positive turns the nose towards the image right
  float pitch = 0.f;             ///< degrees; positive tilts the chin down (nodding)
  float roll = 0.f;              ///< degrees; positive rotates clockwise in the image
  cv::Point2f centre{0.f, 0.f};  ///< image position of the model origin (mid-face)
  float scale = 100.f;           ///< pixels per model unit
};

/// Rotates the vertices about the head centre and projects them with a mild
/// perspective. Returns image x, y (pixels) and z (pixels, larger = nearer).
std::vector<cv::Point3f> project_vertices(const std::vector<cv::Point3f>& model, const Pose& pose);

}  // namespace hicomex::synth
