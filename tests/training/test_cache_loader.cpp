// Prepared-sample cache, preparation from real image files, and the batch loader.
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "fixtures.h"
#include "training/cache.h"
#include "training/loader.h"
#include "training/prepare.h"
#include "training/tensors.h"

using namespace hicomex::training;
using namespace hicomex::training::test;

namespace {

PreparedSample random_sample(int i) {
  PreparedSample s;
  s.subject = "s" + std::to_string(i % 3);
  s.frame = i;
  s.source = "img" + std::to_string(i) + ".png";
  s.labels = {std::int8_t(i % 2), std::int8_t(i % 3 == 0 ? -1 : 1)};
  s.rgb = cv::Mat(200, 200, CV_8UC3);
  cv::RNG rng(static_cast<std::uint64_t>(i) + 1);  // the same pixels each time sample i is made
  rng.fill(s.rgb, cv::RNG::UNIFORM, 0, 256);
  if (i % 4 != 0)
    for (int k = 0; k < 49; ++k) s.landmarks49.emplace_back(60.f + k, 70.f + k % 7);
  return s;
}

void write_cache(const std::string& path, int n) {
  CacheWriter w(path, {1, 2}, "test cache");
  for (int i = 0; i < n; ++i) w.add(random_sample(i));
  w.finish();
}

std::vector<Batch> epoch(const CacheReader& cache, int threads, int ep) {
  LoaderOptions o;
  o.batch_size = 3;
  o.threads = threads;
  o.seed = 11;
  o.prefetch = 2;
  BatchLoader loader(cache, {}, o);
  loader.start_epoch(ep);
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

}  // namespace

TEST(Cache, RoundTripsImagesLandmarksAndLabels) {
  TempDir dir;
  write_cache(dir / "c.bin", 5);
  const CacheReader r(dir / "c.bin");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r.aus(), (std::vector<int>{1, 2}));
  EXPECT_EQ(r.description(), "test cache");
  EXPECT_EQ(r.subjects(), (std::vector<std::string>{"s0", "s1", "s2"}));
  for (int i = 0; i < 5; ++i) {
    const PreparedSample want = random_sample(i), got = r.read(i);
    EXPECT_EQ(got.subject, want.subject);
    EXPECT_EQ(got.frame, want.frame);
    EXPECT_EQ(got.source, want.source);
    EXPECT_EQ(got.labels, want.labels);
    EXPECT_EQ(got.landmarks49, want.landmarks49);
    EXPECT_EQ(cv::norm(got.rgb, want.rgb, cv::NORM_INF), 0.0);
  }
  EXPECT_EQ(r.all_labels()[2 * 2 + 1], 1);  // record 2, AU2
  EXPECT_EQ(r.all_labels()[2 * 3 + 1], -1);
  EXPECT_EQ(r.subject(4), "s1");
  // AU1 labels 0 1 0 1 0; AU2 -1 1 1 -1 1
  EXPECT_EQ(occurrence_rates(r), (std::vector<double>{0.4, 1.0}));
  EXPECT_EQ(occurrence_rates(r, {0, 1}), (std::vector<double>{0.5, 1.0}));
}

TEST(Cache, RefusesAnUnfinishedOrForeignFile) {
  TempDir dir;
  write_text(dir / "junk.bin", "definitely not a cache file at all.............");
  EXPECT_THROW(CacheReader(dir / "junk.bin"), std::runtime_error);
  EXPECT_THROW(CacheReader(dir / "missing.bin"), std::runtime_error);
  CacheWriter w(dir / "c.bin", {1}, "");
  PreparedSample s = random_sample(0);
  EXPECT_THROW(w.add(s), std::invalid_argument);  // two labels for one AU
}

