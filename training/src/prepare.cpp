// Preparation: decode, find landmarks, align, cache (see prepare.h).
#include "training/prepare.h"

#include <map>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "hicomex/align.h"
#include "hicomex/landmarks.h"

namespace hicomex::training {
namespace {

/// Reads video frames in increasing order without seeking (seeking in compressed
/// video is slow and, for some codecs, inexact); goes back only when asked to.
class SequentialVideo {
 public:
  cv::Mat frame(const std::string& path, int index) {
    if (path != path_ || index < next_) {
      cap_.release();
      cap_.open(path);
      path_ = path;
      next_ = 0;
    }
    cv::Mat img;
    if (!cap_.isOpened()) return img;
    while (next_ < index) {
      if (!cap_.grab()) return img;
      ++next_;
    }
    if (cap_.read(img)) ++next_;
    return img;
  }

 private:
  cv::VideoCapture cap_;
  std::string path_;
  int next_ = 0;
};

std::string source_of(const Sample& s) {
  return s.video_frame >= 0 ? s.image + "#" + std::to_string(s.video_frame) : s.image;
}

}  // namespace

cv::Mat load_sample_image(const Sample& s) {
  if (s.video_frame < 0) return cv::imread(s.image, cv::IMREAD_COLOR);
  SequentialVideo v;
  return v.frame(s.image, s.video_frame);
}

std::optional<PreparedSample> prepare_one(const Sample& s, const cv::Mat& bgr, const LandmarkDetector& detector,
                                          bool force_detect, bool* used_detector) {
  if (used_detector) *used_detector = false;
  PreparedSample p;
  p.subject = s.subject;
  p.frame = s.frame;
  p.source = source_of(s);
  p.labels = s.labels;
  p.intensities = s.intensities;
  if (s.aligned && bgr.cols == kAlignedSize && bgr.rows == kAlignedSize && !force_detect) {
    // JAA-Net lists: the face is aligned already and its landmarks are in that frame.
    cv::cvtColor(bgr, p.rgb, cv::COLOR_BGR2RGB);
    p.landmarks49 = s.landmarks49;
    return p;
  }
  std::vector<cv::Point2f> pts49 = s.landmarks49;
  if (pts49.empty() || force_detect) {
    if (!detector) return std::nullopt;
    auto found = detector(bgr);
    if (!found) return std::nullopt;
    Sample tmp;
    if (!assign_landmarks(tmp, *found)) return std::nullopt;
    pts49 = tmp.landmarks49;
    if (used_detector) *used_detector = true;
  }
  auto aligned = align_face(bgr, pts49, kAlignedSize);
  cv::cvtColor(aligned.image, p.rgb, cv::COLOR_BGR2RGB);
  p.landmarks49 = aligned.landmarks;
  return p;
}

PrepareStats prepare_samples(const Dataset& d, const std::vector<std::size_t>& indices,
                             const LandmarkDetector& detector, const PrepareOptions& options, CacheWriter& writer,
                             BadDataLog& log) {
  std::vector<std::size_t> todo = indices;
  if (todo.empty())
    for (std::size_t i = 0; i < d.samples.size(); ++i) todo.push_back(i);
  PrepareStats st;
  SequentialVideo video;
  auto split_origin = [](const std::string& origin, std::string& file, int& line) {
    const auto colon = origin.rfind(':');
    file = origin.substr(0, colon);
    line = colon == std::string::npos ? 0 : std::atoi(origin.c_str() + colon + 1);
  };
  for (std::size_t k = 0; k < todo.size(); ++k) {
    const Sample& s = d.samples.at(todo[k]);
    std::string file;
    int line = 0;
    split_origin(s.origin, file, line);
    cv::Mat bgr;
    if (s.video_frame >= 0) {
      bgr = video.frame(s.image, s.video_frame);
      if (!bgr.empty()) ++st.video_frames;
    } else {
      bgr = cv::imread(s.image, cv::IMREAD_COLOR);
    }
    if (bgr.empty()) {
      log.report(BadDataReason::UnreadableImage, file, line, "cannot decode " + source_of(s));
    } else {
      bool detected = false;
      auto p = prepare_one(s, bgr, detector, options.force_detect, &detected);
      if (!p) {
        log.report(
            BadDataReason::NoLandmarks, file, line,
            "no landmarks for " + source_of(s) + (detector ? " (the detector found no face)" : " (no detector)"));
      } else {
        writer.add(*p);
        ++st.written;
        st.detected += detected ? 1 : 0;
      }
    }
    if (options.progress) options.progress(k + 1, todo.size());
  }
  return st;
}

}  // namespace hicomex::training
