// Constructors of the concrete detectors behind make_face_detector().
#pragma once
#include <memory>

#include "hicomex/face_detector.h"

namespace hicomex {

enum class BlazeFaceModel { Front128, Back256 };
std::unique_ptr<FaceDetector> make_blazeface_detector(BlazeFaceModel model, const FaceDetectorOptions& options);

enum class CascadeKind { Haar, Lbp };
std::unique_ptr<FaceDetector> make_cascade_detector(CascadeKind kind, const FaceDetectorOptions& options);

/// Throws std::invalid_argument unless `rgb` is a non-empty CV_8UC3 image.
void check_rgb_input(const cv::Mat& rgb, const char* who);

/// Drops faces below options.min_face_size and keeps the best options.max_faces
/// (input sorted by score).
void apply_size_and_count_limits(std::vector<Detection>& faces, const FaceDetectorOptions& options);

}  // namespace hicomex