TEST(Loader, GivesTheSameBatchesWhateverTheThreadCount) {
  TempDir dir;
  write_cache(dir / "c.bin", 10);
  const CacheReader r(dir / "c.bin");
  const auto one = epoch(r, 1, 2), four = epoch(r, 4, 2);
  ASSERT_EQ(one.size(), 4u);  // 10 samples in batches of 3
  ASSERT_EQ(four.size(), one.size());
  for (std::size_t b = 0; b < one.size(); ++b) {
    EXPECT_EQ(one[b].records, four[b].records);
    EXPECT_EQ(one[b].images, four[b].images);
    EXPECT_EQ(one[b].labels, four[b].labels);
    EXPECT_EQ(one[b].landmarks, four[b].landmarks);
  }
  EXPECT_EQ(one.back().size, 1u);
}

TEST(Loader, ShufflesEachEpochDifferentlyAndCoversEveryRecordOnce) {
  TempDir dir;
  write_cache(dir / "c.bin", 10);
  const CacheReader r(dir / "c.bin");
  auto records = [](const std::vector<Batch>& bs) {
    std::vector<std::size_t> v;
    for (const auto& b : bs) v.insert(v.end(), b.records.begin(), b.records.end());
    return v;
  };
  const auto e0 = records(epoch(r, 2, 0)), e1 = records(epoch(r, 2, 1));
  EXPECT_NE(e0, e1);
  auto sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);
}

TEST(Loader, KeepsLabelsOfEachRecordWhenFlipping) {
  TempDir dir;
  write_cache(dir / "c.bin", 8);
  const CacheReader r(dir / "c.bin");
  for (const auto& b : epoch(r, 3, 4))
    for (std::size_t i = 0; i < b.size; ++i) {
      const auto want = random_sample(static_cast<int>(b.records[i])).labels;
      EXPECT_EQ(b.labels[i * 2], want[0]);
      EXPECT_EQ(b.labels[i * 2 + 1], want[1]);
      EXPECT_EQ(b.has_landmarks[i], b.records[i] % 4 != 0 ? 1 : 0);
    }
}

