// The CUDA half of hicomex/face_crops.h in a build without nvcc (meson -Dcuda
// disabled or nvcc not found): the API links everywhere, reports no device,
// and the entry points say how to get the kernel.
#include <stdexcept>
#include <string>
#include <utility>

#include "hicomex/face_crops.h"

namespace hicomex {
namespace {

[[noreturn]] void not_built(const char* caller) {
  throw std::runtime_error(std::string(caller) +
                           ": this libhicomex was built without the CUDA kernel (nvcc not found "
                           "or meson -Dcuda=disabled; see docs/gpu.md)");
}

}  // namespace

bool cuda_kernels_built() { return false; }

bool cuda_device_available() { return false; }

bool cuda_memory_info(int, std::size_t&, std::size_t&) { return false; }

void crop_faces_cuda(const ImageView&, const FaceTransform*, int, float*, const FaceCropGeometry&, void*) {
  not_built("crop_faces_cuda");
}

CudaFrame::~CudaFrame() = default;

CudaFrame::CudaFrame(CudaFrame&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      view_(std::exchange(other.view_, ImageView{})) {}

CudaFrame& CudaFrame::operator=(CudaFrame&& other) noexcept {
  device_ = std::exchange(other.device_, nullptr);
  capacity_ = std::exchange(other.capacity_, 0);
  view_ = std::exchange(other.view_, ImageView{});
  return *this;
}

void CudaFrame::upload(const ImageView&, void*) { not_built("CudaFrame::upload"); }

std::vector<float> crop_faces_cuda_from_host(const ImageView&, const std::vector<FaceTransform>&,
                                             const FaceCropGeometry&) {
  not_built("crop_faces_cuda_from_host");
}

}  // namespace hicomex
