// End to end: the pipeline scripts and programs of pipelines/ with real
// decoders, encoders, the hicomex plugin and a real RTSP server on 127.0.0.1.
// The model is the small untrained test model: these tests check the
// plumbing (rows, track ids, frames, reconnects, errors), not AU accuracy.
// Synthetic videos from hicomex-synth give faces in every frame.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "process.h"
#include "temp_dir.h"
#include "text_files.h"

namespace fs = std::filesystem;
using hicomex::test::Process;
using hicomex::test::read_text;
using hicomex::test::TempDir;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string env_or_die(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string("test environment lacks ") + name);
  return v;
}

// A port nobody listens on right now (the kernel's pick, released at once).
int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

struct Rows {
  std::vector<json> rows;
  int unparsable = 0;
};

Rows read_jsonl(const fs::path& path) {
  Rows r;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) {
    try {
      r.rows.push_back(json::parse(line));
    } catch (const json::exception&) {
      r.unparsable++;
    }
  }
  return r;
}

std::vector<cv::Mat> decode_all(const fs::path& video) {
  cv::VideoCapture cap(video.string());
  std::vector<cv::Mat> frames;
  for (cv::Mat f; cap.read(f);) frames.push_back(f.clone());
  return frames;
}

}  // namespace

class Pipelines : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Kept after the run when HICOMEX_KEEP_TEST_FILES is set.
    tmp_ = std::make_unique<TempDir>("hicomex-pipelines");
    dir_ = tmp_->path();
    bin_ = env_or_die("HICOMEX_PIPELINES_BIN");
    scripts_ = env_or_die("HICOMEX_PIPELINES_SRC");
    model_ = (dir_ / "small.safetensors").string();
    run_or_die({env_or_die("HICOMEX_WRITE_TEST_MODEL"), model_}, "model");
    // 3 s at 10 fps, 320x240: one face, and two faces side by side.
    const std::string synth = env_or_die("HICOMEX_SYNTH");
    for (const char* faces : {"1", "2"}) {
      run_or_die(
          {synth, "video", "--out", video(faces), "--csv", (dir_ / (std::string("truth") + faces + ".csv")).string(),
           "--faces", faces, "--seconds", "3", "--fps", "10", "--size", "320x240", "--seed", faces},
          std::string("synth") + faces);
    }
  }
  static void TearDownTestSuite() { tmp_.reset(); }

  static std::string video(const std::string& faces) { return (dir_ / ("faces" + faces + ".mp4")).string(); }
  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  static std::string script(const std::string& name) { return (scripts_ / name).string(); }
  static std::string program(const std::string& name) { return (bin_ / name).string(); }

  static void run_or_die(std::vector<std::string> argv, const std::string& log) {
    Process p(std::move(argv), (dir_ / log).string());
    if (!p.wait(120s) || p.exit_code() != 0) throw std::runtime_error("set-up step '" + log + "' failed: " + p.err());
  }

  // Starts the RTSP server on `port` (0: any) and returns its URL.
  static std::string start_server(std::unique_ptr<Process>& server, const std::string& file, int port,
                                  const std::string& log) {
    server = std::make_unique<Process>(
        std::vector<std::string>{program("hicomex-rtsp-server"), file, "--port", std::to_string(port)}, path(log));
    if (!server->wait_for_output("serving", 30s, /*on_stdout=*/true)) return "";
    std::smatch m;
    const std::string out = server->out();
    return std::regex_search(out, m, std::regex("rtsp://[^ ]+")) ? m.str() : "";
  }

  static std::unique_ptr<TempDir> tmp_;
  static fs::path dir_, bin_, scripts_;
  static std::string model_;
};

std::unique_ptr<TempDir> Pipelines::tmp_;
fs::path Pipelines::dir_, Pipelines::bin_, Pipelines::scripts_;
std::string Pipelines::model_;

