// Frames of an image, a folder of images (sorted by name) or a video file,
// one at a time, as BGR Mats (OpenCV's order; the analyzer takes BGR views).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <opencv2/videoio.hpp>

namespace hicomex::tools {

class FrameSource {
 public:
  enum class Kind { Image, Folder, Video };

  /// Opens `path`. Throws std::runtime_error with a message for the user when
  /// it does not exist, is a folder without images, or a file neither image
  /// nor video that OpenCV can read.
  explicit FrameSource(const std::string& path);

  /// The next frame; false at the end. Throws for an image file that cannot be read.
  bool next(cv::Mat& bgr);

  Kind kind() const { return kind_; }
  /// Frames expected (the video's count may be an estimate; -1 if unknown).
  int64_t frame_count() const { return count_; }
  /// Nominal frame rate of a video (0 if unknown).
  double fps() const { return fps_; }
  /// Timestamp of the frame last returned, seconds (0 for images).
  double timestamp_s() const { return timestamp_s_; }
  /// Name of the frame last returned (the file for folders).
  const std::string& frame_name() const { return name_; }

  static bool is_image_file(const std::string& path);

 private:
  Kind kind_ = Kind::Image;
  std::string path_;
  std::vector<std::string> files_;
  size_t next_file_ = 0;
  cv::VideoCapture video_;
  double fps_ = 0.0;
  bool use_pts_ = false;  // the backend reports each frame's presentation time
  int64_t count_ = -1;
  int64_t read_ = 0;
  double timestamp_s_ = 0.0;
  std::string name_;
};

}  // namespace hicomex::tools
