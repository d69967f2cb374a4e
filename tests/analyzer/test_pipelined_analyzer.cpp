// FaceAnalyzer's pipelined path (submit / next on worker threads, AU batches
// over consecutive frames) against its frame-at-a-time path (process) on a
// clip of a real face moving over a background, with the real detector and
// landmark net and an untrained small AU model.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>

#include <opencv2/imgproc.hpp>

#include "analyzer_fixtures.h"
#include "hicomex/face_analyzer.h"

using namespace hicomex;
using namespace hicomex::test;

namespace {

std::string small_model() {
  static const std::string path = write_small_model(process_temp_dir().file("hicomex_pipelined_small.safetensors"));
  return path;
}

AnalyzerOptions options(int threads, int batch) {
  AnalyzerOptions o;
  o.engine.weights = small_model();
  o.engine.device = "cpu";
  o.engine.precision = "fp32";
  o.threads = threads;
  o.au_batch_frames = batch;
  return o;
}

// 24 frames of 320x240: Grace Hopper's face (150 px) sliding right and down,
// then three frames without a face (the track is lost), then the face again
// (a new track). Timestamps 40 ms apart.
const std::vector<cv::Mat>& clip() {
  static const std::vector<cv::Mat> frames = [] {
    cv::Mat face;
    cv::resize(load_rgb(kGraceHopper), face, cv::Size(150, 150), 0, 0, cv::INTER_AREA);
    std::vector<cv::Mat> out;
    for (int i = 0; i < 24; ++i) {
      cv::Mat f(240, 320, CV_8UC3, cv::Scalar(90, 110, 100));
      if (i < 14 || i > 16) {
        const int x = 20 + 5 * (i % 14), y = 30 + 2 * (i % 14);
        face.copyTo(f(cv::Rect(x, y, face.cols, face.rows)));
      }
      out.push_back(f);
    }
    return out;
  }();
  return frames;
}

ImageView view_of(const cv::Mat& rgb) { return ImageView::packed(rgb.data, rgb.cols, rgb.rows, PixelFormat::RGB); }
int64_t ts(size_t i) { return static_cast<int64_t>(i) * 40'000'000LL; }

std::vector<std::vector<FaceResult>> sequential(const AnalyzerOptions& o) {
  FaceAnalyzer a(o);
  std::vector<std::vector<FaceResult>> out;
  for (size_t i = 0; i < clip().size(); ++i) out.push_back(a.process(view_of(clip()[i]), ts(i)));
  return out;
}

std::vector<AnalyzedFrame> pipelined(const AnalyzerOptions& o) {
  FaceAnalyzer a(o);
  std::vector<AnalyzedFrame> out;
  AnalyzedFrame f;
  for (size_t i = 0; i < clip().size(); ++i) {
    a.submit(view_of(clip()[i]), ts(i), true, 1000 + i);
    while (a.next(&f, false)) out.push_back(f);
    while (a.pending() >= a.max_pending()) {
      EXPECT_TRUE(a.next(&f, true));
      out.push_back(f);
    }
  }
  a.flush();
  while (a.next(&f, true)) out.push_back(f);
  EXPECT_EQ(a.pending(), 0u);
  return out;
}

void expect_same(const std::vector<std::vector<FaceResult>>& want, const std::vector<AnalyzedFrame>& got) {
  ASSERT_EQ(got.size(), want.size());
  int faces = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].tag, 1000 + i) << "frames come back in submission order";
    EXPECT_EQ(got[i].timestamp_ns, ts(i));
    ASSERT_EQ(got[i].faces.size(), want[i].size()) << "frame " << i;
    for (size_t k = 0; k < want[i].size(); ++k) {
      const FaceResult &w = want[i][k], &g = got[i].faces[k];
      faces += 1;
      EXPECT_EQ(g.track_id, w.track_id) << "frame " << i;
      EXPECT_EQ(g.success, w.success) << "frame " << i;
      EXPECT_FLOAT_EQ(g.box.x, w.box.x) << "frame " << i;
      EXPECT_FLOAT_EQ(g.box.width, w.box.width) << "frame " << i;
      for (int p = 0; p < 68; ++p) {
        EXPECT_FLOAT_EQ(g.landmarks[p].x, w.landmarks[p].x) << "frame " << i << " point " << p;
        EXPECT_FLOAT_EQ(g.landmarks[p].y, w.landmarks[p].y) << "frame " << i << " point " << p;
      }
      ASSERT_EQ(g.au_probability.size(), w.au_probability.size());
      // A batch of several faces may round differently from a batch of one.
      for (size_t a = 0; a < w.au_probability.size(); ++a)
        EXPECT_NEAR(g.au_probability[a], w.au_probability[a], 2e-4) << "frame " << i << " AU " << a;
    }
  }
  EXPECT_GT(faces, 15) << "the clip must hold faces to compare";
}

}  // namespace

