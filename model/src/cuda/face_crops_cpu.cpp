// CPU reference of the face-crop operation (hicomex/face_crops.h) and the host
// preparation the CUDA wrapper shares with it.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/face_crops_internal.h"
#include "hicomex/align.h"
#include "hicomex/face_crops.h"
#include "hicomex/image_convert.h"

namespace hicomex {

static_assert(FaceCropGeometry{}.aligned_size == kAlignedSize && FaceCropGeometry{}.crop_size == kCropSize,
              "FaceCropGeometry's defaults must be the network's input geometry (align.h)");

FaceTransform FaceTransform::from_row_major(const double* six) {
  if (six == nullptr) throw std::invalid_argument("FaceTransform::from_row_major: null pointer");
  FaceTransform t;
  for (int i = 0; i < 6; ++i) t.m[i] = six[i];
  return t;
}

namespace {

void check_geometry(const FaceCropGeometry& g, const char* caller) {
  if (g.aligned_size < 2 || g.crop_size < 1 || g.crop_size > g.aligned_size)
    throw std::invalid_argument(std::string(caller) + ": geometry aligned_size " + std::to_string(g.aligned_size) +
                                ", crop_size " + std::to_string(g.crop_size) +
                                " (need aligned_size >= 2 and 1 <= crop_size <= aligned_size)");
}

}  // namespace

std::size_t face_crop_floats(const FaceCropGeometry& geometry) {
  check_geometry(geometry, "face_crop_floats");
  return 3 * static_cast<std::size_t>(geometry.crop_size) * geometry.crop_size;
}

namespace detail {

FramePlanes frame_planes(const ImageView& frame, const char* caller) {
  try {
    validate_image_view(frame);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(caller) + ": " + e.what());
  }
  FramePlanes f{};
  for (int p = 0; p < 3; ++p) {
    f.plane[p] = frame.data[p];
    f.stride[p] = frame.stride[p];
  }
  f.width = frame.width;
  f.height = frame.height;
  f.format = frame.format;
  return f;
}

// The aligned pixel of crop pixel (u, v) is (u + o, v + o), o the centre-crop
// offset; the inverse transform is computed in double, then stored as float:
// positions in a 4K frame keep ~1/4000 pixel, far below the 8-bit rounding.
void crop_maps(const FaceTransform* faces, int n, const FaceCropGeometry& geometry, CropMap* out, const char* caller) {
  check_geometry(geometry, caller);
  if (n < 0) throw std::invalid_argument(std::string(caller) + ": negative face count " + std::to_string(n));
  if (n > 0 && (faces == nullptr || out == nullptr))
    throw std::invalid_argument(std::string(caller) + ": null transform array for " + std::to_string(n) + " faces");
  const double o = centre_crop_offset(geometry.aligned_size, geometry.crop_size);
  for (int i = 0; i < n; ++i) {
    const double* m = faces[i].m;
    bool finite = true;
    for (int k = 0; k < 6; ++k) finite = finite && std::isfinite(m[k]);
    const double det = m[0] * m[4] - m[1] * m[3];
    if (!finite || !(std::abs(det) > 1e-12))
      throw std::invalid_argument(std::string(caller) + ": transform of face " + std::to_string(i) +
                                  (finite ? " is not invertible (det " + std::to_string(det) + ")" : " is not finite"));
    const double a = m[4] / det, b = -m[1] / det, c = -m[3] / det, d = m[0] / det;
    const double tx = -(a * m[2] + b * m[5]), ty = -(c * m[2] + d * m[5]);
    // source = A (u + o, v + o) + t
    const double coeff[6] = {a, b, a * o + b * o + tx, c, d, c * o + d * o + ty};
    for (int k = 0; k < 6; ++k) out[i].m[k] = static_cast<float>(coeff[k]);
  }
}

void plane_extent(const ImageView& frame, int p, int* rows, std::size_t* row_bytes) {
  const int h = frame.height, w = frame.width, ch = (h + 1) / 2, cw = (w + 1) / 2;
  *rows = 0;
  *row_bytes = 0;
  switch (frame.format) {
    case PixelFormat::I420:
      *rows = p == 0 ? h : ch;
      *row_bytes = static_cast<std::size_t>(p == 0 ? w : cw);
      return;
    case PixelFormat::NV12:
      if (p > 1) return;
      *rows = p == 0 ? h : ch;
      *row_bytes = static_cast<std::size_t>(p == 0 ? w : 2 * cw);
      return;
    default:
      if (p > 0) return;
      *rows = h;
      const int bpp = (frame.format == PixelFormat::RGB || frame.format == PixelFormat::BGR) ? 3
                      : frame.format == PixelFormat::GRAY8                                   ? 1
                                                                                             : 4;
      *row_bytes = static_cast<std::size_t>(w) * bpp;
      return;
  }
}

}  // namespace detail

void crop_faces_cpu(const ImageView& frame, const FaceTransform* faces, int n, float* out,
                    const FaceCropGeometry& geometry) {
  const detail::FramePlanes planes = detail::frame_planes(frame, "crop_faces_cpu");
  std::vector<detail::CropMap> maps(static_cast<std::size_t>(std::max(n, 0)));
  detail::crop_maps(faces, n, geometry, maps.data(), "crop_faces_cpu");
  if (n > 0 && out == nullptr) throw std::invalid_argument("crop_faces_cpu: out is null");
  const int s = geometry.crop_size;
  const std::size_t per_face = face_crop_floats(geometry);
  for (int i = 0; i < n; ++i) {
    float* face_out = out + per_face * i;
    for (int v = 0; v < s; ++v)
      for (int u = 0; u < s; ++u) detail::crop_pixel(planes, maps[i], u, v, s, face_out);
  }
}

std::vector<float> crop_faces_cpu(const ImageView& frame, const std::vector<FaceTransform>& faces,
                                  const FaceCropGeometry& geometry) {
  std::vector<float> out(face_crop_floats(geometry) * faces.size());
  crop_faces_cpu(frame, faces.data(), static_cast<int>(faces.size()), out.data(), geometry);
  return out;
}

}  // namespace hicomex