TEST(Loader, BatchesBecomeTensorsOfTheRightShape) {
  TempDir dir;
  write_cache(dir / "c.bin", 4);
  const CacheReader r(dir / "c.bin");
  const auto batches = epoch(r, 2, 0);
  const BatchTensors t = to_tensors(batches[0]);
  EXPECT_EQ(t.images.sizes(), (std::vector<std::int64_t>{3, 3, 176, 176}));
  EXPECT_EQ(t.labels.sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(t.landmarks.sizes(), (std::vector<std::int64_t>{3, 98}));
  EXPECT_EQ(t.inter_ocular.sizes(), (std::vector<std::int64_t>{3}));
  EXPECT_GT(t.inter_ocular.min().item<float>(), 0.f);
}

TEST(Prepare, AlignsImagesWithGivenOrDetectedLandmarks) {
  TempDir dir;
  const auto pts = face68();
  cv::imwrite(dir / "a.png", face_image(pts));
  cv::imwrite(dir / "b.png", face_image(pts));
  write_text(dir / "m.jsonl",
             "{\"image\": \"a.png\", \"subject\": \"p1\", \"aus\": {\"1\": 1, \"2\": 0}, \"landmarks\": " +
                 points_json(pts) + "}\n{\"image\": \"b.png\", \"subject\": \"p2\", \"aus\": {\"1\": 0, \"2\": 1}}\n");
  BadDataLog log;
  const Dataset d = read_manifest(dir / "m.jsonl", {}, log);
  int detector_calls = 0;
  LandmarkDetector detector = [&](const cv::Mat& bgr) -> std::optional<std::vector<cv::Point2f>> {
    ++detector_calls;
    EXPECT_EQ(bgr.cols, 320);
    return pts;
  };
  {
    CacheWriter w(dir / "c.bin", d.aus, "prepared");
    const auto st = prepare_samples(d, {}, detector, {}, w, log);
    EXPECT_EQ(st.written, 2u);
    EXPECT_EQ(st.detected, 1u);
  }
  EXPECT_EQ(detector_calls, 1);
  const CacheReader r(dir / "c.bin");
  ASSERT_EQ(r.size(), 2u);
  const auto a = r.read(0), b = r.read(1);
  EXPECT_EQ(a.rgb.size(), cv::Size(200, 200));
  EXPECT_EQ(a.labels, (std::vector<std::int8_t>{1, 0}));
  ASSERT_EQ(a.landmarks49.size(), 49u);
  // Aligned: the eye line is horizontal and the face is centred.
  EXPECT_NEAR(a.landmarks49[19].y + a.landmarks49[22].y, a.landmarks49[25].y + a.landmarks49[28].y, 1.0);
  EXPECT_GT(a.landmarks49[13].x, 80.f);
  EXPECT_LT(a.landmarks49[13].x, 120.f);
  for (int k = 0; k < 49; ++k) {  // same landmarks, given (via JSON text) or detected
    EXPECT_NEAR(a.landmarks49[k].x, b.landmarks49[k].x, 1e-2);
    EXPECT_NEAR(a.landmarks49[k].y, b.landmarks49[k].y, 1e-2);
  }
}

TEST(Prepare, UnreadableImageIsAnErrorWithManifestLineOrCountedWhenSkipping) {
  TempDir dir;
  const auto pts = face68();
  cv::imwrite(dir / "a.png", face_image(pts));
  write_text(dir / "broken.png", "this is not a PNG");
  const std::string lm = points_json(pts);
  write_text(dir / "m.jsonl", "{\"image\": \"a.png\", \"subject\": \"p\", \"aus\": {\"1\": 1}, \"landmarks\": " + lm +
                                  "}\n{\"image\": \"broken.png\", \"subject\": \"p\", \"aus\": {\"1\": 1}, "
                                  "\"landmarks\": " +
                                  lm + "}\n");
  BadDataLog read_log;
  const Dataset d = read_manifest(dir / "m.jsonl", {}, read_log);
  ASSERT_EQ(d.samples.size(), 2u);  // the reader only checks existence
  {
    CacheWriter w(dir / "c.bin", d.aus, "");
    BadDataLog strict;
    try {
      prepare_samples(d, {}, nullptr, {}, w, strict);
      FAIL() << "no error";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("m.jsonl:2: cannot decode"), std::string::npos) << e.what();
    }
  }
  CacheWriter w(dir / "c2.bin", d.aus, "");
  BadDataLog skip(true);
  EXPECT_EQ(prepare_samples(d, {}, nullptr, {}, w, skip).written, 1u);
  EXPECT_EQ(skip.count(BadDataReason::UnreadableImage), 1);
}

TEST(Prepare, FaceWithoutLandmarksAndNoDetectorIsReported) {
  TempDir dir;
  cv::imwrite(dir / "a.png", face_image(face68()));
  write_text(dir / "m.jsonl", "{\"image\": \"a.png\", \"subject\": \"p\", \"aus\": {\"1\": 1}}\n");
  BadDataLog log;
  const Dataset d = read_manifest(dir / "m.jsonl", {}, log);
  CacheWriter w(dir / "c.bin", d.aus, "");
  EXPECT_THROW(prepare_samples(d, {}, nullptr, {}, w, log), DataError);
}

TEST(Prepare, DecodesTheRequestedVideoFrame) {
  TempDir dir;
  const std::string video = dir / "v.avi";
  cv::VideoWriter vw(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, cv::Size(320, 240));
  if (!vw.isOpened()) GTEST_SKIP() << "OpenCV has no AVI writer here";
  for (int f = 0; f < 4; ++f) vw.write(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(40 * f + 20)));
  vw.release();
  Sample s;
  s.image = video;
  s.video_frame = 2;
  const cv::Mat img = load_sample_image(s);
  ASSERT_FALSE(img.empty());
  EXPECT_NEAR(cv::mean(img)[0], 100.0, 6.0);
}