TEST_F(Pipelines, RtspCameraExportsEveryFaceWithATrackId) {
  std::unique_ptr<Process> server;
  const std::string url = start_server(server, video("2"), 0, "rtsp1-server");
  ASSERT_FALSE(url.empty()) << server->err();
  const std::string out = path("rtsp1.jsonl");
  Process client(
      {script("hicomex-rtsp"), url, "--jsonl", out, "--model", model_, "--frames", "25", "--stats-interval", "0"},
      path("rtsp1-client"));
  ASSERT_TRUE(client.wait(120s)) << "the client did not stop after 25 frames";
  ASSERT_EQ(client.exit_code(), 0) << client.err();

  const json summary = json::parse(client.out());
  const long frames = summary["cameras"][0]["frames"];
  EXPECT_GE(frames, 25);
  const Rows r = read_jsonl(out);
  EXPECT_EQ(r.unparsable, 0);
  std::map<long, std::set<int>> ids_by_frame;
  std::set<int> ids;
  for (const auto& row : r.rows) {
    const long frame = row["frame"];
    const int id = row["face_id"];
    EXPECT_TRUE(ids_by_frame[frame].insert(id).second) << "frame " << frame << " face " << id << " written twice";
    ids.insert(id);
    EXPECT_EQ(row["landmarks"].size(), 68u);
    EXPECT_EQ(row["box"].size(), 4u);
    EXPECT_FALSE(row["aus"].empty());
  }
  // Both faces are in every frame of the video.
  long with_both = 0;
  for (const auto& [frame, faces] : ids_by_frame) {
    EXPECT_GE(frame, 1);
    EXPECT_LE(frame, frames);
    with_both += faces.size() == 2;
  }
  EXPECT_GE(with_both, frames * 8 / 10) << "of " << frames << " frames";
  // Two tracks that keep their ids (a few re-detections at most).
  EXPECT_GE(ids.size(), 2u);
  EXPECT_LE(ids.size(), 4u);
}

TEST_F(Pipelines, RtspClientReconnectsAfterTheCameraRestartsAndWritesNoRowTwice) {
  const int port = free_port();
  std::unique_ptr<Process> server;
  const std::string url = start_server(server, video("1"), port, "rtsp2-server-a");
  ASSERT_FALSE(url.empty()) << server->err();
  const std::string out = path("rtsp2.jsonl");
  const std::string recording = path("rtsp2.mp4");
  Process client({script("hicomex-rtsp"), url, "--jsonl", out, "--record", recording, "--model", model_, "--backoff",
                  "0.3", "--timeout", "5", "--stats-interval", "0"},
                 path("rtsp2-client"));
  ASSERT_TRUE(client.wait_for_output("streaming from", 60s)) << client.err();
  std::this_thread::sleep_for(2s);

  server->signal(SIGKILL);  // a camera losing power: no teardown
  ASSERT_TRUE(server->wait(10s));
  ASSERT_TRUE(client.wait_for_output("lost the camera", 30s)) << client.err();
  std::this_thread::sleep_for(1s);
  ASSERT_FALSE(start_server(server, video("1"), port, "rtsp2-server-b").empty()) << server->err();
  ASSERT_TRUE(client.wait_for_output("reconnected to", 60s)) << client.err();
  std::this_thread::sleep_for(2s);
  client.signal(SIGINT);
  ASSERT_TRUE(client.wait(30s)) << "the client did not stop on SIGINT";
  EXPECT_EQ(client.exit_code(), 0) << client.err();

  std::smatch m;
  const std::string log = client.err();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("lost the camera after frame ([0-9]+)")));
  const long cut = std::stol(m[1]);
  ASSERT_GT(cut, 5);

  const std::string text = read_text(out);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n') << "the file ends inside a row";
  const Rows r = read_jsonl(out);
  EXPECT_EQ(r.unparsable, 0);
  std::set<long> frames;
  long before = 0, after = 0, last_frame = 0;
  double last_time = -1;
  for (const auto& row : r.rows) {
    const long frame = row["frame"];
    const double t = row["timestamp"];
    EXPECT_TRUE(frames.insert(frame).second) << "frame " << frame << " written twice";
    EXPECT_GT(frame, last_frame) << "frames out of order";
    EXPECT_GE(t, last_time) << "timestamps go back at frame " << frame;
    last_frame = frame;
    last_time = t;
    (frame <= cut ? before : after)++;
  }
  EXPECT_GE(before, cut * 8 / 10) << "rows from before the cut are missing";
  EXPECT_GE(after, 5) << "no rows after the reconnect";
  // The recording spans both connections: every analysed frame, once.
  const long analysed = json::parse(client.out())["cameras"][0]["frames"];
  EXPECT_EQ(static_cast<long>(decode_all(recording).size()), analysed);
}

