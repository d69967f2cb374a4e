#include "frame_source.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>

namespace fs = std::filesystem;

namespace hicomex::tools {

bool FrameSource::is_image_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kImageExtensions[] = {".jpg",  ".jpeg", ".png", ".bmp", ".tif",
                                           ".tiff", ".webp", ".ppm", ".pgm", ".pnm"};
  return std::any_of(std::begin(kImageExtensions), std::end(kImageExtensions), [&](const char* e) { return ext == e; });
}

FrameSource::FrameSource(const std::string& path) : path_(path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw std::runtime_error("input not found: " + path);
  if (fs::is_directory(path, ec)) {
    kind_ = Kind::Folder;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file() && is_image_file(entry.path().string())) files_.push_back(entry.path().string());
    }
    if (files_.empty()) throw std::runtime_error("no image files (jpg, png, bmp, tif, webp, ppm) in folder " + path);
    std::sort(files_.begin(), files_.end());
    count_ = static_cast<int64_t>(files_.size());
    return;
  }
  if (is_image_file(path)) {
    kind_ = Kind::Image;
    files_.push_back(path);
    count_ = 1;
    return;
  }
  kind_ = Kind::Video;
  if (std::filesystem::is_regular_file(path) && std::filesystem::file_size(path) == 0)
    throw std::runtime_error("cannot read " + path + ": the file is empty (0 bytes)");
  // FFmpeg only: OpenCV's other backends (GStreamer among them) print pages of
  // warnings for a file they cannot read before the one message that matters.
  // FFmpeg's own log is kept to errors of the file's decoding.
  ::setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0);  // AV_LOG_QUIET unless the user asks for more
  if (!video_.open(path, cv::CAP_FFMPEG) || !video_.isOpened())
    throw std::runtime_error("cannot read " + path + ": not an image, and OpenCV opens no video from it");
  fps_ = video_.get(cv::CAP_PROP_FPS);
  if (!(fps_ > 0.0 && fps_ < 1000.0)) fps_ = 0.0;
  const double n = video_.get(cv::CAP_PROP_FRAME_COUNT);
  count_ = n > 0 ? static_cast<int64_t>(std::llround(n)) : -1;
  use_pts_ = video_.getBackendName() == "FFMPEG";
}

bool FrameSource::next(cv::Mat& bgr) {
  if (kind_ == Kind::Video) {
    if (!video_.read(bgr) || bgr.empty()) return false;
    // The frame's own presentation time where the backend reports it
    // (FFmpeg: the decoded picture's PTS from the stream start), so variable
    // frame rate video gets its real times; otherwise the frame index over the
    // frame rate (30 fps when unknown). A time that does not move forward
    // (no PTS, a broken stream) falls back to the index too.
    const double index_time = static_cast<double>(read_) / (fps_ > 0.0 ? fps_ : 30.0);
    double t = -1.0;
    if (use_pts_) t = video_.get(cv::CAP_PROP_POS_MSEC) / 1000.0;
    if (!(std::isfinite(t) && t >= 0.0 && (read_ == 0 || t > timestamp_s_))) t = read_ == 0 ? 0.0 : index_time;
    if (read_ > 0 && t <= timestamp_s_) t = timestamp_s_ + 1.0 / (fps_ > 0.0 ? fps_ : 30.0);
    timestamp_s_ = t;
    name_ = path_ + "#" + std::to_string(read_);
    ++read_;
    return true;
  }
  if (next_file_ >= files_.size()) return false;
  name_ = files_[next_file_++];
  bgr = cv::imread(name_, cv::IMREAD_COLOR);
  if (bgr.empty()) throw std::runtime_error("cannot read image " + name_);
  timestamp_s_ = 0.0;
  ++read_;
  return true;
}

}  // namespace hicomex::tools