TEST(PipelinedAnalyzer, BatchesOfFramesGiveTheSameResultsAsOneFrameAtATime) {
  const auto want = sequential(options(1, 1));
  expect_same(want, pipelined(options(2, 8)));
  expect_same(want, pipelined(options(2, 3)));
  expect_same(want, pipelined(options(1, 1)));
}

TEST(PipelinedAnalyzer, IntervalsAndSmoothingKeepTheirMeaningAcrossBatches) {
  AnalyzerOptions seq = options(1, 1), pipe = options(2, 8);
  for (AnalyzerOptions* o : {&seq, &pipe}) {
    o->inference_interval = 3;
    o->tracker.au_smoothing = 0.6f;
    o->tracker.detection_interval = 4;
  }
  const auto want = sequential(seq);
  const auto got = pipelined(pipe);
  expect_same(want, got);
  // Frames between AU runs reuse the last values: they changed only on AU frames.
  int reused = 0;
  for (size_t i = 1; i < got.size(); ++i)
    if (!got[i].timing.au_ran && !got[i].faces.empty()) ++reused;
  EXPECT_GT(reused, 5);
}

TEST(PipelinedAnalyzer, AWaitingCallerGetsAPartialBatchWithoutAFlush) {
  FaceAnalyzer a(options(2, 8));
  for (size_t i = 0; i < 3; ++i) a.submit(view_of(clip()[i]), ts(i), true, i);
  // Three frames of a batch of eight: waiting must not hang for five more.
  auto waited = std::async(std::launch::async, [&a] {
    AnalyzedFrame f;
    int n = 0;
    while (n < 3 && a.next(&f, true)) ++n;
    return n;
  });
  ASSERT_EQ(waited.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(waited.get(), 3);
  AnalyzedFrame f;
  EXPECT_FALSE(a.next(&f, true)) << "nothing pending";
}

TEST(PipelinedAnalyzer, DiscardDropsPendingFramesAndTheAnalyzerCarriesOn) {
  FaceAnalyzer a(options(2, 8));
  for (size_t i = 0; i < 10; ++i) a.submit(view_of(clip()[i]), ts(i), true, i);
  a.discard();
  EXPECT_EQ(a.pending(), 0u);
  AnalyzedFrame f;
  EXPECT_FALSE(a.next(&f, true));
  a.submit(view_of(clip()[0]), ts(0), true, 77);
  a.flush();
  ASSERT_TRUE(a.next(&f, true));
  EXPECT_EQ(f.tag, 77u);
  ASSERT_EQ(f.faces.size(), 1u);
  EXPECT_TRUE(f.faces[0].success) << "a face seen before the discard gets AUs again";
}

TEST(PipelinedAnalyzer, DiscardWakesACallerWaitingForResults) {
  FaceAnalyzer a(options(1, 8));
  for (size_t i = 0; i < 12; ++i) a.submit(view_of(clip()[i]), ts(i), true, i);
  auto waiter = std::async(std::launch::async, [&a] {
    AnalyzedFrame f;
    int n = 0;
    while (a.next(&f, true)) ++n;
    return n;
  });
  a.discard();
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_LT(waiter.get(), 12);
}

TEST(PipelinedAnalyzer, DestroyingItWithFramesInFlightReturns) {
  auto done = std::async(std::launch::async, [] {
    FaceAnalyzer a(options(2, 8));
    for (size_t i = 0; i < 12; ++i) a.submit(view_of(clip()[i]), ts(i), true, i);
    return true;
  });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(60)), std::future_status::ready);
}

TEST(PipelinedAnalyzer, AnUnreadableFrameIsRefusedAtSubmit) {
  FaceAnalyzer a(options(2, 8));
  ImageView bad = view_of(clip()[0]);
  bad.data[0] = nullptr;
  EXPECT_THROW(a.submit(bad, 0, true, 1), std::invalid_argument);
  EXPECT_EQ(a.pending(), 0u);
}

TEST(PipelinedAnalyzer, BatchSizeAndThreadsAreReported) {
  FaceAnalyzer a(options(64, 0));
  EXPECT_EQ(a.au_batch_frames(), AnalyzerOptions::kDefaultAuBatchFrames);
  EXPECT_LE(a.worker_threads(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())))
      << "more workers than cores are not started";
  a.set_au_batch_frames(1);
  EXPECT_EQ(a.au_batch_frames(), 1);
  EXPECT_GE(a.max_pending(), 2u);
  EXPECT_THROW(a.set_au_batch_frames(-1), std::invalid_argument);
}