TEST_F(Pipelines, AnnotatedVideoHasTheInputsFramesAndChangesOnlyWhereTheOverlayDraws) {
  const std::string out = path("annotated.mp4"), rows_path = path("annotated.jsonl");
  Process annotate(
      {script("hicomex-annotate"), video("1"), "-o", out, "--jsonl", rows_path, "--model", model_, "--overlay",
       "draw-landmarks=false", "--overlay", "draw-labels=false", "--overlay", "draw-bars=false", "--quality", "16"},
      path("annotate"));
  ASSERT_TRUE(annotate.wait(120s));
  ASSERT_EQ(annotate.exit_code(), 0) << annotate.err();

  const std::vector<cv::Mat> in = decode_all(video("1")), outf = decode_all(out);
  ASSERT_EQ(in.size(), 30u);
  ASSERT_EQ(outf.size(), in.size());
  Process info_in({program("hicomex-media-info"), video("1")}, path("info-in"));
  Process info_out({program("hicomex-media-info"), out}, path("info-out"));
  ASSERT_TRUE(info_in.wait(30s) && info_out.wait(30s));
  const json a = json::parse(info_in.out()), b = json::parse(info_out.out());
  EXPECT_NEAR(b["duration_s"].get<double>(), a["duration_s"].get<double>(), 0.1);
  EXPECT_EQ(b["width"], a["width"]);
  EXPECT_EQ(b["framerate"], a["framerate"]);

  std::map<long, std::vector<cv::Rect>> boxes;
  for (const auto& row : read_jsonl(rows_path).rows) {
    const auto& bx = row["box"];
    boxes[row["frame"].get<long>()].emplace_back(cv::Point(bx[0].get<double>(), bx[1].get<double>()),
                                                 cv::Size(bx[2].get<double>(), bx[3].get<double>()));
  }
  EXPECT_GE(boxes.size(), 25u) << "the face was found in too few frames";
  for (size_t i = 0; i < in.size(); ++i) {
    cv::Mat da, db, diff;
    cv::cvtColor(in[i], da, cv::COLOR_BGR2GRAY);
    cv::cvtColor(outf[i], db, cv::COLOR_BGR2GRAY);
    cv::absdiff(da, db, diff);
    // Near the boxes: the box stroke and the id label inside it, plus what
    // the encoder smears around them.
    cv::Mat near = cv::Mat::zeros(diff.size(), CV_8U), outline = near.clone();
    for (const auto& r : boxes[(long)i + 1]) {
      cv::rectangle(near, r, 255, 16);
      cv::rectangle(near, r, 255, cv::FILLED);
      cv::rectangle(outline, r, 255, 2);
    }
    const cv::Mat far = near == 0;
    EXPECT_LT(cv::mean(diff, far)[0], 3.0) << "frame " << i + 1 << " changed away from the faces";
    EXPECT_LT(cv::countNonZero((diff > 40) & far), diff.total() / 500)
        << "frame " << i + 1 << " has large changes away from the faces";
    if (!boxes[(long)i + 1].empty()) {
      EXPECT_GT(cv::mean(diff, outline)[0], 20.0) << "no box drawn in frame " << i + 1;
    }
  }
}

TEST_F(Pipelines, AnnotateKeepsTheAudioTrack) {
  const std::string in = path("with-audio.mp4"), out = path("with-audio-out.mp4");
  run_or_die({"/bin/sh", "-c",
              "gst-launch-1.0 -q -e filesrc location=" + video("1") +
                  " ! decodebin ! videoconvert ! x264enc ! h264parse ! mux. audiotestsrc "
                  "num-buffers=120 ! audioconvert ! avenc_aac ! mux. mp4mux name=mux ! "
                  "filesink location=" +
                  in},
             "make-audio");
  Process annotate({script("hicomex-annotate"), in, "-o", out, "--no-export", "--model", model_, "-q"},
                   path("annotate-audio"));
  ASSERT_TRUE(annotate.wait(120s));
  ASSERT_EQ(annotate.exit_code(), 0) << annotate.err();
  Process info({program("hicomex-media-info"), out}, path("info-audio"));
  ASSERT_TRUE(info.wait(30s));
  const json j = json::parse(info.out());
  EXPECT_TRUE(j["video"].get<bool>());
  EXPECT_TRUE(j["audio"].get<bool>());
}

