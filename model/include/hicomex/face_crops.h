// Network input straight from a raw frame: for every face, the similarity-aligned
// face (JAA-Net convention, hicomex/align.h), its centre crop, normalised to the
// network's planar float layout. One operation, two implementations: a CPU
// reference (always built) and a fused CUDA kernel (built when nvcc is found,
// docs/gpu.md) that reads the frame's raw planes and writes every face's crop in
// one launch. Both share the per-pixel arithmetic, so they agree to the bit on the
// same machine arithmetic (tests/cuda).
//
// The result equals align_face + centre crop + normalise_rgb_to_chw on
// image_to_rgb(frame) up to the interpolation rounding of cv::warpAffine (which
// works in 1/32-pixel fixed point): bilinear, border grey 128, each channel
// rounded to 8 bits before the normalisation (v / 255 - 0.5) / 0.5, RGB order.
// I420 / NV12 are converted per tap with OpenCV's BT.601 limited-range integer
// formula, so pixel centres match image_to_rgb exactly.
//
// This header is std-only (no OpenCV, no LibTorch, no CUDA).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hicomex/image.h"

namespace hicomex {

/// A 2x3 image -> aligned similarity transform, row-major, as
/// alignment_transform49 returns it (cv::Matx23d::val has this layout:
/// `FaceTransform::from_row_major(m.val)`).
struct FaceTransform {
  double m[6] = {1, 0, 0, 0, 1, 0};
  static FaceTransform from_row_major(const double* six);
};

/// The face is aligned to aligned_size x aligned_size and the centred
/// crop_size x crop_size window of it is kept (200 and 176, kAlignedSize and
/// kCropSize of hicomex/align.h).
struct FaceCropGeometry {
  int aligned_size = 200;
  int crop_size = 176;
};

/// Floats per face: 3 * crop_size * crop_size (a [3, S, S] CHW block).
std::size_t face_crop_floats(const FaceCropGeometry& geometry = {});

/// CPU reference. Writes n crops to `out` ([n, 3, S, S] floats, face-major).
/// Throws std::invalid_argument naming the field at fault for an unreadable
/// frame (hicomex/image_convert.h validate_image_view), a bad geometry, a null
/// pointer, or a transform that is not finite or not invertible.
void crop_faces_cpu(const ImageView& frame, const FaceTransform* faces, int n, float* out,
                    const FaceCropGeometry& geometry = {});
std::vector<float> crop_faces_cpu(const ImageView& frame, const std::vector<FaceTransform>& faces,
                                  const FaceCropGeometry& geometry = {});

/// True when this libhicomex was compiled with the CUDA kernel (meson -Dcuda).
bool cuda_kernels_built();

/// True when the kernel is built, a CUDA driver is installed and at least one
/// device is visible. Never throws; safe on machines without a driver.
bool cuda_device_available();

/// Memory of CUDA device `device` (cudaMemGetInfo): bytes in use by every
/// process (CUDA contexts and caching allocators included) and in all.
/// False when no device is available. Never throws.
bool cuda_memory_info(int device, std::size_t& used_bytes, std::size_t& total_bytes);

/// The fused kernel. `device_frame` holds DEVICE plane pointers with their
/// strides (upload with CudaFrame, or pass a decoder's device surface);
/// `device_out` is a device buffer of n * face_crop_floats(geometry) floats.
/// `faces` is host memory; the transforms travel in the launch parameters, so
/// the array may be reused once this returns. One launch per 128 faces,
/// enqueued on `cuda_stream` (a cudaStream_t; null = the default stream),
/// asynchronous: synchronise the stream before reading `device_out`.
/// Throws std::invalid_argument as crop_faces_cpu does (the plane pointers are
/// only checked for null), std::runtime_error on a CUDA error or when the
/// kernel was not built.
void crop_faces_cuda(const ImageView& device_frame, const FaceTransform* faces, int n, float* device_out,
                     const FaceCropGeometry& geometry = {}, void* cuda_stream = nullptr);

/// A frame copied to GPU memory, for crop_faces_cuda. Owns the device buffer
/// and reuses it across uploads that fit, so a stream allocates once.
class CudaFrame {
 public:
  CudaFrame() = default;
  ~CudaFrame();
  CudaFrame(const CudaFrame&) = delete;
  CudaFrame& operator=(const CudaFrame&) = delete;
  CudaFrame(CudaFrame&& other) noexcept;
  CudaFrame& operator=(CudaFrame&& other) noexcept;

  /// Copies the planes of a host frame (any stride) to the device, tightly
  /// packed, enqueued on `cuda_stream`; the host frame must stay valid until
  /// the stream has passed the copy. Throws as crop_faces_cuda does.
  void upload(const ImageView& host_frame, void* cuda_stream = nullptr);
  /// The uploaded frame with device plane pointers (empty before upload).
  const ImageView& view() const { return view_; }

 private:
  std::uint8_t* device_ = nullptr;
  std::size_t capacity_ = 0;
  ImageView view_;
};

/// Convenience for tests and tools: upload, crop on the GPU, copy back, synchronously.
std::vector<float> crop_faces_cuda_from_host(const ImageView& host_frame, const std::vector<FaceTransform>& faces,
                                             const FaceCropGeometry& geometry = {});

}  // namespace hicomex
