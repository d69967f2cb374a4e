// hicomex-analyze: faces, landmarks, head pose and AUs of an image, an image
// folder or a video, written as OpenFace-compatible CSV (or JSON lines).
//
//   hicomex-analyze clip.mp4 -o clip.csv
//   hicomex-analyze frames/ -o frames.jsonl --sequence --threshold 0.4
//
// AUxx_r is the intensity (0-5), calibrated per person by default for videos
// (--calibration dynamic) and not for single images; AUxx_c the presence;
// --probabilities adds AUxx_p. A model without an intensity head gets AUxx_p
// instead of AUxx_r (a note on stderr says so).
//
// Exit status: 0 done; 1 input missing, unreadable or without frames; 2 the
// output cannot be written; 3 the model or an option is at fault; 4 a frame
// failed; 130 interrupted (SIGINT, SIGTERM, SIGHUP): the output holds every
// frame read before it.
//
// Frames flow through the analyzer's worker threads (FaceAnalyzer::submit):
// this thread decodes and writes while the workers track and run the AU
// network on batches of consecutive frames; results come back in order.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>

#include <CLI/CLI.hpp>

#include "frame_source.h"
#include "hicomex/face_analyzer.h"
#include "hicomex/option_parsers.h"
#include "hicomex/result_writer.h"
#include "hicomex_config.h"

using namespace hicomex;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

enum Exit { kOk = 0, kInputError = 1, kOutputError = 2, kSetupError = 3, kFrameError = 4, kInterrupted = 130 };

// A CLI11 check through one of the library's option parsers: its message
// names the token and the valid forms.
template <typename Parse>
std::function<std::string(const std::string&)> parsed_by(Parse parse) {
  return [parse](const std::string& text) { return option_problem(parse, text); };
}

ResultWriter::Format format_for(const std::string& requested, const std::string& out_path) {
  if (!requested.empty()) return ResultWriter::format_from_string(requested);
  const std::string ext = std::filesystem::path(out_path).extension().string();
  return ext == ".jsonl" || ext == ".json" || ext == ".ndjson" ? ResultWriter::Format::JsonLines
                                                               : ResultWriter::Format::Csv;
}

// Progress on stderr: in place on a terminal, a line every 10 s otherwise.
class Progress {
 public:
  Progress(int64_t total, bool quiet) : total_(total), quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}
  void update(int64_t done, bool final = false) {
    if (quiet_ || (total_ >= 0 && total_ < 2)) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if (!final && since < (tty_ ? 0.5 : 10.0)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double fps = elapsed > 0 ? done / elapsed : 0.0;
    char line[160];
    if (total_ > 0) {
      const double eta = fps > 0 ? (total_ - done) / fps : 0.0;
      std::snprintf(line, sizeof line, "frame %lld/%lld (%.0f%%)  %.1f frames/s  ETA %.0f s", (long long)done,
                    (long long)total_, 100.0 * done / total_, fps, eta);
    } else {
      std::snprintf(line, sizeof line, "frame %lld  %.1f frames/s", (long long)done, fps);
    }
    std::fprintf(stderr, tty_ ? "\r%s   " : "%s\n", line);
    if (final && tty_) std::fprintf(stderr, "\n");
  }

 private:
  int64_t total_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

int run(int argc, char** argv);

}  // namespace

// Every object of the run (analyzer, worker threads, capture, result writer)
// is destroyed, and its file closed, when run() returns; what is left are
// the static destructors of the libraries, LibTorch's operator registry above
// all (an image run took 0.03-0.04 s less without them on this project's
// 2-core machine). They free memory the system reclaims anyway, so the tool
// flushes the C streams and leaves without them.
int main(int argc, char** argv) {
  const int rc = run(argc, argv);
  std::fflush(nullptr);
  std::_Exit(rc);
}

