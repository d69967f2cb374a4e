// hicomex-analyzer-bench: per-frame cost of FaceAnalyzer split into detection,
// landmarks (with the confidence check), AU network and total, on 640x480
// frames holding 1 and 4 real face photos, with AU inference on every frame
// and on every second frame. Table, or JSON with --json.
//
// Without --model an untrained paper-sized HiCOMEX is written to a temporary
// file and used: the cost does not depend on the weights.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "hicomex/face_analyzer.h"
#include "hicomex/face_detector.h"
#include "hicomex/model_paths.h"
#include "hicomex/option_parsers.h"
#include "hicomex_config.h"
#include "nn/weights_io.h"

using namespace hicomex;
namespace fs = std::filesystem;

namespace {

const char* kGraceHopper = "/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg";

// Square face patches (BGR): Grace Hopper's portrait, then the faces of the
// sample photos, each cut with some context around the detector's box.
std::vector<cv::Mat> face_patches() {
  std::vector<cv::Mat> patches;
  cv::Mat grace = cv::imread(kGraceHopper, cv::IMREAD_COLOR);
  if (grace.empty())
    throw std::runtime_error(std::string("cannot read ") + kGraceHopper + " (Debian package facedetect)");
  patches.push_back(grace);
  auto detector = make_face_detector("blazeface-back");
  const fs::path samples = fs::path(face_models_dir()) / "samples";
  std::vector<std::string> files;
  if (fs::is_directory(samples))
    for (const auto& e : fs::directory_iterator(samples)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    cv::Mat bgr = cv::imread(f, cv::IMREAD_COLOR), rgb;
    if (bgr.empty()) continue;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    for (const auto& d : detector->detect(rgb)) {
      const float side = 2.0f * std::max(d.box.width, d.box.height);
      const cv::Rect r(int(d.box.x + d.box.width / 2 - side / 2), int(d.box.y + d.box.height / 2 - side / 2), int(side),
                       int(side));
      if (side < 80 || (r & cv::Rect(0, 0, bgr.cols, bgr.rows)) != r) continue;  // small or cut off
      patches.push_back(bgr(r).clone());
    }
  }
  return patches;
}

// `count` frames of 640x480 with `faces` patches, moving a few pixels per frame
// so the tracker follows real motion.
std::vector<cv::Mat> make_frames(const std::vector<cv::Mat>& patches, int faces, int count) {
  std::vector<cv::Mat> frames;
  for (int i = 0; i < count; ++i) {
    cv::Mat canvas(480, 640, CV_8UC3, cv::Scalar(110, 120, 130));
    const int dx = static_cast<int>(std::lround(6.0 * std::sin(i * 0.3)));
    const int dy = static_cast<int>(std::lround(3.0 * std::cos(i * 0.2)));
    for (int k = 0; k < faces; ++k) {
      const int side = faces == 1 ? 320 : 230;
      const int cx = faces == 1 ? 320 : 160 + 320 * (k % 2), cy = faces == 1 ? 240 : 120 + 240 * (k / 2);
      cv::Mat patch;
      cv::resize(patches[k % patches.size()], patch, cv::Size(side, side), 0, 0, cv::INTER_AREA);
      cv::Rect r(cx - side / 2 + dx, cy - side / 2 + dy, side, side);
      const cv::Rect inside = r & cv::Rect(0, 0, 640, 480);
      patch(inside - r.tl()).copyTo(canvas(inside));
    }
    frames.push_back(canvas);
  }
  return frames;
}

struct Row {
  int faces, inference_interval;
  double found, detection, landmarks, au, total, detection_when_run, au_when_run, streamed_fps;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "hicomex-analyzer-bench: per-frame cost of the face analyzer (detection, landmarks, AU\n"
      "network, total) at 640x480 with 1 and 4 faces, AU inference every frame and every\n"
      "second frame, one frame at a time (process), and frames/s when the same frames are\n"
      "streamed through the worker threads (submit/next, AU batches over frames).\n"
      "Without --model it times an untrained paper-sized HiCOMEX."};
  AnalyzerOptions o;        // the analyzer's defaults (AnalyzerOptions), but on the CPU:
  o.engine.device = "cpu";  // the figures in docs/analyzer.md are CPU ones
  std::string& model = o.engine.weights;
  int frames_per_case = 60;
  bool json_out = false;
  const auto check_with = [](auto parse) {
    return [parse](const std::string& text) { return option_problem(parse, text); };
  };
  app.add_option("--model", model, "HiCOMEX weights to time (default: untrained paper-sized model)")
      ->check(CLI::ExistingFile);
  app.add_option("--detector", o.detector.name, "face detector")->capture_default_str();
  app.add_option("--device", o.engine.device, kDeviceForms)->capture_default_str()->check(check_with(parse_device));
  app.add_option("--precision", o.engine.precision, "AU network arithmetic: auto, fp32, bf16 or fp16 (CUDA)")
      ->capture_default_str()
      ->check(check_with(parse_precision));
  app.add_option("--threads", o.threads, "analyzer worker threads (0 = one per core)")->capture_default_str();
  app.add_option("--frames", frames_per_case, "timed frames per case")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--detection-interval", o.tracker.detection_interval, "detector every N frames")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--verify-interval", o.tracker.verify_interval, "landmark check at least every N frames")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  const int& detection_interval = o.tracker.detection_interval;
  const std::string& detector = o.detector.name;
  app.add_flag("--json", json_out, "print JSON instead of the table");
  CLI11_PARSE(app, argc, argv);

  std::string temp_model;
  try {
    if (model.empty()) {
      temp_model =
          (fs::temp_directory_path() / ("hicomex-bench-untrained-" + std::to_string(::getpid()) + ".safetensors"))
              .string();
      ModelInfo info;
      info.model_id = "untrained-paper-sized";
      torch::manual_seed(0);
      nn::save_hicomex(temp_model, nn::Hicomex(info.options), info);
      model = temp_model;
    }
    FaceAnalyzer analyzer(o);
    if (!temp_model.empty()) fs::remove(temp_model);

    const auto patches = face_patches();
    std::vector<Row> rows;
    for (int faces : {1, 4}) {
      const auto frames = make_frames(patches, faces, frames_per_case + 10);
      for (int interval : {1, 2}) {
        analyzer.set_inference_interval(interval);
        analyzer.reset();
        Row r{faces, interval, 0, 0, 0, 0, 0, 0, 0, 0};
        int detections = 0, au_runs = 0;
        for (size_t i = 0; i < frames.size(); ++i) {
          const cv::Mat& f = frames[i];
          const auto found =
              analyzer.process(ImageView::packed(f.data, f.cols, f.rows, PixelFormat::BGR, static_cast<int>(f.step)),
                               static_cast<int64_t>(i) * 33'333'333LL);
          if (i < 10) continue;  // warm-up: allocations, first detections
          const AnalyzerTiming& t = analyzer.last_timing();
          r.found += static_cast<double>(found.size());
          r.detection += t.detection_ms;
          r.landmarks += t.landmarks_ms;
          r.au += t.au_ms;
          r.total += t.total_ms;
          if (t.detector_ran) ++detections, r.detection_when_run += t.detection_ms;
          if (t.au_ran) ++au_runs, r.au_when_run += t.au_ms;
        }
        const double n = frames_per_case;
        r.found /= n, r.detection /= n, r.landmarks /= n, r.au /= n, r.total /= n;
        r.detection_when_run /= std::max(1, detections);
        r.au_when_run /= std::max(1, au_runs);
        // The same frames streamed: stages of consecutive frames overlap.
        analyzer.reset();
        AnalyzedFrame done;
        auto streamed_start = std::chrono::steady_clock::now();
        for (size_t i = 0; i < frames.size(); ++i) {
          if (i == 10) {  // warm-up as above: time the rest
            analyzer.flush();
            while (analyzer.next(&done, true)) {
            }
            streamed_start = std::chrono::steady_clock::now();
          }
          const cv::Mat& f = frames[i];
          analyzer.submit(ImageView::packed(f.data, f.cols, f.rows, PixelFormat::BGR, static_cast<int>(f.step)),
                          static_cast<int64_t>(i) * 33'333'333LL, true, i);
          while (analyzer.next(&done, false)) {
          }
          while (analyzer.pending() >= analyzer.max_pending()) analyzer.next(&done, true);
        }
        analyzer.flush();
        while (analyzer.next(&done, true)) {
        }
        r.streamed_fps = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - streamed_start).count();
        rows.push_back(r);
      }
    }

    nlohmann::json report;
    report["model"] = analyzer.model_id();
    report["detector"] = detector;
    report["device"] = analyzer.device();
    report["precision"] = analyzer.precision();
    report["worker_threads"] = analyzer.worker_threads();
    report["au_batch_frames"] = analyzer.au_batch_frames();
    report["detection_interval"] = detection_interval;
    report["verify_interval"] = o.tracker.verify_interval;
    report["frame"] = "640x480";
    report["frames_per_case"] = frames_per_case;
    report["version"] = HICOMEX_VERSION;
    report["results"] = nlohmann::json::array();
    for (const Row& r : rows)
      report["results"].push_back({{"faces", r.faces},
                                   {"inference_interval", r.inference_interval},
                                   {"faces_found", r.found},
                                   {"detection_ms", r.detection},
                                   {"landmarks_ms", r.landmarks},
                                   {"au_ms", r.au},
                                   {"total_ms", r.total},
                                   {"frames_per_s", 1000.0 / r.total},
                                   {"detection_ms_when_run", r.detection_when_run},
                                   {"au_ms_when_run", r.au_when_run},
                                   {"streamed_frames_per_s", r.streamed_fps}});
    if (json_out) {
      std::cout << report.dump(2) << "\n";
    } else {
      std::printf(
          "model %s, detector %s (every %d frames, landmark check at least every %d), device %s (%s), "
          "640x480, %d frames per case\n",
          analyzer.model_id().c_str(), detector.c_str(), detection_interval, o.tracker.verify_interval,
          analyzer.device().c_str(), analyzer.precision().c_str(), frames_per_case);
      std::printf("mean ms per frame (detection and AU averaged over all frames; 'run' = when they ran)\n\n");
      std::printf("%5s %6s %6s %9s %9s %9s %9s %9s %9s %9s %9s\n", "faces", "AU ev.", "found", "detect", "landmk", "AU",
                  "total", "frames/s", "det run", "AU run", "streamed");
      for (const Row& r : rows)
        std::printf("%5d %6d %6.2f %9.2f %9.2f %9.2f %9.2f %9.1f %9.2f %9.2f %9.1f\n", r.faces, r.inference_interval,
                    r.found, r.detection, r.landmarks, r.au, r.total, 1000.0 / r.total, r.detection_when_run,
                    r.au_when_run, r.streamed_fps);
      std::printf("\n'streamed' = frames/s through submit/next (%d worker threads, AU batches of %d frames)\n",
                  analyzer.worker_threads(), analyzer.au_batch_frames());
    }
  } catch (const std::exception& e) {
    if (!temp_model.empty()) fs::remove(temp_model);
    std::fprintf(stderr, "hicomex-analyzer-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
