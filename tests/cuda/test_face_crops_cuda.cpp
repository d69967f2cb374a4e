// The fused CUDA face-crop kernel against the CPU reference, on random frames in
// every pixel format and random similarity transforms. Without a GPU (or in a
// build without nvcc) the comparisons skip with a message saying so, and the
// tests that remain check the no-device behaviour.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "hicomex/face_crops.h"
#include "test_frames.h"

namespace hicomex {

std::string no_device_reason() {
  return cuda_kernels_built() ? "no CUDA device: the kernel is built, but no driver or GPU is visible here; "
                                "the kernel-vs-reference comparison needs a real NVIDIA GPU"
                              : "no CUDA device: this build has no CUDA kernel (nvcc not found or -Dcuda=disabled)";
}

namespace {

constexpr float kLevel = 2.f / 255.f;

#define SKIP_WITHOUT_GPU()                                            \
  do {                                                                \
    if (!cuda_device_available()) GTEST_SKIP() << no_device_reason(); \
  } while (0)

// Largest difference in 8-bit levels, and how many values differ at all.
struct Difference {
  double max_levels = 0;
  std::size_t differing = 0;
};

Difference compare(const std::vector<float>& a, const std::vector<float>& b) {
  Difference d;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double levels = std::abs(static_cast<double>(a[i]) - b[i]) / kLevel;
    d.max_levels = std::max(d.max_levels, levels);
    d.differing += a[i] != b[i];
  }
  return d;
}

TEST(CudaFaceCrops, AsksForADeviceWithoutCrashing) {
  // cudart_static answers without a driver; a build without nvcc says no.
  const bool available = cuda_device_available();
  if (!cuda_kernels_built()) {
    EXPECT_FALSE(available);
  }
  EXPECT_EQ(available, cuda_device_available()) << "the answer is cached and stable";
}

TEST(CudaFaceCrops, MemoryInfoAnswersOnlyWithADevice) {
  std::size_t used = 7, total = 9;
  const bool ok = cuda_memory_info(0, used, total);
  EXPECT_EQ(ok, cuda_device_available());
  if (ok) {
    EXPECT_GT(total, 0u);
    EXPECT_LE(used, total);
  } else {
    EXPECT_EQ(used, 7u) << "untouched without a device";
  }
  EXPECT_FALSE(cuda_memory_info(1 << 20, used, total)) << "no such device";
}

TEST(CudaFaceCrops, FailsWithAClearMessageWhenNoDeviceIsThere) {
  if (cuda_device_available()) GTEST_SKIP() << "a CUDA device is present: nothing to refuse";
  std::mt19937 rng(7);
  test::OwnedFrame frame;
  test::fill_frame(frame, PixelFormat::RGB, 16, 16, rng);
  try {
    crop_faces_cuda_from_host(frame.view, {FaceTransform{}});
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.find("no CUDA device") != std::string::npos ||
                what.find("without the CUDA kernel") != std::string::npos)
        << what;
  }
}

TEST(CudaFaceCrops, MatchesTheCpuReferenceOnRandomFramesInEveryFormat) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(8);
  const FaceCropGeometry g;
  for (PixelFormat f : test::all_pixel_formats()) {
    for (const auto& size : {std::pair<int, int>{641, 479}, {1920, 1080}, {97, 61}}) {
      SCOPED_TRACE(std::string(to_string(f)) + " " + std::to_string(size.first) + "x" + std::to_string(size.second));
      test::OwnedFrame frame;
      test::fill_frame(frame, f, size.first, size.second, rng, /*smooth_sigma=*/0, /*pad=*/13);
      std::vector<FaceTransform> faces;
      const int n = 1 + static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i)
        faces.push_back(test::random_face_transform(size.first, size.second, g.aligned_size, rng));
      const auto gpu = crop_faces_cuda_from_host(frame.view, faces, g);
      const auto cpu = crop_faces_cpu(frame.view, faces, g);
      ASSERT_EQ(gpu.size(), cpu.size());
      const Difference d = compare(gpu, cpu);
      // Same arithmetic, unfused on both sides: expected bit-identical; one level
      // of slack covers a toolchain that contracts to FMA anyway.
      EXPECT_LE(d.max_levels, 1.01);
      EXPECT_LT(static_cast<double>(d.differing) / cpu.size(), 1e-3)
          << d.differing << " of " << cpu.size() << " values differ";
    }
  }
}

TEST(CudaFaceCrops, CropsMoreFacesThanOneLaunchHolds) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(9);
  const FaceCropGeometry g{64, 48};
  test::OwnedFrame frame;
  test::fill_frame(frame, PixelFormat::I420, 320, 240, rng);
  std::vector<FaceTransform> faces;
  for (int i = 0; i < 300; ++i)  // three launches of up to 128 faces
    faces.push_back(test::random_face_transform(320, 240, g.aligned_size, rng));
  const auto gpu = crop_faces_cuda_from_host(frame.view, faces, g);
  const auto cpu = crop_faces_cpu(frame.view, faces, g);
  const Difference d = compare(gpu, cpu);
  EXPECT_LE(d.max_levels, 1.01);
  EXPECT_LT(static_cast<double>(d.differing) / cpu.size(), 1e-3);
}

TEST(CudaFaceCrops, RejectsBadTransformsBeforeTouchingTheDevice) {
  // Validation is shared with the CPU reference and runs first, GPU or not.
  std::mt19937 rng(10);
  test::OwnedFrame frame;
  test::fill_frame(frame, PixelFormat::RGB, 16, 16, rng);
  const double singular[6] = {0, 0, 0, 0, 0, 0};
  const FaceTransform t = FaceTransform::from_row_major(singular);
  float dummy = 0;
  if (cuda_kernels_built()) {
    EXPECT_THROW(crop_faces_cuda(frame.view, &t, 1, &dummy), std::invalid_argument);
  } else {
    EXPECT_THROW(crop_faces_cuda(frame.view, &t, 1, &dummy), std::runtime_error);
  }
}

}  // namespace
}  // namespace hicomex

// Without a device the comparisons above skip; exit code 77 makes meson list the
// whole test as SKIP (after every other case has passed), so the summary shows
// that the kernel was not checked here rather than a silent OK.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  if (result == 0 && !hicomex::cuda_device_available()) {
    std::printf("SKIP %s\n", hicomex::no_device_reason().c_str());
    return 77;
  }
  return result;
}
