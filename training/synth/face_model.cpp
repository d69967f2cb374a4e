// Mean face, identity variation and pose projection.
#include "face_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

namespace hicomex::synth {
namespace {

// The landmark tables keep their layout by face region (not clang-formatted).
// clang-format off
// A mean 68-point iBUG shape in a [0,1] box (the dlib-derived mean face used
// for alignment templates). It is symmetrised and centred below.
constexpr float kTemplate[kLandmarkCount][2] = {
    {0.0792f, 0.3392f}, {0.0829f, 0.4570f}, {0.0968f, 0.5756f}, {0.1221f, 0.6919f},
    {0.1687f, 0.8003f}, {0.2398f, 0.8957f}, {0.3257f, 0.9771f}, {0.4223f, 1.0433f},
    {0.5318f, 1.0608f}, {0.6413f, 1.0398f}, {0.7381f, 0.9723f}, {0.8244f, 0.8896f},
    {0.8948f, 0.7925f}, {0.9394f, 0.6815f}, {0.9611f, 0.5622f}, {0.9706f, 0.4418f},
    {0.9712f, 0.3221f}, {0.1638f, 0.2492f}, {0.2178f, 0.2043f}, {0.2913f, 0.1924f},
    {0.3675f, 0.2036f}, {0.4393f, 0.2331f}, {0.5864f, 0.2281f}, {0.6602f, 0.1959f},
    {0.7375f, 0.1824f}, {0.8132f, 0.1928f}, {0.8708f, 0.2353f}, {0.5153f, 0.3186f},
    {0.5162f, 0.3962f}, {0.5171f, 0.4738f}, {0.5182f, 0.5532f}, {0.4337f, 0.6041f},
    {0.4755f, 0.6208f}, {0.5207f, 0.6343f}, {0.5659f, 0.6188f}, {0.6071f, 0.6016f},
    {0.2524f, 0.3311f}, {0.2987f, 0.3026f}, {0.3557f, 0.3030f}, {0.4037f, 0.3387f},
    {0.3525f, 0.3500f}, {0.2968f, 0.3505f}, {0.6313f, 0.3341f}, {0.6791f, 0.2965f},
    {0.7360f, 0.2947f}, {0.7829f, 0.3213f}, {0.7403f, 0.3418f}, {0.6850f, 0.3437f},
    {0.3532f, 0.7462f}, {0.4146f, 0.7191f}, {0.4777f, 0.7068f}, {0.5227f, 0.7171f},
    {0.5698f, 0.7054f}, {0.6352f, 0.7157f}, {0.6995f, 0.7394f}, {0.6394f, 0.8052f},
    {0.5764f, 0.8354f}, {0.5254f, 0.8417f}, {0.4764f, 0.8375f}, {0.4138f, 0.8100f},
    {0.3801f, 0.7500f}, {0.4780f, 0.7451f}, {0.5234f, 0.7489f}, {0.5711f, 0.7433f},
    {0.6724f, 0.7442f}, {0.5725f, 0.7766f}, {0.5235f, 0.7803f}, {0.4785f, 0.7761f}};

// Depth of each landmark (model units, nose tip 0), after the proportions of
// generic 3D head models used for pose estimation: eyes and mouth corners
// ~0.15 behind the nose tip, the jaw sides ~0.4.
constexpr float kDepth[kLandmarkCount] = {
    -0.42f, -0.40f, -0.36f, -0.31f, -0.25f, -0.19f, -0.13f, -0.09f, -0.075f,
    -0.09f, -0.13f, -0.19f, -0.25f, -0.31f, -0.36f, -0.40f, -0.42f,
    -0.24f, -0.17f, -0.12f, -0.10f, -0.10f, -0.10f, -0.10f, -0.12f, -0.17f, -0.24f,
    -0.13f, -0.09f, -0.05f, 0.0f,
    -0.10f, -0.07f, -0.05f, -0.07f, -0.10f,
    -0.19f, -0.145f, -0.14f, -0.15f, -0.15f, -0.155f,
    -0.15f, -0.14f, -0.145f, -0.19f, -0.155f, -0.15f,
    -0.14f, -0.10f, -0.07f, -0.065f, -0.07f, -0.10f, -0.14f,
    -0.10f, -0.08f, -0.075f, -0.08f, -0.10f,
    -0.13f, -0.09f, -0.08f, -0.09f, -0.13f, -0.09f, -0.085f, -0.09f};
// clang-format on

constexpr float kCentreY = 0.55f;

float template_centre_x() {
  const int mid[] = {8, 27, 28, 29, 30, 33, 51, 57, 62, 66};
  float s = 0.f;
  for (int i : mid) s += kTemplate[i][0];
  return s / 10.f;
}

void add_pair(std::vector<cv::Point3f>& v, float x, float y, float z) {
  v.emplace_back(-x, y, z);
  v.emplace_back(x, y, z);
}

// Extra skin vertices: skull silhouette, hairline, forehead, cheeks, chin.
void append_extra_vertices(std::vector<cv::Point3f>& v) {
  const float kPi = 3.14159265f;
  const float skull_angles[] = {175, 155, 135, 113, 90, 67, 45, 25, 5};
  for (float a : skull_angles) {
    float r = a * kPi / 180.f;
    v.emplace_back(0.47f * std::cos(r), -0.21f - 0.76f * std::sin(r), -0.50f);
  }
  const float hair_angles[] = {160, 135, 112, 90, 68, 45, 20};
  for (float a : hair_angles) {
    float r = a * kPi / 180.f;
    float c = std::cos(r);
    v.emplace_back(0.40f * c, -0.21f - 0.52f * std::sin(r), -0.18f - 0.16f * std::fabs(c));
  }
  v.emplace_back(0.f, -0.50f, -0.12f);  // forehead centre
  add_pair(v, 0.17f, -0.48f, -0.16f);   // forehead sides
  v.emplace_back(0.f, -0.33f, -0.10f);  // glabella
  add_pair(v, 0.38f, -0.33f, -0.33f);   // temples
  add_pair(v, 0.20f, -0.13f, -0.15f);   // under the eyes
  add_pair(v, 0.30f, -0.10f, -0.22f);   // cheekbones
  add_pair(v, 0.24f, 0.04f, -0.17f);    // cheeks
  add_pair(v, 0.36f, 0.02f, -0.28f);    // lateral cheeks
  add_pair(v, 0.07f, -0.10f, -0.10f);   // nose sidewalls
  add_pair(v, 0.10f, 0.00f, -0.13f);    // beside the nostrils
  add_pair(v, 0.25f, 0.20f, -0.20f);    // beside the mouth
  add_pair(v, 0.20f, 0.35f, -0.18f);    // jaw interior
  add_pair(v, 0.10f, 0.36f, -0.10f);    // below the mouth corners
  v.emplace_back(0.f, 0.42f, -0.065f);  // chin boss
  v.emplace_back(0.f, 0.12f, -0.055f);  // philtrum
}

std::vector<cv::Point3f> build_mean(bool closed_mouth) {
  const float cx = template_centre_x();
  const auto& mirror = mirror_landmarks();
  std::vector<cv::Point3f> v(kLandmarkCount);
  for (int i = 0; i < kLandmarkCount; ++i) {
    int m = mirror[i];
    // Symmetrise: average a point with its mirrored partner.
    float dx = 0.5f * ((kTemplate[i][0] - cx) - (kTemplate[m][0] - cx));
    float y = 0.5f * (kTemplate[i][1] + kTemplate[m][1]) - kCentreY;
    v[i] = cv::Point3f(dx, y, 0.5f * (kDepth[i] + kDepth[m]));
  }
  if (closed_mouth) {
    // Lips together: the inner lower lip meets the inner upper lip, and the
    // lower lip keeps a natural thickness.
    const int upper[] = {61, 62, 63}, lower[] = {67, 66, 65};
    for (int k = 0; k < 3; ++k) v[lower[k]].y = v[upper[k]].y;
    for (int i = 55; i <= 59; ++i) v[i].y -= 0.015f;
  }
  append_extra_vertices(v);
  return v;
}

}  // namespace

const std::array<int, kLandmarkCount>& mirror_landmarks() {
  static const std::array<int, kLandmarkCount> m = [] {
    std::array<int, kLandmarkCount> a{};
    for (int i = 0; i <= 16; ++i) a[i] = 16 - i;
    for (int i = 0; i < 5; ++i) {
      a[17 + i] = 26 - i;
      a[26 - i] = 17 + i;
    }
    for (int i = 27; i <= 30; ++i) a[i] = i;
    const int pairs[][2] = {{31, 35}, {32, 34}, {33, 33}, {36, 45}, {37, 44}, {38, 43}, {39, 42},
                            {40, 47}, {41, 46}, {48, 54}, {49, 53}, {50, 52}, {51, 51}, {55, 59},
                            {56, 58}, {57, 57}, {60, 64}, {61, 63}, {62, 62}, {65, 67}, {66, 66}};
    for (auto& p : pairs) {
      a[p[0]] = p[1];
      a[p[1]] = p[0];
    }
    return a;
  }();
  return m;
}

const std::vector<cv::Point3f>& mean_face_vertices() {
  static const std::vector<cv::Point3f> v = build_mean(true);
  return v;
}

const std::vector<std::array<int, 3>>& face_triangles() {
  static const std::vector<std::array<int, 3>> tris = [] {
    // Triangulate a face with a slightly open mouth so that the lips and the
    // mouth opening get their own triangles.
    std::vector<cv::Point3f> v = build_mean(false);
    cv::Rect2f bounds(-2.f, -2.f, 4.f, 4.f);
    cv::Subdiv2D sub(cv::Rect(-2000, -2000, 4000, 4000));
    for (auto& p : v) sub.insert(cv::Point2f(p.x * 1000.f, p.y * 1000.f));
    std::vector<cv::Vec6f> list;
    sub.getTriangleList(list);
    std::vector<std::array<int, 3>> out;
    for (const auto& t : list) {
      std::array<int, 3> idx{};
      bool ok = true;
      for (int k = 0; k < 3 && ok; ++k) {
        cv::Point2f q(t[2 * k] / 1000.f, t[2 * k + 1] / 1000.f);
        if (!bounds.contains(q)) {
          ok = false;
          break;
        }
        int best = -1;
        float best_d = 1e9f;
        for (size_t i = 0; i < v.size(); ++i) {
          float d = std::hypot(v[i].x - q.x, v[i].y - q.y);
          if (d < best_d) {
            best_d = d;
            best = static_cast<int>(i);
          }
        }
        if (best_d > 1e-3f) ok = false;
        idx[k] = best;
      }
      if (ok) out.push_back(idx);
    }
    if (out.empty()) throw std::logic_error("face_triangles: triangulation produced no triangles");
    return out;
  }();
  return tris;
}

ShapeParams sample_shape_params(Rng& rng) {
  ShapeParams p;
  p.face_width = static_cast<float>(rng.normal_clipped(1.0, 0.05, 0.88, 1.12));
  p.face_length = static_cast<float>(rng.normal_clipped(1.0, 0.05, 0.9, 1.12));
  p.jaw_width = static_cast<float>(rng.normal_clipped(1.0, 0.05, 0.88, 1.1));
  p.eye_size = static_cast<float>(rng.normal_clipped(1.0, 0.07, 0.85, 1.18));
  p.eye_spacing = static_cast<float>(rng.normal_clipped(0.0, 0.012, -0.025, 0.025));
  p.nose_length = static_cast<float>(rng.normal_clipped(1.0, 0.06, 0.88, 1.15));
  p.nose_width = static_cast<float>(rng.normal_clipped(1.0, 0.09, 0.8, 1.25));
  p.mouth_width = static_cast<float>(rng.normal_clipped(1.0, 0.06, 0.86, 1.15));
  p.mouth_shift = static_cast<float>(rng.normal_clipped(0.0, 0.01, -0.02, 0.02));
  p.upper_lip = static_cast<float>(rng.normal_clipped(1.0, 0.18, 0.6, 1.4));
  p.lower_lip = static_cast<float>(rng.normal_clipped(1.0, 0.15, 0.65, 1.35));
  p.brow_height = static_cast<float>(rng.normal_clipped(0.0, 0.012, -0.03, 0.03));
  p.brow_arch = static_cast<float>(rng.normal_clipped(0.005, 0.008, -0.01, 0.025));
  p.forehead = static_cast<float>(rng.normal_clipped(1.0, 0.07, 0.85, 1.15));
  p.chin_length = static_cast<float>(rng.normal_clipped(1.0, 0.07, 0.85, 1.15));
  p.nose_depth = static_cast<float>(rng.normal_clipped(1.0, 0.1, 0.8, 1.25));
  p.jitter_seed = rng.next();
  return p;
}

std::vector<cv::Point3f> identity_vertices(const ShapeParams& p) {
  std::vector<cv::Point3f> v = mean_face_vertices();
  // Eyes: scale about each eye centre, then move along x.
  for (int eye = 0; eye < 2; ++eye) {
    int first = eye == 0 ? 36 : 42;
    cv::Point3f c(0, 0, 0);
    for (int i = first; i < first + 6; ++i) c += v[i];
    c *= 1.f / 6.f;
    float side = eye == 0 ? -1.f : 1.f;
    for (int i = first; i < first + 6; ++i) {
      v[i].x = c.x + (v[i].x - c.x) * p.eye_size + side * p.eye_spacing;
      v[i].y = c.y + (v[i].y - c.y) * p.eye_size;
    }
  }
  // Brows: height and arch.
  for (int i = 17; i <= 26; ++i) {
    v[i].y += p.brow_height;
    int k = i <= 21 ? i - 17 : 26 - i;  // 0 = outer tail, 4 = inner head
    if (k == 2 || k == 3) v[i].y -= p.brow_arch;
    if (k == 1) v[i].y -= 0.6f * p.brow_arch;
  }
  // Nose: length below the root, nostril width, depth.
  const float root_y = v[27].y;
  for (int i = 28; i <= 35; ++i) v[i].y = root_y + (v[i].y - root_y) * p.nose_length;
  for (int i = 31; i <= 35; ++i) v[i].x *= p.nose_width;
  for (int i = 27; i <= 35; ++i) v[i].z = -0.13f + (v[i].z + 0.13f) * p.nose_depth;
  // Mouth: width, vertical position, lip thickness about the lip line.
  for (int i = 48; i <= 67; ++i) {
    v[i].x *= p.mouth_width;
    v[i].y += p.mouth_shift;
  }
  const int upper_outer[] = {49, 50, 51, 52, 53}, upper_inner[] = {61, 61, 62, 63, 63};
  for (int k = 0; k < 5; ++k)
    v[upper_outer[k]].y = v[upper_inner[k]].y + (v[upper_outer[k]].y - v[upper_inner[k]].y) * p.upper_lip;
  const int lower_outer[] = {55, 56, 57, 58, 59}, lower_inner[] = {65, 65, 66, 67, 67};
  for (int k = 0; k < 5; ++k)
    v[lower_outer[k]].y = v[lower_inner[k]].y + (v[lower_outer[k]].y - v[lower_inner[k]].y) * p.lower_lip;
  // Chin length below the mouth (jaw points near the chin and the chin vertices).
  const float mouth_y = v[57].y;
  for (size_t i = 0; i < v.size(); ++i) {
    bool chin = (i >= 5 && i <= 11) || (i >= ExtraVertices::kJawInterior && i <= ExtraVertices::kChin);
    if (chin && v[i].y > mouth_y) v[i].y = mouth_y + (v[i].y - mouth_y) * p.chin_length;
  }
  // Hairline height.
  for (int i = ExtraVertices::kHairline; i < ExtraVertices::kHairline + ExtraVertices::kHairlineCount; ++i)
    v[i].y = -0.21f + (v[i].y + 0.21f) * p.forehead;
  // Global proportions: lower-face length, jaw width growing towards the chin, face width.
  for (auto& q : v) {
    if (q.y > -0.2f) q.y = -0.2f + (q.y + 0.2f) * p.face_length;
    float w = std::clamp((q.y + 0.05f) / 0.5f, 0.f, 1.f);
    q.x *= p.face_width * (1.f + (p.jaw_width - 1.f) * w);
  }
  // Small asymmetry: no real face is a mirror image.
  Rng jr(p.jitter_seed);
  for (int i = 0; i < kLandmarkCount; ++i) {
    v[i].x += static_cast<float>(jr.normal(0.0, p.jitter));
    v[i].y += static_cast<float>(jr.normal(0.0, p.jitter));
  }
  // The neutral mouth stays closed: inner lips meet.
  const int upper[] = {61, 62, 63}, lower[] = {67, 66, 65};
  for (int k = 0; k < 3; ++k) v[lower[k]].y = v[upper[k]].y;
  return v;
}

std::vector<cv::Point3f> project_vertices(const std::vector<cv::Point3f>& model, const Pose& pose) {
  const float d2r = 3.14159265f / 180.f;
  const float cy = std::cos(pose.yaw * d2r), sy = std::sin(pose.yaw * d2r);
  const float cp = std::cos(pose.pitch * d2r), sp = std::sin(pose.pitch * d2r);
  const float cr = std::cos(pose.roll * d2r), sr = std::sin(pose.roll * d2r);
  // The head turns about a point behind the face, near the ears.
  const cv::Point3f pivot(0.f, 0.05f, -0.6f);
  const float camera_distance = 6.f;  // model units: a mild perspective
  std::vector<cv::Point3f> out;
  out.reserve(model.size());
  for (const auto& m : model) {
    cv::Point3f p = m - pivot;
    // yaw about y, then pitch about x, then roll about the view axis
    cv::Point3f a(p.x * cy + p.z * sy, p.y, -p.x * sy + p.z * cy);
    cv::Point3f b(a.x, a.y * cp + a.z * sp, -a.y * sp + a.z * cp);
    cv::Point3f c(b.x * cr - b.y * sr, b.x * sr + b.y * cr, b.z);
    c += pivot;
    float f = camera_distance / (camera_distance - c.z);
    out.emplace_back(pose.centre.x + pose.scale * c.x * f, pose.centre.y + pose.scale * c.y * f, pose.scale * c.z);
  }
  return out;
}

}  // namespace hicomex::synth
