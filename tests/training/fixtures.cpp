#include "fixtures.h"

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace fs = std::filesystem;

namespace hicomex::training::test {

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

void write_image(const std::string& path, int w, int h, int value) {
  fs::create_directories(fs::path(path).parent_path());
  cv::Mat img(h, w, CV_8UC3, cv::Scalar::all(value));
  if (!cv::imwrite(path, img)) throw std::runtime_error("cannot write image " + path);
}

std::vector<cv::Point2f> face68(float cx, float cy, float s) {
  // Unit-face template (x right, y down, eyes at y = -0.15, mouth at y = 0.3).
  std::vector<cv::Point2f> p(68);
  for (int i = 0; i <= 16; ++i) {  // jaw
    const float t = -1.f + 2.f * float(i) / 16.f;
    p[i] = {0.45f * t, 0.1f + 0.35f * (1.f - t * t)};
  }
  for (int i = 0; i < 5; ++i) {  // brows
    p[17 + i] = {-0.35f + 0.06f * float(i), -0.28f - 0.02f * float(i % 2)};
    p[22 + i] = {0.11f + 0.06f * float(i), -0.28f - 0.02f * float(i % 2)};
  }
  for (int i = 0; i < 4; ++i) p[27 + i] = {0.f, -0.15f + 0.07f * float(i)};   // nose bridge
  for (int i = 0; i < 5; ++i) p[31 + i] = {-0.08f + 0.04f * float(i), 0.1f};  // nostrils
  const float ex[2] = {-0.2f, 0.2f};
  for (int e = 0; e < 2; ++e)  // eyes, six points each around the centre
    for (int i = 0; i < 6; ++i) {
      const float a = 3.14159f * float(i) / 3.f;
      p[36 + 6 * e + i] = {ex[e] - 0.07f * std::cos(a), -0.15f - 0.03f * std::sin(a)};
    }
  for (int i = 0; i < 12; ++i) {  // outer lip
    const float a = 3.14159f * float(i) / 6.f;
    p[48 + i] = {-0.18f * std::cos(a), 0.3f - 0.06f * std::sin(a)};
  }
  for (int i = 0; i < 8; ++i) {  // inner lip
    const float a = 3.14159f * float(i) / 4.f;
    p[60 + i] = {-0.12f * std::cos(a), 0.3f - 0.03f * std::sin(a)};
  }
  for (auto& q : p) q = {cx + s * q.x, cy + s * q.y};
  return p;
}

cv::Mat face_image(const std::vector<cv::Point2f>& pts, int w, int h) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(40, 60, 80));
  cv::Point2f c(0, 0);
  for (const auto& q : pts) c += q;
  c *= 1.f / float(pts.size());
  cv::ellipse(img, c, cv::Size(55, 70), 0, 0, 360, cv::Scalar(150, 170, 200), cv::FILLED);
  for (const auto& q : pts) cv::circle(img, q, 1, cv::Scalar(20, 20, 20), cv::FILLED);
  return img;
}

std::string points_json(const std::vector<cv::Point2f>& pts) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < pts.size(); ++i) os << (i ? "," : "") << '[' << pts[i].x << ',' << pts[i].y << ']';
  os << ']';
  return os.str();
}

}  // namespace hicomex::training::test
