// Turning a caller's frame (hicomex/image.h) into the RGB cv::Mat the face
// pipeline works on, without copying when the frame is already RGB.
#pragma once
#include <opencv2/core.hpp>

#include "hicomex/image.h"

namespace hicomex {

/// Throws MediaError (a std::invalid_argument, hicomex/errors.h) naming the
/// field at fault (null plane pointer, non-positive width/height, a stride too
/// small for the width) if `v` cannot be read as its format says.
void validate_image_view(const ImageView& v);

/// An 8-bit 3-channel RGB Mat (CV_8UC3) of the frame `v`.
/// - RGB: a header over the caller's memory (no copy; the stride is kept as the
///   Mat step). Treat it as read-only and do not keep it past the frame.
/// - every other format: converted into `scratch`, which is reallocated only
///   when its size or type differs, so a caller that keeps one scratch per
///   stream allocates once. The result then shares scratch's memory (so do
///   not assign the result back to `scratch`: an RGB frame's header there would
///   make the next conversion write into that frame).
/// I420 and NV12 use BT.601 limited range (Y 16..235), GStreamer's default
/// colorimetry for SD video; planes may lie anywhere with any stride.
/// GRAY8 is replicated to the three channels; x/A bytes are dropped.
cv::Mat image_to_rgb(const ImageView& v, cv::Mat& scratch);

}  // namespace hicomex
