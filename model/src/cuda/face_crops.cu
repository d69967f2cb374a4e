// The fused face-crop kernel (hicomex/face_crops.h): raw frame planes in,
// normalised CHW crops of every face out, one launch per 128 faces.
// Compiled by nvcc with -fvisibility=hidden (cudart_static and the fatbinary
// registration stay private to libhicomex); the public API is re-exported below.
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#pragma GCC visibility push(default)
#include "hicomex/face_crops.h"
#pragma GCC visibility pop

#include "cuda/face_crops_internal.h"
#include "cuda/face_crops_sampling.h"

namespace hicomex {
namespace {

// 128 maps = 3 KiB: with the other parameters this stays inside the 4 KiB
// launch-parameter limit every driver accepts.
constexpr int kFacesPerLaunch = 128;

struct CropMaps {
  detail::CropMap map[kFacesPerLaunch];
};

// Block = 32 x 8 crop pixels of one face; grid.z = face. Each thread reads at
// most four source pixels and writes one float per CHW plane, so writes of a
// warp are coalesced along the crop row.
__global__ void crop_faces_kernel(detail::FramePlanes frame, CropMaps maps, int crop_size, long long floats_per_face,
                                  float* out) {
  const int u = blockIdx.x * blockDim.x + threadIdx.x;
  const int v = blockIdx.y * blockDim.y + threadIdx.y;
  if (u >= crop_size || v >= crop_size) return;
  const int face = blockIdx.z;
  detail::crop_pixel(frame, maps.map[face], u, v, crop_size, out + floats_per_face * face);
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorName(status) + " (" +
                             cudaGetErrorString(status) + ")");
}

cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

}  // namespace

bool cuda_kernels_built() { return true; }

bool cuda_device_available() {
  // Asked once: without a driver cudart_static answers cudaErrorInsufficientDriver
  // (or NoDevice) instead of crashing; the error is not sticky, but clear it anyway.
  static const bool available = [] {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();
      return false;
    }
    return count > 0;
  }();
  return available;
}

bool cuda_memory_info(int device, std::size_t& used_bytes, std::size_t& total_bytes) {
  if (!cuda_device_available()) return false;
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(device) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  std::size_t free_bytes = 0, total = 0;
  const cudaError_t status = cudaMemGetInfo(&free_bytes, &total);
  (void)cudaSetDevice(previous);
  if (status != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  used_bytes = total - free_bytes;
  total_bytes = total;
  return true;
}

void crop_faces_cuda(const ImageView& device_frame, const FaceTransform* faces, int n, float* device_out,
                     const FaceCropGeometry& geometry, void* cuda_stream) {
  const detail::FramePlanes planes = detail::frame_planes(device_frame, "crop_faces_cuda");
  std::vector<detail::CropMap> maps(static_cast<std::size_t>(n > 0 ? n : 0));
  detail::crop_maps(faces, n, geometry, maps.data(), "crop_faces_cuda");
  if (n == 0) return;
  if (device_out == nullptr) throw std::invalid_argument("crop_faces_cuda: device_out is null");
  if (!cuda_device_available())
    throw std::runtime_error("crop_faces_cuda: no CUDA device (no driver or no visible GPU)");

  const int s = geometry.crop_size;
  const long long per_face = static_cast<long long>(face_crop_floats(geometry));
  const dim3 block(32, 8);
  for (int first = 0; first < n; first += kFacesPerLaunch) {
    const int count = n - first < kFacesPerLaunch ? n - first : kFacesPerLaunch;
    CropMaps chunk{};
    for (int i = 0; i < count; ++i) chunk.map[i] = maps[static_cast<std::size_t>(first + i)];
    const dim3 grid((s + block.x - 1) / block.x, (s + block.y - 1) / block.y, count);
    crop_faces_kernel<<<grid, block, 0, as_stream(cuda_stream)>>>(planes, chunk, s, per_face,
                                                                  device_out + per_face * first);
    check(cudaGetLastError(), "crop_faces_cuda: kernel launch");
  }
}

CudaFrame::~CudaFrame() {
  if (device_ != nullptr) (void)cudaFree(device_);
}

CudaFrame::CudaFrame(CudaFrame&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      view_(std::exchange(other.view_, ImageView{})) {}

CudaFrame& CudaFrame::operator=(CudaFrame&& other) noexcept {
  if (this != &other) {
    if (device_ != nullptr) (void)cudaFree(device_);
    device_ = std::exchange(other.device_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    view_ = std::exchange(other.view_, ImageView{});
  }
  return *this;
}

void CudaFrame::upload(const ImageView& host_frame, void* cuda_stream) {
  detail::frame_planes(host_frame, "CudaFrame::upload");
  if (!cuda_device_available())
    throw std::runtime_error("CudaFrame::upload: no CUDA device (no driver or no visible GPU)");
  int rows[3];
  std::size_t row_bytes[3], offset[3], total = 0;
  for (int p = 0; p < 3; ++p) {
    detail::plane_extent(host_frame, p, &rows[p], &row_bytes[p]);
    offset[p] = total;
    total += (static_cast<std::size_t>(rows[p]) * row_bytes[p] + 255) / 256 * 256;  // aligned planes
  }
  if (total > capacity_) {
    if (device_ != nullptr) check(cudaFree(device_), "CudaFrame::upload: cudaFree");
    device_ = nullptr;
    capacity_ = 0;
    view_ = ImageView{};
    check(cudaMalloc(reinterpret_cast<void**>(&device_), total), "CudaFrame::upload: cudaMalloc");
    capacity_ = total;
  }
  ImageView v;
  v.width = host_frame.width;
  v.height = host_frame.height;
  v.format = host_frame.format;
  for (int p = 0; p < 3; ++p) {
    if (rows[p] == 0) continue;
    v.data[p] = device_ + offset[p];
    v.stride[p] = static_cast<int>(row_bytes[p]);
    check(cudaMemcpy2DAsync(device_ + offset[p], row_bytes[p], host_frame.data[p],
                            static_cast<std::size_t>(host_frame.stride[p]), row_bytes[p],
                            static_cast<std::size_t>(rows[p]), cudaMemcpyHostToDevice, as_stream(cuda_stream)),
          "CudaFrame::upload: cudaMemcpy2DAsync");
  }
  view_ = v;
}

std::vector<float> crop_faces_cuda_from_host(const ImageView& host_frame, const std::vector<FaceTransform>& faces,
                                             const FaceCropGeometry& geometry) {
  const int n = static_cast<int>(faces.size());
  std::vector<float> out(face_crop_floats(geometry) * faces.size());
  CudaFrame frame;
  frame.upload(host_frame);
  if (n == 0) return out;
  float* device_out = nullptr;
  check(cudaMalloc(reinterpret_cast<void**>(&device_out), out.size() * sizeof(float)),
        "crop_faces_cuda_from_host: cudaMalloc");
  try {
    crop_faces_cuda(frame.view(), faces.data(), n, device_out, geometry);
    check(cudaMemcpy(out.data(), device_out, out.size() * sizeof(float), cudaMemcpyDeviceToHost),
          "crop_faces_cuda_from_host: cudaMemcpy");
  } catch (...) {
    (void)cudaFree(device_out);
    throw;
  }
  check(cudaFree(device_out), "crop_faces_cuda_from_host: cudaFree");
  return out;
}

}  // namespace hicomex
