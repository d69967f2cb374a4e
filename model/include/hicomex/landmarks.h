// Landmark schemes: iBUG 68 points, DISFA's 66, and the 49-point scheme HiCOMEX uses.
#pragma once
#include <array>
#include <vector>

#include <opencv2/core/types.hpp>

namespace hicomex {

constexpr int kLandmarks68 = 68;
constexpr int kLandmarks66 = 66;
constexpr int kLandmarks49 = 49;

/// Indices (0-based) of the 49 points inside the 68-point iBUG scheme:
/// without the jaw (0-16) and the inner-mouth corners (60, 64).
const std::array<int, kLandmarks49>& landmarks49_from68_indices();
/// Same for DISFA's 66-point scheme (68 without the inner-mouth corners).
const std::array<int, kLandmarks49>& landmarks49_from66_indices();

/// Selects the 49 points; throws std::invalid_argument if the count is wrong.
std::vector<cv::Point2f> landmarks68_to_49(const std::vector<cv::Point2f>& pts68);
std::vector<cv::Point2f> landmarks66_to_49(const std::vector<cv::Point2f>& pts66);

/// Horizontal-flip permutation of the 49 points (0-based; JAA-Net's reflect_49):
/// flipped[i] = mirror(original[perm[i]]).
const std::array<int, kLandmarks49>& flip_permutation49();
/// Same for the 68-point scheme.
const std::array<int, kLandmarks68>& flip_permutation68();

/// Mirrors landmarks for an image of width `width` (x -> width - 1 - x) and
/// applies the flip permutation, so left and right points swap names.
/// Works for 49 and 68 points; throws for other counts.
std::vector<cv::Point2f> flip_landmarks(const std::vector<cv::Point2f>& pts, int width);

/// Eye centres of the 49-point scheme (means of points 19..24 and 25..30).
cv::Point2f left_eye_centre49(const std::vector<cv::Point2f>& pts49);
cv::Point2f right_eye_centre49(const std::vector<cv::Point2f>& pts49);
/// Inter-ocular distance: distance between the two eye centres.
float inter_ocular49(const std::vector<cv::Point2f>& pts49);

}  // namespace hicomex
