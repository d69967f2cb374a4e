// Demo video rendering. Faces keep their cell of the frame (so they never
// overlap), drift and turn smoothly (sums of slow sines), and blend from one
// expression to the next with smoothstep onsets, as real expressions do.
#include "video_writer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "scene.h"

namespace hicomex::synth {
namespace {

constexpr double kTransition = 0.6;  // seconds from one expression to the next

std::string extension(const std::string& path) {
  auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return "";
  std::string e = path.substr(dot + 1);
  for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return e;
}

float smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return static_cast<float>(x * x * (3 - 2 * x));
}

cv::Rect2f cell(int f, int n, cv::Size size) {
  const float W = static_cast<float>(size.width), H = static_cast<float>(size.height);
  if (n == 1) return {0, 0, W, H};
  if (n == 4) return {(f % 2) * W / 2, (f / 2) * H / 2, W / 2, H / 2};
  return {f * W / n, 0, W / n, H};
}

}  // namespace

void validate(const VideoOptions& o) {
  if (o.faces < 1 || o.faces > 4)
    throw std::invalid_argument("video: --faces " + std::to_string(o.faces) + " is outside 1..4");
  if (!(o.seconds > 0.0 && o.seconds <= 3600.0))
    throw std::invalid_argument("video: --seconds " + std::to_string(o.seconds) + " is outside (0, 3600]");
  if (!(o.fps >= 1.0 && o.fps <= 120.0))
    throw std::invalid_argument("video: --fps " + std::to_string(o.fps) + " is outside [1, 120]");
  if (o.size.width < 64 || o.size.height < 64 || o.size.width > 4096 || o.size.height > 4096 || o.size.width % 2 ||
      o.size.height % 2)
    throw std::invalid_argument("video: --size must be even and within 64..4096 on both sides");
  if (o.supersample < 1 || o.supersample > 4) throw std::invalid_argument("video: --supersample must be 1..4");
  std::string e = extension(o.out_path);
  if (e != "mp4" && e != "avi")
    throw std::invalid_argument("video: --out '" + o.out_path + "' must end in .mp4 (mp4v) or .avi (MJPG)");
  if (o.csv_path.empty()) throw std::invalid_argument("video: --csv is empty");
}

VideoScript::VideoScript(const VideoOptions& o) {
  Rng rng(mix_seed(o.seed, 0x51DE0ull));
  for (int f = 0; f < o.faces; ++f) {
    people_.push_back(make_identity(mix_seed(o.seed, 0x71DE0ull), f));
    Rng fr = rng.fork(static_cast<std::uint64_t>(f) + 1);
    // Expression keyframes: alternate expressions with returns towards neutral.
    std::vector<Key> keys;
    double t = 0.0;
    Expression neutral;
    for (int au : rendered_aus()) neutral.aus[au] = 0.f;
    neutral.name = "neutral";
    keys.push_back({0.0, neutral});
    bool expressive = true;
    while (t < o.seconds + 5.0) {
      t += fr.uniform(1.0, 2.2);
      Rng er = fr.fork(static_cast<std::uint64_t>(keys.size()));
      Expression e = sample_expression(er, o.rules);
      if (!expressive && fr.chance(0.6)) e = neutral;
      keys.push_back({t, e});
      expressive = !expressive;
    }
    keys_.push_back(keys);
    cv::Rect2f c = cell(f, o.faces, o.size);
    Motion m;
    m.centre = cv::Point2f(c.x + c.width / 2, c.y + c.height * 0.52f);
    m.scale = 0.62f * std::min(c.width, c.height * 0.75f) / 0.9f;
    m.amp = 0.06f * std::min(c.width, c.height);
    for (int k = 0; k < 6; ++k) {
      m.phase[k] = fr.uniform(0, 6.283);
      m.freq[k] = fr.uniform(0.08, 0.3) * 6.283;
    }
    motion_.push_back(m);
  }
}

FaceState VideoScript::state(int f, double t) const {
  const Motion& m = motion_[f];
  auto wave = [&](int k) { return static_cast<float>(std::sin(m.freq[k] * t + m.phase[k])); };
  FaceState s;
  s.instance.identity = &people_[f];
  s.instance.pose.centre = m.centre + cv::Point2f(m.amp * wave(0), 0.6f * m.amp * wave(1));
  s.instance.pose.scale = m.scale * (1.f + 0.06f * wave(2));
  s.instance.pose.yaw = 20.f * wave(3);
  s.instance.pose.pitch = 12.f * wave(4);
  s.instance.pose.roll = 10.f * wave(5);
  const auto& keys = keys_[f];
  size_t k = 0;
  while (k + 1 < keys.size() && keys[k + 1].time <= t) ++k;
  const Expression& cur = keys[k].expr;
  const Expression& prev = k > 0 ? keys[k - 1].expr : cur;
  float w = smoothstep((t - keys[k].time) / kTransition);
  for (int au : rendered_aus()) {
    float v = au_intensity(prev.aus, au) + (au_intensity(cur.aus, au) - au_intensity(prev.aus, au)) * w;
    s.instance.aus[au] = std::round(v * 100.f) / 100.f;
  }
  s.expression = cur.name;
  return s;
}

