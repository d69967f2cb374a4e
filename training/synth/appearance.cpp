// Appearance sampling. Skin tones are drawn uniformly over a light-to-dark
// ramp so that every tone is as common as any other in the data.
#include "appearance.h"

#include <algorithm>
#include <cstdio>

namespace hicomex::synth {
namespace {

cv::Vec3f rgb(float r, float g, float b) { return cv::Vec3f(b / 255.f, g / 255.f, r / 255.f); }

cv::Vec3f lerp(const cv::Vec3f& a, const cv::Vec3f& b, float t) { return a + (b - a) * t; }

// Skin albedo ramp (RGB), from very light to very dark.
cv::Vec3f skin_ramp(float t) {
  static const cv::Vec3f ramp[] = {rgb(241, 206, 182), rgb(228, 185, 155), rgb(218, 168, 132),
                                   rgb(184, 128, 92),  rgb(132, 86, 58),   rgb(84, 54, 38)};
  const int n = 6;
  float x = std::clamp(t, 0.f, 1.f) * (n - 1);
  int i = std::min(static_cast<int>(x), n - 2);
  return lerp(ramp[i], ramp[i + 1], x - i);
}

cv::Vec3f jitter(Rng& rng, const cv::Vec3f& c, double sd) {
  cv::Vec3f out;
  for (int k = 0; k < 3; ++k) out[k] = std::clamp(c[k] * static_cast<float>(1.0 + rng.normal(0, sd)), 0.f, 1.f);
  return out;
}

}  // namespace

const char* to_string(HairStyle s) {
  switch (s) {
    case HairStyle::Bald: return "bald";
    case HairStyle::Short: return "short";
    case HairStyle::Medium: return "medium";
    case HairStyle::Long: return "long";
    case HairStyle::Fringe: return "fringe";
  }
  return "?";
}

const char* to_string(FacialHair f) {
  switch (f) {
    case FacialHair::None: return "none";
    case FacialHair::Stubble: return "stubble";
    case FacialHair::Moustache: return "moustache";
    case FacialHair::Beard: return "beard";
  }
  return "?";
}

Appearance sample_appearance(Rng& rng) {
  Appearance a;
  a.skin_tone = static_cast<float>(rng.uniform());
  cv::Vec3f skin = skin_ramp(a.skin_tone);
  // Undertone: a little more red (pink) or more yellow (olive).
  float under = static_cast<float>(rng.normal(0, 0.04));
  skin[2] *= 1.f + under;
  skin[0] *= 1.f - under;
  a.skin = jitter(rng, skin, 0.03);
  // Lips: redder and darker than the skin; on dark skin, browner.
  cv::Vec3f lip_tint = lerp(rgb(200, 110, 115), rgb(120, 70, 70), a.skin_tone);
  a.lips = jitter(rng, lerp(a.skin, lip_tint, static_cast<float>(rng.uniform(0.6, 0.9))), 0.05);
  a.age = static_cast<float>(std::clamp(rng.uniform() * rng.uniform(0.4, 1.3), 0.0, 1.0));
  // Hair colour: dark hair dominates, lighter shades mostly with lighter skin, grey with age.
  static const cv::Vec3f hair_colours[] = {rgb(22, 18, 16),   rgb(55, 38, 28),  rgb(95, 65, 42),
                                           rgb(170, 135, 90), rgb(130, 62, 34), rgb(140, 135, 130)};
  double light_hair = std::max(0.0, 0.45 - a.skin_tone);
  double r = rng.uniform();
  int hc;
  if (a.age > 0.7 && rng.chance(0.6))
    hc = 5;
  else if (r < 0.4)
    hc = 0;
  else if (r < 0.7)
    hc = 1;
  else if (r < 0.7 + 0.3 * (1.0 - light_hair))
    hc = 2;
  else
    hc = rng.chance(0.7) ? 3 : 4;
  a.hair = jitter(rng, hair_colours[hc], 0.08);
  a.brows = hc == 3 || hc == 5 ? a.hair * 0.7f : a.hair * 0.85f;
  static const cv::Vec3f irises[] = {rgb(55, 32, 18),  rgb(95, 58, 30),   rgb(120, 95, 50),
                                     rgb(85, 115, 75), rgb(85, 115, 160), rgb(110, 120, 130)};
  int ic = (a.skin_tone > 0.5 || rng.chance(0.55)) ? rng.integer(0, 1) : rng.integer(2, 5);
  a.iris = jitter(rng, irises[ic], 0.1);
  a.sclera = jitter(rng, rgb(238, 234, 230), 0.03);
  a.clothes = cv::Vec3f(static_cast<float>(rng.uniform(0.05, 0.9)), static_cast<float>(rng.uniform(0.05, 0.9)),
                        static_cast<float>(rng.uniform(0.05, 0.9)));
  double hs = rng.uniform();
  a.hair_style = hs < 0.06   ? HairStyle::Bald
                 : hs < 0.4  ? HairStyle::Short
                 : hs < 0.6  ? HairStyle::Medium
                 : hs < 0.85 ? HairStyle::Long
                             : HairStyle::Fringe;
  a.hair_volume = static_cast<float>(rng.uniform(0.02, 0.12));
  double fh = rng.uniform();
  a.facial_hair = fh < 0.72   ? FacialHair::None
                  : fh < 0.84 ? FacialHair::Stubble
                  : fh < 0.91 ? FacialHair::Moustache
                              : FacialHair::Beard;
  a.facial_hair_density = static_cast<float>(rng.uniform(0.3, 0.9));
  a.brow_thickness = static_cast<float>(rng.normal_clipped(0.03, 0.006, 0.018, 0.045));
  a.skin_texture = static_cast<float>(rng.uniform(0.01, 0.05));
  a.blush = static_cast<float>(rng.uniform(0.0, 0.12));
  a.lash_strength = static_cast<float>(rng.uniform(0.4, 1.0));
  a.texture_seed = rng.next();
  return a;
}

SynthIdentity make_identity(std::uint64_t seed, int id) {
  Rng rng(mix_seed(mix_seed(seed, 0x1D3A7), static_cast<std::uint64_t>(id)));
  SynthIdentity s;
  s.id = id;
  char name[32];
  std::snprintf(name, sizeof name, "syn%04d", id);
  s.subject = name;
  Rng shape_rng = rng.fork(1), look_rng = rng.fork(2);
  s.shape = sample_shape_params(shape_rng);
  s.look = sample_appearance(look_rng);
  return s;
}

}  // namespace hicomex::synth
