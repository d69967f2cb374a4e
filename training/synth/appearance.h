// Identity appearance: skin, hair, eyes, age, facial hair, and the synthetic
// identity that bundles them with a face shape.
#pragma once
#include <cstdint>
#include <string>

#include <opencv2/core/matx.hpp>

#include "face_model.h"
#include "synth_rng.h"

namespace hicomex::synth {

enum class HairStyle { Bald, Short, Medium, Long, Fringe };
enum class FacialHair { None, Stubble, Moustache, Beard };

const char* to_string(HairStyle s);
const char* to_string(FacialHair f);

/// Colours are BGR albedo in [0, 1].
struct Appearance {
  float skin_tone = 0.3f;  ///< 0 = very light ... 1 = very dark (sampled over the full range)
  cv::Vec3f skin{0.7f, 0.75f, 0.9f};
  cv::Vec3f lips{0.5f, 0.45f, 0.75f};
  cv::Vec3f hair{0.1f, 0.1f, 0.1f};
  cv::Vec3f brows{0.1f, 0.1f, 0.1f};
  cv::Vec3f iris{0.1f, 0.2f, 0.35f};
  cv::Vec3f clothes{0.4f, 0.4f, 0.4f};
  cv::Vec3f sclera{0.9f, 0.92f, 0.95f};
  HairStyle hair_style = HairStyle::Short;
  float hair_volume = 0.05f;  ///< model units the hair stands off the skull
  FacialHair facial_hair = FacialHair::None;
  float facial_hair_density = 0.f;  ///< 0..1
  float age = 0.2f;                 ///< 0 young ... 1 old: static lines, eye bags, grey hair
  float brow_thickness = 0.03f;     ///< model units
  float skin_texture = 0.03f;       ///< amplitude of pore/blotch noise
  float blush = 0.05f;              ///< redness of the cheeks
  float lash_strength = 0.7f;
  std::uint64_t texture_seed = 0;  ///< seeds the skin, hair and wrinkle textures
};

Appearance sample_appearance(Rng& rng);

/// One synthetic person: the unit of subject-exclusive splits.
struct SynthIdentity {
  int id = 0;
  std::string subject;  ///< "syn0042"
  ShapeParams shape;
  Appearance look;
};

/// The identity `id` of a dataset seeded with `seed` (independent of any other identity).
SynthIdentity make_identity(std::uint64_t seed, int id);

}  // namespace hicomex::synth