TEST_F(Pipelines, RtspClientDecodesH265AndMjpegCameras) {
  for (const std::string codec : {"h265", "mjpeg"}) {
    Process server({program("hicomex-rtsp-server"), video("1"), "--port", "0", "--codec", codec},
                   path("codec-server-" + codec));
    ASSERT_TRUE(server.wait_for_output("serving", 30s, /*on_stdout=*/true)) << server.err();
    std::smatch m;
    const std::string said = server.out();
    ASSERT_TRUE(std::regex_search(said, m, std::regex("rtsp://[^ ]+")));
    const std::string out = path("codec-" + codec + ".jsonl");
    Process client(
        {script("hicomex-rtsp"), m.str(), "--jsonl", out, "--model", model_, "--frames", "10", "--stats-interval", "0"},
        path("codec-client-" + codec));
    ASSERT_TRUE(client.wait(60s)) << codec;
    ASSERT_EQ(client.exit_code(), 0) << codec << ": " << client.err();
    const Rows r = read_jsonl(out);
    EXPECT_EQ(r.unparsable, 0);
    EXPECT_GE(r.rows.size(), 8u) << codec;
  }
}

TEST_F(Pipelines, SeveralCamerasRunInOneProcessWithOneResultFileEach) {
  std::unique_ptr<Process> server;
  const std::string url = start_server(server, video("1"), 0, "rtsp3-server");
  ASSERT_FALSE(url.empty()) << server->err();
  // The cameras share one model and, with --batch-timeout, their batches.
  Process client({script("hicomex-rtsp"), url, url, "--jsonl", path("multi.jsonl"), "--model", model_, "--frames", "15",
                  "--stats-interval", "0", "--batch-timeout", "20000"},
                 path("rtsp3-client"));
  ASSERT_TRUE(client.wait(120s));
  ASSERT_EQ(client.exit_code(), 0) << client.err();
  const json summary = json::parse(client.out());
  ASSERT_EQ(summary["cameras"].size(), 2u);
  for (int cam : {0, 1}) {
    const std::string file = path("multi-cam" + std::to_string(cam) + ".jsonl");
    EXPECT_EQ(summary["cameras"][cam]["jsonl"], file);
    const Rows r = read_jsonl(file);
    EXPECT_EQ(r.unparsable, 0);
    // A client joining the shared stream mid-GOP may decode a few frames
    // without a face before the next key frame (one per second).
    const long frames = summary["cameras"][cam]["frames"];
    EXPECT_GE(static_cast<long>(r.rows.size()), frames / 2) << file;
  }
}

// ---- bad input: a clear message and a non-zero exit, in bounded time ----

TEST_F(Pipelines, AnnotateRejectsAMissingFile) {
  Process p({script("hicomex-annotate"), path("no-such-video.mp4"), "--model", model_}, path("bad-missing"));
  ASSERT_TRUE(p.wait(30s));
  EXPECT_NE(p.exit_code(), 0);
  EXPECT_NE(p.err().find("no such file: " + path("no-such-video.mp4")), std::string::npos) << p.err();
}

TEST_F(Pipelines, AnnotateRejectsAFileThatIsNotAVideo) {
  const std::string text = path("notes.mp4"), image = path("photo.png");
  std::ofstream(text) << "not a video\n";
  cv::imwrite(image, cv::Mat(64, 64, CV_8UC3, cv::Scalar(0, 128, 255)));
  Process p1({script("hicomex-annotate"), text, "--model", model_}, path("bad-text"));
  Process p2({script("hicomex-annotate"), image, "--model", model_}, path("bad-image"));
  ASSERT_TRUE(p1.wait(60s));
  ASSERT_TRUE(p2.wait(60s));
  EXPECT_NE(p1.exit_code(), 0);
  EXPECT_NE(p1.err().find("is not a media file"), std::string::npos) << p1.err();
  EXPECT_NE(p2.exit_code(), 0);
  EXPECT_NE(p2.err().find("still image"), std::string::npos) << p2.err();
  EXPECT_FALSE(fs::exists(path("notes-hicomex.mp4")));
}

TEST_F(Pipelines, AnnotateRefusesToOverwriteAnExistingOutput) {
  const std::string out = path("taken.mp4");
  std::ofstream(out) << "keep me\n";
  Process p({script("hicomex-annotate"), video("1"), "-o", out, "--model", model_}, path("bad-overwrite"));
  ASSERT_TRUE(p.wait(30s));
  EXPECT_NE(p.exit_code(), 0);
  EXPECT_NE(p.err().find(out + " exists"), std::string::npos) << p.err();
  EXPECT_EQ(read_text(out), "keep me\n");
}

