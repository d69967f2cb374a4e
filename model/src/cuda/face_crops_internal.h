// Host-side preparation shared by the CPU reference and the CUDA wrapper
// (face_crops_cpu.cpp defines it; plain C++, so nvcc can include this header).
#pragma once
#include <cstddef>

#include "cuda/face_crops_sampling.h"
#include "hicomex/face_crops.h"

namespace hicomex {
namespace detail {

/// Validates the frame (validate_image_view; for a device frame only the
/// pointers' nullness and the strides can be checked) and copies its planes.
FramePlanes frame_planes(const ImageView& frame, const char* caller);

/// Validates the geometry and the transforms and turns each into the crop ->
/// source map. Throws std::invalid_argument naming `caller` and the face index.
void crop_maps(const FaceTransform* faces, int n, const FaceCropGeometry& geometry, CropMap* out, const char* caller);

/// Rows and bytes per row of plane `p` of the frame (0 rows for absent planes).
void plane_extent(const ImageView& frame, int p, int* rows, std::size_t* row_bytes);

}  // namespace detail
}  // namespace hicomex
