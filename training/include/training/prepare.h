// Preparation: decode every sample's image (or video frame), find its landmarks
// (the dataset's own, else a detector), align to 200x200 with hicomex::align_face and
// write the prepared-sample cache. Unreadable images and faces without landmarks are
// bad data (error, or counted with skip mode).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "training/bad_data.h"
#include "training/cache.h"
#include "training/dataset.h"

namespace hicomex::training {

/// Returns 68 iBUG landmarks (image pixels) for the most prominent face of a BGR
/// image, or nullopt when it finds none. The face pipeline plugs in here.
using LandmarkDetector = std::function<std::optional<std::vector<cv::Point2f>>(const cv::Mat& bgr)>;

struct PrepareOptions {
  bool force_detect = false;  ///< run the detector even when the dataset has landmarks
  /// Progress: (done, total). Called from the preparing thread.
  std::function<void(std::size_t, std::size_t)> progress;
};

struct PrepareStats {
  std::size_t written = 0;
  std::size_t detected = 0;      ///< samples whose landmarks came from the detector
  std::size_t video_frames = 0;  ///< frames decoded from videos
};

/// Loads one sample's image (BGR) or returns an empty Mat when it does not decode.
cv::Mat load_sample_image(const Sample& s);

/// Prepares `indices` of `d` (all if empty) into `writer`, in index order; video
/// frames are decoded sequentially per video. Does not call writer.finish().
PrepareStats prepare_samples(const Dataset& d, const std::vector<std::size_t>& indices,
                             const LandmarkDetector& detector, const PrepareOptions& options, CacheWriter& writer,
                             BadDataLog& log);

/// One sample, already decoded: landmarks + alignment. nullopt = no landmarks.
std::optional<PreparedSample> prepare_one(const Sample& s, const cv::Mat& bgr, const LandmarkDetector& detector,
                                          bool force_detect, bool* used_detector = nullptr);

}  // namespace hicomex::training