TEST_F(Pipelines, RtspClientGivesUpOnAnUnreachableCamera) {
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(free_port()) + "/cam";
  Process p({script("hicomex-rtsp"), url, "--jsonl", path("unreachable.jsonl"), "--model", model_, "--backoff", "0.2"},
            path("bad-unreachable"));
  ASSERT_TRUE(p.wait(60s)) << "still retrying an unreachable camera";
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.err().find("giving up on " + url), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("connection refused by 127.0.0.1:"), std::string::npos) << p.err();
  // A camera that never sent a frame leaves no empty result file.
  EXPECT_FALSE(std::filesystem::exists(path("unreachable.jsonl"))) << "empty .jsonl left behind";
}

TEST_F(Pipelines, RtspClientReportsAMissingModelBeforeConnecting) {
  Process p({script("hicomex-rtsp"), "rtsp://127.0.0.1:1/cam", "--jsonl", path("nomodel.jsonl"), "--model",
             path("missing.safetensors")},
            path("bad-model"));
  ASSERT_TRUE(p.wait(30s));
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.err().find(path("missing.safetensors")), std::string::npos) << p.err();
}

// --device and --precision go through the library's parsers (the same words
// as the element and hicomex-analyze): a bad value is refused by name before
// anything connects, "auto" is a precision like the others.
TEST_F(Pipelines, RtspClientChecksDeviceAndPrecisionWithTheLibrarysParsers) {
  const std::string url = "rtsp://127.0.0.1:1/cam";
  Process bad_precision({script("hicomex-rtsp"), url, "--jsonl", path("p.jsonl"), "--precision", "fp64"},
                        path("bad-precision"));
  ASSERT_TRUE(bad_precision.wait(30s));
  EXPECT_NE(bad_precision.exit_code(), 0);
  EXPECT_NE(bad_precision.err().find("unknown precision 'fp64'"), std::string::npos) << bad_precision.err();
  Process bad_device({script("hicomex-rtsp"), url, "--jsonl", path("d.jsonl"), "--device", "tpu"}, path("bad-device"));
  ASSERT_TRUE(bad_device.wait(30s));
  EXPECT_NE(bad_device.exit_code(), 0);
  EXPECT_NE(bad_device.err().find("unknown device 'tpu'"), std::string::npos) << bad_device.err();
  // auto passes the check and the run goes on to the model (missing here).
  Process with_auto({script("hicomex-rtsp"), url, "--jsonl", path("a.jsonl"), "--precision", "auto", "--model",
                     path("missing.safetensors")},
                    path("auto-precision"));
  ASSERT_TRUE(with_auto.wait(30s));
  EXPECT_EQ(with_auto.exit_code(), 1);
  EXPECT_EQ(with_auto.err().find("unknown precision"), std::string::npos) << with_auto.err();
  EXPECT_NE(with_auto.err().find(path("missing.safetensors")), std::string::npos) << with_auto.err();
}

TEST_F(Pipelines, RtspServerRejectsAMissingOrNonVideoFile) {
  const std::string text = path("server-notes.txt");
  std::ofstream(text) << "not a video\n";
  Process p1({program("hicomex-rtsp-server"), path("nothing.mp4"), "--port", "0"}, path("bad-server-missing"));
  Process p2({program("hicomex-rtsp-server"), text, "--port", "0"}, path("bad-server-text"));
  ASSERT_TRUE(p1.wait(30s));
  ASSERT_TRUE(p2.wait(30s));
  EXPECT_EQ(p1.exit_code(), 1);
  EXPECT_NE(p1.err().find("no such file"), std::string::npos) << p1.err();
  EXPECT_EQ(p2.exit_code(), 1);
  EXPECT_NE(p2.err().find("no decodable video"), std::string::npos) << p2.err();
}

TEST_F(Pipelines, WebcamFailsClearlyWithoutACamera) {
  Process p({script("hicomex-webcam"), "--device", "/dev/video-none", "--no-display", "--record", path("webcam.mp4")},
            path("bad-webcam"));
  ASSERT_TRUE(p.wait(30s));
  EXPECT_NE(p.exit_code(), 0);
  EXPECT_NE(p.err().find("no camera at /dev/video-none"), std::string::npos) << p.err();
}