namespace {

int run(int argc, char** argv) {
  CLI::App app{"hicomex-analyze " HICOMEX_VERSION
               ": facial action units (HiCOMEX), 68 landmarks and head pose\n"
               "of every face in an image, a folder of images (sorted by name) or a video file,\n"
               "written as OpenFace-compatible CSV or JSON lines. CSV AU columns: AUxx_r the\n"
               "intensity on the FACS 0-5 scale, AUxx_c the presence (0/1), AUxx_p the occurrence\n"
               "probability (with --probabilities). A model without an intensity head writes no\n"
               "AUxx_r columns but AUxx_p ones (a note on stderr says so).\n"
               "Exit status: 0 done, 1 bad input (also: a video that ends well before the frame\n"
               "count its header declares; the frames read are written), 2 output error, 3 model\n"
               "or option error, 4 a frame failed, 130 interrupted (output kept up to there)."};
  std::string input, output, format, thresholds, calibration;
  AnalyzerOptions o;  // every default below is AnalyzerOptions' own
  bool overwrite = false, sequence = false, quiet = false, smoothing = false, probabilities = false,
       accept_truncated = false;
  app.add_option("INPUT", input, "image, folder of images, or video file")->required();
  app.add_option("-o,--output", output, "result file (.csv or .jsonl)")->required();
  app.add_option("--format", format, "csv or jsonl (default: from the output's extension)")
      ->check(CLI::IsMember({"csv", "jsonl"}));
  app.add_option("--model", o.engine.weights,
                 "HiCOMEX weights (default: $HICOMEX_MODEL, then the installed hicomex-default.safetensors)");
  app.add_option("--detector", o.detector.name, "blazeface, blazeface-back (small faces), haar or lbp")
      ->capture_default_str();
  app.add_option("--detection-interval", o.tracker.detection_interval, "run the face detector every N frames")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--verify-interval", o.tracker.verify_interval,
                 "check that the landmarks sit on a face at least every N frames (in between only when the "
                 "face's crop changed; 1 = every frame)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--inference-interval", o.inference_interval, "run the AU network every N frames")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-faces", o.tracker.max_faces, "at most N faces per frame, largest first (0 = all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--min-face-size", o.tracker.min_face_size, "ignore faces smaller than this many pixels")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threshold", thresholds,
                 std::string("AU decision thresholds (default: the model's): ") + kThresholdForms)
      ->check(parsed_by(parse_threshold_spec));
  app.add_option("--calibration", calibration,
                 "per-person intensity calibration: dynamic subtracts each tracked face's running 10th\n"
                 "percentile (its neutral level; an AU is then present only at a calibrated intensity\n"
                 ">= 1), none keeps the network's intensities. It assumes each person is mostly\n"
                 "neutral over the clip. Default: dynamic for a video (and --sequence), none for\n"
                 "single images and image folders (unrelated photos are not one person)")
      ->check(CLI::IsMember({"none", "dynamic"}));
  app.add_flag("--probabilities", probabilities,
               "CSV: add AUxx_p occurrence probability columns after AUxx_c (JSON lines always have them)");
  app.add_flag("--smoothing", smoothing, "smooth landmarks (One Euro, 1.5 Hz) and AU probabilities (0.5) over time");
  app.add_option("--landmark-smoothing", o.tracker.landmark_min_cutoff_hz, "One Euro minimum cutoff in Hz (0 = raw)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--au-smoothing", o.tracker.au_smoothing,
                 "weight of the past in [0, 1) for AU probabilities (0 = raw)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.999));
  app.add_option("--device", o.engine.device, kDeviceForms)->capture_default_str()->check(parsed_by(parse_device));
  app.add_option(
         "--precision", o.engine.precision,
         "AU network arithmetic: auto (bf16 on CPUs with AVX512-BF16 and on CUDA, else fp32), fp32, bf16, fp16 (CUDA)")
      ->capture_default_str()
      ->check(parsed_by(parse_precision));
  app.add_option("--threads", o.threads, "worker threads (0 = one per core; more than the cores are not used)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--au-batch", o.au_batch_frames,
                 "frames per AU network batch (0 = automatic: " +
                     std::to_string(AnalyzerOptions::kDefaultAuBatchFrames) + "; 1 = each frame on its own)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--overwrite", overwrite, "replace OUTPUT if it exists");
  app.add_flag("--accept-truncated", accept_truncated,
               "a video that ends before its declared length is reported but exits 0");
  app.add_flag("--sequence", sequence, "treat a folder's images as consecutive video frames (track faces across them)");
  app.add_flag("-q,--quiet", quiet, "no progress output");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, or the error with a hint
    return rc == 0 ? kOk : kSetupError;
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (o.threads > cores && !quiet)
    std::fprintf(stderr, "hicomex-analyze: --threads %d: this machine has %d cores; using %d worker threads\n",
                 o.threads, cores, cores);

  if (smoothing) {
    if (app.count("--landmark-smoothing") == 0) o.tracker.landmark_min_cutoff_hz = 1.5f;
    if (app.count("--au-smoothing") == 0) o.tracker.au_smoothing = 0.5f;
  }

  std::unique_ptr<tools::FrameSource> source;
  try {
    source = std::make_unique<tools::FrameSource>(input);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hicomex-analyze: %s\n", e.what());
    return kInputError;
  }

  // A video (or a folder given as one) is one stream of the same people:
  // calibrate per person. Unrelated photos are not one person.
  const bool one_stream = source->kind() == tools::FrameSource::Kind::Video || sequence;
  o.calibration = !calibration.empty() ? au_calibration_from_string(calibration)
                  : one_stream         ? AuCalibration::Dynamic
                                       : AuCalibration::None;
  if (!quiet)
    std::fprintf(stderr, "hicomex-analyze: intensity calibration %s (%s)\n", to_string(o.calibration),
                 !calibration.empty() ? "--calibration"
                 : one_stream         ? "default for a video; --calibration none to turn it off"
                                      : "default for single images; --calibration dynamic to change it");

  std::unique_ptr<FaceAnalyzer> analyzer;
  try {
    // The one threshold grammar (hicomex/option_parsers.h), tied to the model's AUs once it is loaded.
    const ThresholdSpec spec = parse_threshold_spec(thresholds);
    analyzer = std::make_unique<FaceAnalyzer>(o);
    analyzer->set_thresholds(resolve_thresholds(spec, analyzer->au_ids(), analyzer->model_thresholds()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hicomex-analyze: %s\n", e.what());
    return kSetupError;
  }
  if (!analyzer->model_checksummed())
    std::fprintf(stderr,
                 "hicomex-analyze: warning: %s has no tensor checksum (written before checksums existed): a "
                 "damaged copy cannot be told from a good one; saving it again with hicomex-train adds one\n",
                 analyzer->model_path().c_str());

  ResultWriter writer;
  if (std::filesystem::is_directory(output) || (!output.empty() && output.back() == '/')) {
    std::fprintf(stderr, "hicomex-analyze: -o %s is a folder: give a file name (e.g. %s/results.csv)\n", output.c_str(),
                 (std::filesystem::path(output).has_filename() ? std::filesystem::path(output)
                                                               : std::filesystem::path(output).parent_path())
                     .string()
                     .c_str());
    return kOutputError;
  }
  if (std::filesystem::exists(output) && !overwrite) {
    std::fprintf(stderr, "hicomex-analyze: %s exists; use --overwrite to replace it\n", output.c_str());
    return kOutputError;
  }
  try {
    ResultWriter::Options wo;
    wo.probabilities = probabilities;
    writer.open(output, format_for(format, output), overwrite, analyzer->au_ids(), wo);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hicomex-analyze: %s\n", e.what());
    return kOutputError;
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_signal);
  // Images of a folder are unrelated photos unless --sequence says otherwise:
  // each starts afresh (its own detection; ids still count up).
  const bool independent = source->kind() != tools::FrameSource::Kind::Video && !sequence;
  Progress progress(source->frame_count(), quiet);
  // Frames handed to the analyzer and not yet written, oldest first; each
  // keeps its pixels alive until its results are back.
  struct InFlight {
    cv::Mat bgr;
    int64_t number = 0;  // OpenFace numbers frames from 1
    double time_s = 0.0;
    std::string name;
  };
  std::deque<InFlight> in_flight;
  int64_t frames = 0, written = 0, faces = 0;
  int status = kOk;
  bool told_no_intensity = false;
  // Writes the oldest frame's results: returns false when none is ready (wait
  // = false) or nothing is pending.
  auto write_next = [&](bool wait) {
    AnalyzedFrame done;
    if (in_flight.empty()) return false;
    try {
      if (!analyzer->next(&done, wait)) return false;
    } catch (const std::exception& e) {
      throw std::runtime_error(in_flight.front().name + ": " + e.what());
    }
    const InFlight& f = in_flight.front();
    writer.write_frame(f.number, f.time_s, done.faces);
    if (!told_no_intensity && writer.intensity() == std::optional<bool>(false) &&
        writer.format() == ResultWriter::Format::Csv) {
      // Not silenced by -q: the columns differ from what OpenFace readers expect.
      told_no_intensity = true;
      std::fprintf(stderr,
                   "\nhicomex-analyze: note: the model %s predicts occurrence only (no intensity head): %s has no\n"
                   "AUxx_r intensity columns; the probabilities are in the AUxx_p columns\n",
                   analyzer->model_id().c_str(), output.c_str());
    }
    faces += static_cast<int64_t>(done.faces.size());
    ++written;
    in_flight.pop_front();
    progress.update(written);
    return true;
  };
  try {
    while (!g_interrupted) {
      InFlight f;  // a fresh image each frame: the workers read it later
      try {
        if (!source->next(f.bgr)) break;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "\nhicomex-analyze: %s\n", e.what());
        status = kInputError;
        break;
      }
      if (independent) analyzer->reset();
      const cv::Mat& bgr = f.bgr;
      const ImageView view =
          ImageView::packed(bgr.data, bgr.cols, bgr.rows, PixelFormat::BGR, static_cast<int>(bgr.step));
      const int64_t ts_ns = independent ? frames * 33'333'333LL : static_cast<int64_t>(source->timestamp_s() * 1e9);
      f.number = ++frames;
      f.time_s = source->timestamp_s();
      f.name = "frame " + std::to_string(f.number) + " (" + source->frame_name() + ")";
      in_flight.push_back(std::move(f));
      analyzer->submit(view, ts_ns, true, static_cast<uint64_t>(frames));
      while (write_next(false)) {
      }
      while (analyzer->pending() >= analyzer->max_pending()) write_next(true);
    }
    // End of input (or interrupted): what was read is analysed and written.
    analyzer->flush();
    while (write_next(true)) {
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nhicomex-analyze: %s\n", e.what());
    status = kFrameError;
    analyzer->discard();
  }
  frames = written;
  progress.update(frames, true);
  try {
    writer.close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hicomex-analyze: %s\n", e.what());
    return kOutputError;
  }
  if (status != kOk) return status;
  if (g_interrupted) {
    std::fprintf(stderr, "hicomex-analyze: interrupted after %lld frames; %s holds them\n", (long long)frames,
                 output.c_str());
    return kInterrupted;
  }
  if (frames == 0) {  // e.g. a video file whose stream decodes to nothing
    std::fprintf(stderr, "hicomex-analyze: no frames could be read from %s\n", input.c_str());
    return kInputError;
  }
  // A video that ends well before the length its header declares is cut short
  // (an interrupted download or copy, a full disk while recording): the rows
  // written are right, but the run is not a complete success. Compared in time,
  // not frames: the declared count is often duration x nominal rate, which a
  // variable-frame-rate video does not reach; hence also the margin.
  const int64_t declared = source->frame_count();
  const double fps = source->fps();
  if (source->kind() == tools::FrameSource::Kind::Video && declared > 0 && fps > 0.0) {
    const double declared_s = static_cast<double>(declared) / fps;
    const double read_s = source->timestamp_s() + 1.0 / fps;
    if (read_s < declared_s - std::max(2.0 / fps, 0.01 * declared_s)) {
      std::fprintf(stderr,
                   "hicomex-analyze: %s%s ended after %lld frames (%.2f s) of the %.2f s (%lld frames) its header "
                   "declares: the file looks truncated or damaged; %s holds the %lld frames read%s\n",
                   accept_truncated ? "warning: " : "", input.c_str(), (long long)frames, read_s, declared_s,
                   (long long)declared, output.c_str(), (long long)frames,
                   accept_truncated ? "" : " (--accept-truncated: exit 0 for such files)");
      if (!accept_truncated) return kInputError;
    }
  }
  if (!quiet)
    std::fprintf(stderr, "hicomex-analyze: %lld frames, %lld face records -> %s\n", (long long)frames, (long long)faces,
                 output.c_str());
  return kOk;
}

}  // namespace
