// The CPU reference of the fused face-crop operation against the OpenCV path
// the analyzer and the trainer use (image_to_rgb + align_face + centre crop +
// normalise_rgb_to_chw). Runs everywhere; no GPU involved.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "hicomex/align.h"
#include "hicomex/face_crops.h"
#include "hicomex/image_convert.h"
#include "test_frames.h"

namespace hicomex {
namespace {

using test::OwnedFrame;

constexpr float kLevel = 2.f / 255.f;  // one 8-bit step in normalised units

// The existing path, on an RGB image: warp, centre crop, normalise.
std::vector<float> opencv_crop(const cv::Mat& rgb, const FaceTransform& t, const FaceCropGeometry& g) {
  const cv::Matx23d m(t.m[0], t.m[1], t.m[2], t.m[3], t.m[4], t.m[5]);
  cv::Mat aligned;
  cv::warpAffine(rgb, aligned, cv::Mat(m), cv::Size(g.aligned_size, g.aligned_size), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar::all(128));
  const int o = centre_crop_offset(g.aligned_size, g.crop_size);
  std::vector<float> out(face_crop_floats(g));
  normalise_rgb_to_chw(aligned(cv::Rect(o, o, g.crop_size, g.crop_size)).clone(), out.data());
  return out;
}

// 49 landmarks of a made-up face around (cx, cy), rolled by `angle`: only the
// eye groups (19..30), the nose (13) and the mouth corners (31, 37) steer the
// alignment; the other points are scattered over the face.
std::vector<cv::Point2f> face_landmarks(double cx, double cy, double size, double angle, std::mt19937& rng) {
  std::uniform_real_distribution<double> jitter(-0.03, 0.03), spread(-0.35, 0.35);
  std::vector<cv::Point2d> local(49);
  for (auto& p : local) p = {spread(rng), spread(rng)};
  for (int i = 19; i <= 24; ++i) local[i] = {-0.2 + jitter(rng), -0.12 + jitter(rng)};
  for (int i = 25; i <= 30; ++i) local[i] = {0.2 + jitter(rng), -0.12 + jitter(rng)};
  local[13] = {jitter(rng), 0.08 + jitter(rng)};
  local[31] = {-0.15 + jitter(rng), 0.25 + jitter(rng)};
  local[37] = {0.15 + jitter(rng), 0.25 + jitter(rng)};
  std::vector<cv::Point2f> pts;
  const double c = std::cos(angle), s = std::sin(angle);
  for (const auto& p : local)
    pts.emplace_back(static_cast<float>(cx + size * (c * p.x - s * p.y)),
                     static_cast<float>(cy + size * (s * p.x + c * p.y)));
  return pts;
}

TEST(FaceCropsCpu, EqualsImageToRgbExactlyAtPixelCentresInEveryFormat) {
  // An integer translation puts every crop pixel on a source pixel centre, so
  // no interpolation happens and the colour conversion alone is compared.
  std::mt19937 rng(1);
  const FaceCropGeometry g{24, 20};  // offset 2
  for (PixelFormat f : test::all_pixel_formats()) {
    SCOPED_TRACE(to_string(f));
    OwnedFrame frame;
    test::fill_frame(frame, f, 37, 29, rng);
    cv::Mat scratch;
    const cv::Mat rgb = image_to_rgb(frame.view, scratch).clone();
    // aligned = image + (-9, -5): crop (u, v) reads image (u + 2 + 9, v + 2 + 5);
    // columns past 36 and rows past 28 fall outside and must be border grey.
    const double m[6] = {1, 0, -9, 0, 1, -5};
    const std::vector<float> ours = crop_faces_cpu(frame.view, {FaceTransform::from_row_major(m)}, g);
    const std::size_t plane = static_cast<std::size_t>(g.crop_size) * g.crop_size;
    for (int v = 0; v < g.crop_size; ++v)
      for (int u = 0; u < g.crop_size; ++u)
        for (int c = 0; c < 3; ++c) {
          const int x = u + 11, y = v + 7;
          const int expected = (x < rgb.cols && y < rgb.rows) ? rgb.at<cv::Vec3b>(y, x)[c] : 128;
          ASSERT_EQ(ours[c * plane + v * g.crop_size + u], expected * kLevel - 1.f)
              << "crop pixel (" << u << ", " << v << ") channel " << c;
        }
  }
}

TEST(FaceCropsCpu, MatchesAlignFacePathWithinWarpAffineFixedPointRounding) {
  // cv::warpAffine rounds source positions to 1/32 pixel and its weights to
  // 15 bits; the reference interpolates in float. On smooth content the two
  // differ by at most a level or two on rare pixels, by far less on average.
  std::mt19937 rng(2);
  const FaceCropGeometry g;
  std::size_t values = 0, off_by_more_than_one = 0;
  double sum_abs = 0, max_abs = 0;
  for (PixelFormat f :
       {PixelFormat::RGB, PixelFormat::BGRx, PixelFormat::GRAY8, PixelFormat::I420, PixelFormat::NV12}) {
    SCOPED_TRACE(to_string(f));
    OwnedFrame frame;
    test::fill_frame(frame, f, 321, 243, rng, /*smooth_sigma=*/3);
    cv::Mat scratch;
    const cv::Mat rgb = image_to_rgb(frame.view, scratch).clone();
    for (int face = 0; face < 4; ++face) {
      const auto pts = face_landmarks(60 + face * 60, 120, 70 + 25 * face, (face - 1.5) * 0.3, rng);
      const AlignedFace aligned = align_face(rgb, pts);
      const int o = centre_crop_offset();
      std::vector<float> expected(face_crop_floats());
      normalise_rgb_to_chw(aligned.image(cv::Rect(o, o, kCropSize, kCropSize)).clone(), expected.data());
      const auto ours = crop_faces_cpu(frame.view, {FaceTransform::from_row_major(aligned.transform.val)}, g);
      ASSERT_EQ(ours.size(), expected.size());
      for (std::size_t i = 0; i < ours.size(); ++i) {
        const double d = std::abs(ours[i] - expected[i]) / kLevel;
        sum_abs += d;
        max_abs = std::max(max_abs, d);
        off_by_more_than_one += d > 1.01;
        ++values;
      }
    }
  }
  const double mean_abs = sum_abs / values;
  RecordProperty("mean_abs_levels", std::to_string(mean_abs));
  RecordProperty("max_abs_levels", std::to_string(max_abs));
  EXPECT_LT(mean_abs, 0.25) << "mean difference in 8-bit levels";
  EXPECT_LE(max_abs, 2.01) << "largest difference in 8-bit levels";
  EXPECT_LT(static_cast<double>(off_by_more_than_one) / values, 1e-3)
      << off_by_more_than_one << " of " << values << " values differ by more than one level";
}

TEST(FaceCropsCpu, AgreesWithOpenCvOnRandomTransformsPartlyOutsideTheFrame) {
  std::mt19937 rng(3);
  const FaceCropGeometry g{64, 56};
  OwnedFrame frame;
  test::fill_frame(frame, PixelFormat::RGB, 160, 120, rng, /*smooth_sigma=*/3);
  cv::Mat scratch;
  const cv::Mat rgb = image_to_rgb(frame.view, scratch);
  for (int k = 0; k < 20; ++k) {
    const FaceTransform t = test::random_face_transform(160, 120, g.aligned_size, rng);
    const auto ours = crop_faces_cpu(frame.view, {t}, g);
    const auto expected = opencv_crop(rgb, t, g);
    double max_abs = 0;
    for (std::size_t i = 0; i < ours.size(); ++i)
      max_abs = std::max(max_abs, std::abs(static_cast<double>(ours[i] - expected[i])) / kLevel);
    EXPECT_LE(max_abs, 3.01) << "transform " << k;  // border edges are sharp: a little more room
  }
}

TEST(FaceCropsCpu, WritesEachFaceToItsOwnBlockInOrder) {
  std::mt19937 rng(4);
  const FaceCropGeometry g{40, 32};
  OwnedFrame frame;
  test::fill_frame(frame, PixelFormat::NV12, 90, 70, rng);
  std::vector<FaceTransform> faces;
  for (int i = 0; i < 3; ++i) faces.push_back(test::random_face_transform(90, 70, g.aligned_size, rng));
  const auto all = crop_faces_cpu(frame.view, faces, g);
  ASSERT_EQ(all.size(), 3 * face_crop_floats(g));
  for (int i = 0; i < 3; ++i) {
    const auto one = crop_faces_cpu(frame.view, {faces[i]}, g);
    EXPECT_TRUE(std::equal(one.begin(), one.end(), all.begin() + i * face_crop_floats(g))) << "face " << i;
  }
}

TEST(FaceCropsCpu, RejectsBadInputNamingWhatIsWrong) {
  std::mt19937 rng(5);
  OwnedFrame frame;
  test::fill_frame(frame, PixelFormat::I420, 32, 32, rng);
  const double singular[6] = {1, 2, 0, 2, 4, 0};
  const double not_finite[6] = {NAN, 0, 0, 0, 1, 0};
  const auto message = [&](auto&& call) {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message([&] {
              crop_faces_cpu(frame.view, {FaceTransform::from_row_major(singular)});
            }).find("face 0 is not invertible"),
            std::string::npos);
  EXPECT_NE(
      message([&] { crop_faces_cpu(frame.view, {FaceTransform::from_row_major(not_finite)}); }).find("not finite"),
      std::string::npos);
  EXPECT_NE(message([&] {
              crop_faces_cpu(frame.view, {FaceTransform{}}, FaceCropGeometry{20, 24});
            }).find("crop_size 24"),
            std::string::npos);
  EXPECT_NE(message([&] {
              crop_faces_cpu(frame.view, std::vector<FaceTransform>{FaceTransform{}}.data(), 1, nullptr);
            }).find("out is null"),
            std::string::npos);
  ImageView missing_chroma = frame.view;
  missing_chroma.data[2] = nullptr;
  EXPECT_NE(message([&] { crop_faces_cpu(missing_chroma, {FaceTransform{}}); }).find("data[2] is null"),
            std::string::npos);
}

TEST(FaceCropsCpu, NoFacesWritesNothing) {
  std::mt19937 rng(6);
  OwnedFrame frame;
  test::fill_frame(frame, PixelFormat::RGB, 8, 8, rng);
  EXPECT_TRUE(crop_faces_cpu(frame.view, std::vector<FaceTransform>{}).empty());
}

}  // namespace
}  // namespace hicomex
