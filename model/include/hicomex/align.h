// Face alignment shared by training and inference (JAA-Net convention; docs/model.md, "Alignment").
// Both the trainer and the analyzer call these: one crop, one normalisation.
#pragma once
#include <vector>

#include <opencv2/core.hpp>

namespace hicomex {

constexpr int kAlignedSize = 200;  ///< side of the aligned face
constexpr int kCropSize = 176;     ///< network input side (crop of the aligned face)

/// Similarity transform (2x3, image -> aligned) from 49 landmarks: eye line
/// horizontal, centre and scale from the box of the eye centres, nose (13) and
/// mouth corners (31, 37), half size 0.5 * 2.9 * max(box w, box h).
cv::Matx23d alignment_transform49(const std::vector<cv::Point2f>& pts49, int out_size = kAlignedSize);

struct AlignedFace {
  cv::Mat image;                       ///< out_size x out_size, same type as the input
  cv::Matx23d transform;               ///< image -> aligned coordinates
  std::vector<cv::Point2f> landmarks;  ///< the input landmarks, in aligned coordinates
};

/// Warps `image` (any 8-bit 1/3/4-channel Mat) to the aligned face; border grey 128.
/// Throws std::invalid_argument if pts49 does not hold 49 points.
AlignedFace align_face(const cv::Mat& image, const std::vector<cv::Point2f>& pts49, int out_size = kAlignedSize);

/// Applies a 2x3 transform to points; inverts one.
std::vector<cv::Point2f> transform_points(const std::vector<cv::Point2f>& pts, const cv::Matx23d& m);
cv::Matx23d invert_transform(const cv::Matx23d& m);

/// Offset of the centre crop: (aligned - crop) / 2 = 12 for 200 -> 176.
int centre_crop_offset(int aligned = kAlignedSize, int crop = kCropSize);

/// Converts an RGB 8-bit crop (crop x crop x 3) to the network's normalisation,
/// planar CHW float: (v / 255 - 0.5) / 0.5, written to `out` (3 * crop * crop floats).
void normalise_rgb_to_chw(const cv::Mat& rgb_crop, float* out);

}  // namespace hicomex
