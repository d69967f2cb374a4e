#include "tiny_dataset.h"

#include <filesystem>
#include <fstream>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "fixtures.h"
#include "training/data_source.h"
#include "training/model_sizes.h"

namespace fs = std::filesystem;

namespace hicomex::training::test {

std::string write_tiny_manifest(const std::string& dir, int subjects, int per_subject, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> jitter(-3.f, 3.f);
  std::bernoulli_distribution coin(0.5);
  fs::create_directories(fs::path(dir) / "img");
  const std::string manifest = (fs::path(dir) / "manifest.jsonl").string();
  std::ofstream out(manifest);
  out << R"({"hicomex_manifest": 1, "aus": [1, 12], "description": "tiny learnable test faces"})" << '\n';
  for (int s = 0; s < subjects; ++s)
    for (int i = 0; i < per_subject; ++i) {
      const auto pts = face68(64.f + jitter(rng), 60.f + jitter(rng), 70.f);
      cv::Mat img = face_image(pts, 128, 128);
      const bool au1 = coin(rng), au12 = coin(rng);
      // AU1 (inner brow raiser): squares above the inner brow ends; AU12: at the lip corners.
      auto square = [&](cv::Point2f c) {
        cv::rectangle(img, cv::Rect(int(c.x) - 4, int(c.y) - 4, 8, 8), cv::Scalar(255, 255, 255), cv::FILLED);
      };
      if (au1) {
        square(pts[21] + cv::Point2f(0, -6));
        square(pts[22] + cv::Point2f(0, -6));
      }
      if (au12) {
        square(pts[48]);
        square(pts[54]);
      }
      const std::string name = "img/s" + std::to_string(s) + "_" + std::to_string(i) + ".png";
      cv::imwrite((fs::path(dir) / name).string(), img);
      out << R"({"image": ")" << name << R"(", "subject": "subject)" << s << R"(", "aus": {"1": )" << int(au1)
          << R"(, "12": )" << int(au12) << R"(}, "intensity": {"1": )" << (au1 ? 3.0 : 0.0) << R"(, "12": )"
          << (au12 ? 4.0 : 0.5) << R"(}, "landmarks": )" << points_json(pts) << "}\n";
    }
  return manifest;
}

std::string prepare_tiny_cache(const std::string& manifest, const std::string& dir) {
  DataSpec spec;
  spec.path = manifest;
  spec.kind = "manifest";
  BadDataLog log;
  return prepare_to_cache(spec, (fs::path(dir) / "tiny.cache").string(), log, [](const std::string&) {}).cache_path;
}

HicomexOptions tiny_model() {
  auto o = model_size_preset("tiny");
  o.aus({1, 12});
  return o;
}

}  // namespace hicomex::training::test