std::string video_csv_header() {
  std::ostringstream h;
  h << "frame,time_s,face,subject,box_x,box_y,box_w,box_h,yaw,pitch,roll,expression";
  for (int au : rendered_aus()) h << ",AU" << au;
  for (int au : rendered_aus()) h << ",AU" << au << "_int";
  for (int i = 0; i < kLandmarkCount; ++i) h << ",x_" << i;
  for (int i = 0; i < kLandmarkCount; ++i) h << ",y_" << i;
  return h.str();
}

VideoSummary write_video(const VideoOptions& o, std::ostream* progress) {
  validate(o);
  const bool mp4 = extension(o.out_path) == "mp4";
  const int fourcc = mp4 ? cv::VideoWriter::fourcc('m', 'p', '4', 'v') : cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  cv::VideoWriter writer(o.out_path, cv::CAP_FFMPEG, fourcc, o.fps, o.size, true);
  if (!writer.isOpened())
    throw std::runtime_error("video: cannot open " + o.out_path + " for writing with fourcc " +
                             (mp4 ? "mp4v" : "MJPG") + " (OpenCV FFmpeg backend)");
  if (mp4) writer.set(cv::VIDEOWRITER_PROP_QUALITY, 90);
  std::ofstream csv(o.csv_path, std::ios::trunc);
  if (!csv) throw std::runtime_error("video: cannot write " + o.csv_path);
  csv << video_csv_header() << '\n';

  VideoScript script(o);
  const int ss = o.supersample;
  Rng bg_rng(mix_seed(o.seed, 0xB6ull));
  const cv::Mat3f background = make_background(cv::Size(o.size.width * ss, o.size.height * ss), bg_rng);
  Rng light_rng(mix_seed(o.seed, 0x116ull));
  const Lighting light = sample_lighting(light_rng);
  const int frames = static_cast<int>(std::lround(o.seconds * o.fps));
  VideoSummary sum;
  sum.fourcc = mp4 ? "mp4v" : "MJPG";
  for (int fr = 0; fr < frames; ++fr) {
    const double t = fr / o.fps;
    cv::Mat3f canvas = background.clone();
    std::vector<FaceState> states;
    for (int f = 0; f < script.faces(); ++f) states.push_back(script.state(f, t));
    for (int f = 0; f < script.faces(); ++f) {
      const FaceState& s = states[f];
      RenderedFace r = draw_face(canvas, ss, s.instance, light);
      const Pose& p = s.instance.pose;
      csv << fr << ',' << t << ',' << f << ',' << s.instance.identity->subject << ',' << r.box.x << ',' << r.box.y
          << ',' << r.box.width << ',' << r.box.height << ',' << p.yaw << ',' << p.pitch << ',' << p.roll << ','
          << s.expression;
      for (int au : rendered_aus()) csv << ',' << occurrence(au_intensity(s.instance.aus, au), o.rules);
      for (int au : rendered_aus()) csv << ',' << au_intensity(s.instance.aus, au);
      for (const auto& q : r.landmarks) csv << ',' << std::round(q.x * 100.f) / 100.f;
      for (const auto& q : r.landmarks) csv << ',' << std::round(q.y * 100.f) / 100.f;
      csv << '\n';
      ++sum.rows;
    }
    cv::Mat3f small;
    if (ss > 1)
      cv::resize(canvas, small, o.size, 0, 0, cv::INTER_AREA);
    else
      small = canvas;
    cv::Mat frame8;
    small.convertTo(frame8, CV_8UC3, 255.0);
    writer.write(frame8);
    ++sum.frames;
    if (progress && (fr % 50 == 49 || fr + 1 == frames))
      *progress << "[hicomex-synth] video frame " << fr + 1 << "/" << frames << std::endl;
  }
  writer.release();
  if (!csv) throw std::runtime_error("video: error writing " + o.csv_path);
  return sum;
}

}  // namespace hicomex::synth
