// The demo video: synthetic faces moving and going through expressions, with
// a per-frame ground-truth CSV.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <opencv2/core/types.hpp>

#include "expression_sampler.h"
#include "face_renderer.h"

namespace hicomex::synth {

struct VideoOptions {
  std::string out_path;  ///< .mp4 (MPEG-4 part 2, "mp4v") or .avi (Motion JPEG)
  std::string csv_path;
  int faces = 1;  ///< 1..4
  double seconds = 10.0;
  double fps = 25.0;
  cv::Size size{640, 480};
  std::uint64_t seed = 1;
  int supersample = 1;
  ExpressionRules rules = default_expression_rules();
};

void validate(const VideoOptions& o);

/// What one face does at one instant.
struct FaceState {
  FaceInstance instance;
  std::string expression;  ///< the expression being approached
};

/// The scripted faces of a video: identities, motion and expression timelines.
class VideoScript {
 public:
  explicit VideoScript(const VideoOptions& o);
  int faces() const { return static_cast<int>(people_.size()); }
  const SynthIdentity& identity(int f) const { return people_[f]; }
  /// State of face `f` at time `t` seconds (intensities rounded to 0.01).
  FaceState state(int f, double t) const;

 private:
  struct Key {
    double time;
    Expression expr;
  };
  struct Motion {
    cv::Point2f centre;
    float scale;
    double phase[6];
    double freq[6];
    float amp;
  };
  std::vector<SynthIdentity> people_;
  std::vector<std::vector<Key>> keys_;
  std::vector<Motion> motion_;
};

/// CSV header: frame,time_s,face,subject,box_x,box_y,box_w,box_h,yaw,pitch,roll,
/// expression,AU1..AU26 (occurrence),AU1_int..AU26_int,x_0..x_67,y_0..y_67.
std::string video_csv_header();

struct VideoSummary {
  int frames = 0;
  int rows = 0;
  std::string fourcc;
};

/// Renders and encodes the video and writes the CSV. Throws
/// std::runtime_error naming the file when a writer cannot be opened.
VideoSummary write_video(const VideoOptions& o, std::ostream* progress);

}  // namespace hicomex::synth
