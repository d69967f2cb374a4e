// FaceTracker on synthetic faces: boxes and 68-point shapes moved by the test,
// a detector that reports the visible faces, and a "landmark net" that finds
// the face nearest the centre of the crop it is given (or nothing).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <stdexcept>

#include "hicomex/face_tracker.h"
#include "hicomex/geometry.h"

using namespace hicomex;

namespace {

constexpr int kWidth = 640, kHeight = 480;

// A face-like 68-point layout in the unit square (extent exactly [0,1]^2).
std::array<Point2f, 68> unit_shape() {
  std::array<Point2f, 68> p{};
  const float pi = 3.14159265f;
  for (int i = 0; i <= 16; ++i)  // jaw
    p[i] = {0.5f - 0.5f * std::cos(pi * i / 16.f), 0.25f + 0.75f * std::sin(pi * i / 16.f)};
  for (int i = 0; i < 10; ++i) p[17 + i] = {0.12f + 0.76f * i / 9.f, i == 4 || i == 5 ? 0.05f : 0.f};  // brows
  for (int i = 0; i < 4; ++i) p[27 + i] = {0.5f, 0.3f + 0.1f * i};                                     // nose bridge
  for (int i = 0; i < 5; ++i) p[31 + i] = {0.4f + 0.05f * i, 0.62f};                                   // nostrils
  for (int e = 0; e < 2; ++e)
    for (int i = 0; i < 6; ++i)  // eyes around (0.3, 0.3) and (0.7, 0.3)
      p[36 + 6 * e + i] = {0.3f + 0.4f * e + 0.08f * std::cos(pi * i / 3.f), 0.3f + 0.04f * std::sin(pi * i / 3.f)};
  for (int i = 0; i < 12; ++i)
    p[48 + i] = {0.5f - 0.2f * std::cos(pi * i / 6.f), 0.8f + 0.08f * std::sin(pi * i / 6.f)};
  for (int i = 0; i < 8; ++i)
    p[60 + i] = {0.5f - 0.12f * std::cos(pi * i / 4.f), 0.8f + 0.03f * std::sin(pi * i / 4.f)};
  return p;
}

std::array<Point2f, 68> shape_in(const Box& b) {
  auto p = unit_shape();
  for (auto& q : p) q = {b.x + q.x * b.width, b.y + q.y * b.height};
  return p;
}

struct SimFace {
  int key;
  Box box;
  bool visible = true;
};

Detection detection_of(const Box& b) {
  Detection d;
  d.box = b;
  d.score = 0.9f;
  d.has_keypoints = true;
  d.keypoints[0] = {b.x + 0.3f * b.width, b.y + 0.3f * b.height};
  d.keypoints[1] = {b.x + 0.7f * b.width, b.y + 0.3f * b.height};
  d.keypoints[2] = {b.x + 0.5f * b.width, b.y + 0.6f * b.height};
  d.keypoints[3] = {b.x + 0.5f * b.width, b.y + 0.8f * b.height};
  return d;
}

// Drives the tracker through frames of simulated faces.
struct Sim {
  explicit Sim(TrackerOptions o = {}) : tracker(o) {}
  FaceTracker tracker;
  int detector_calls = 0;
  int64_t t_ns = 0;
  std::map<int, float> confidence_of;  // per face key; default 0.9

  std::vector<TrackedFace> step(const std::vector<SimFace>& faces) {
    if (tracker.begin_frame(t_ns)) {
      ++detector_calls;
      std::vector<Detection> dets;
      for (const auto& f : faces)
        if (f.visible) dets.push_back(detection_of(f.box));
      tracker.on_detections(dets, kWidth, kHeight);
    }
    t_ns += 33'333'333;
    for (const LandmarkJob& job : tracker.landmark_jobs()) {
      // The "landmark net": the visible face nearest the crop centre, if the crop holds one.
      const float cx = job.square.x + job.square.width / 2, cy = job.square.y + job.square.height / 2;
      const SimFace* best = nullptr;
      float best_d = 1e9f;
      for (const auto& f : faces) {
        if (!f.visible || iou(f.box, job.square) < 0.2f) continue;
        const float d = std::hypot(f.box.x + f.box.width / 2 - cx, f.box.y + f.box.height / 2 - cy);
        if (d < best_d) best_d = d, best = &f;
      }
      if (best) {
        const auto it = confidence_of.find(best->key);
        tracker.on_landmarks(job.track_id, shape_in(best->box), it == confidence_of.end() ? 0.9f : it->second);
      } else {
        tracker.on_landmarks(job.track_id, shape_in(job.square), 0.05f);  // a shape on background
      }
    }
    return tracker.end_frame();
  }
};

// The id reported for the face at `box` (best overlap), or -1.
int id_at(const std::vector<TrackedFace>& out, const Box& box) {
  int id = -1;
  float best = 0.3f;
  for (const auto& f : out) {
    const float o = iou(f.box, box);
    if (o > best) best = o, id = f.track_id;
  }
  return id;
}

Box box_at(float x, float y, float side = 100.f) { return {x, y, side, side}; }

}  // namespace

TEST(FaceTracker, TwoCrossingFacesKeepTheirIds) {
  Sim sim;
  int id_a = -1, id_b = -1;
  // Nearly the same height, so at the crossing each face's last position is
  // closer to the other face: only the motion tells them apart.
  for (int frame = 0; frame < 32; ++frame) {
    const SimFace a{0, box_at(40.f + 15.f * frame, 150.f)};
    const SimFace b{1, box_at(500.f - 15.f * frame, 160.f)};
    const auto out = sim.step({a, b});
    ASSERT_EQ(out.size(), 2u) << "frame " << frame;
    const int ia = id_at(out, a.box), ib = id_at(out, b.box);
    if (frame == 0) id_a = ia, id_b = ib;
    EXPECT_EQ(ia, id_a) << "frame " << frame;
    EXPECT_EQ(ib, id_b) << "frame " << frame;
  }
  EXPECT_NE(id_a, id_b);
}

TEST(FaceTracker, AFaceMissingForAFewFramesKeepsItsId) {
  Sim sim;
  int id = -1;
  for (int frame = 0; frame < 25; ++frame) {
    const bool missing = frame >= 10 && frame < 13;
    const SimFace f{0, box_at(200.f + 2.f * frame, 150.f), !missing};
    const auto out = sim.step({f});
    if (frame == 0) id = out.at(0).track_id;
    if (frame > 10 && missing) {
      EXPECT_TRUE(out.empty()) << "a lost face is not reported, frame " << frame;
    }
    if (!missing) {
      ASSERT_EQ(out.size(), 1u) << "frame " << frame;
      EXPECT_EQ(out[0].track_id, id) << "frame " << frame;
    }
  }
}

TEST(FaceTracker, ANewFaceGetsANewId) {
  Sim sim;
  int id_a = -1;
  for (int frame = 0; frame < 20; ++frame) {
    std::vector<SimFace> faces{{0, box_at(100, 100)}};
    if (frame >= 8) faces.push_back({1, box_at(400, 200)});
    const auto out = sim.step(faces);
    if (frame == 0) id_a = out.at(0).track_id;
    EXPECT_EQ(id_at(out, faces[0].box), id_a) << "frame " << frame;
    if (frame >= 12) {
      const int id_b = id_at(out, box_at(400, 200));
      EXPECT_GE(id_b, 0) << "frame " << frame;
      EXPECT_NE(id_b, id_a);
    }
  }
}

TEST(FaceTracker, AFaceLeavingThePictureEndsItsTrack) {
  Sim sim;
  int first_id = -1;
  int frame = 0;
  for (; frame < 30; ++frame) {
    const SimFace f{0, box_at(400.f + 20.f * frame, 150.f), 400.f + 20.f * frame < kWidth - 40.f};
    const auto out = sim.step({f});
    if (frame == 0) first_id = out.at(0).track_id;
  }
  EXPECT_EQ(sim.tracker.track_count(), 0u);
  // Someone else comes in on the left: a new id.
  std::vector<TrackedFace> out;
  for (int k = 0; k < 3; ++k) out = sim.step({{1, box_at(20, 150)}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].track_id, first_id);
}

TEST(FaceTracker, AFaceThatVanishesEndsAfterMaxMissedDetections) {
  TrackerOptions o;
  o.max_missed = 2;
  Sim sim(o);
  sim.step({{0, box_at(200, 200)}});
  sim.step({{0, box_at(200, 200)}});
  ASSERT_EQ(sim.tracker.track_count(), 1u);
  // Gone: landmarks lose it, then the detector misses it max_missed + 1 times.
  for (int k = 0; k < 4; ++k) sim.step({{0, box_at(200, 200), false}});
  EXPECT_EQ(sim.tracker.track_count(), 0u);
}

TEST(FaceTracker, KeepsTheLargestFacesUpToMaxFaces) {
  TrackerOptions o;
  o.max_faces = 2;
  Sim sim(o);
  const std::vector<SimFace> faces{{0, box_at(20, 100, 80)}, {1, box_at(200, 100, 160)}, {2, box_at(420, 100, 120)}};
  for (int frame = 0; frame < 6; ++frame) {
    const auto out = sim.step(faces);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_NEAR(out[0].box.width, 160.f, 1.f);
    EXPECT_NEAR(out[1].box.width, 120.f, 1.f);
  }
}

TEST(FaceTracker, AppliesLoweredMaxFacesAndMinSizeBeforeTheNextDetection) {
  TrackerOptions o;
  o.detection_interval = 100;  // no detection after the first frame
  Sim sim(o);
  const std::vector<SimFace> faces{{0, box_at(20, 100, 80)}, {1, box_at(200, 100, 160)}, {2, box_at(420, 100, 120)}};
  ASSERT_EQ(sim.step(faces).size(), 3u);
  o.max_faces = 2;
  sim.tracker.set_options(o);
  auto out = sim.step(faces);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NEAR(out[0].box.width, 160.f, 1.f);
  o.min_face_size = 140;
  sim.tracker.set_options(o);
  out = sim.step(faces);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].box.width, 160.f, 1.f);
  EXPECT_EQ(sim.tracker.detector_runs(), 1);
}

TEST(FaceTracker, IgnoresFacesSmallerThanMinFaceSize) {
  TrackerOptions o;
  o.min_face_size = 60;
  Sim sim(o);
  const auto out = sim.step({{0, box_at(20, 100, 40)}, {1, box_at(300, 100, 120)}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].box.width, 120.f, 1.f);
}

TEST(FaceTracker, RunsTheDetectorEveryDetectionIntervalFrames) {
  TrackerOptions o;
  o.detection_interval = 4;
  Sim sim(o);
  for (int frame = 0; frame < 20; ++frame) sim.step({{0, box_at(200.f + frame, 150.f)}});
  EXPECT_EQ(sim.detector_calls, 5);  // frames 0, 4, 8, 12, 16
  EXPECT_EQ(sim.tracker.detector_runs(), 5);
}

TEST(FaceTracker, RunsTheDetectorEarlyWhenLandmarkConfidenceDrops) {
  TrackerOptions o;
  o.detection_interval = 10;
  Sim sim(o);
  for (int frame = 0; frame < 3; ++frame) sim.step({{0, box_at(200, 150)}});
  EXPECT_EQ(sim.detector_calls, 1);
  sim.confidence_of[0] = 0.2f;  // the landmarks look wrong on frame 3...
  sim.step({{0, box_at(200, 150)}});
  sim.confidence_of.erase(0);
  const int before = sim.detector_calls;
  sim.step({{0, box_at(200, 150)}});  // ...so the detector runs on frame 4
  EXPECT_EQ(sim.detector_calls, before + 1);
}

TEST(FaceTracker, RunsTheDetectorOnEveryFrameWhileNoFaceIsTracked) {
  Sim sim;
  for (int frame = 0; frame < 7; ++frame) EXPECT_TRUE(sim.step({}).empty());
  EXPECT_EQ(sim.detector_calls, 7);
}

TEST(FaceTracker, ConfirmsANewFaceAfterConfirmHitsFrames) {
  TrackerOptions o;
  o.confirm_hits = 3;
  o.detection_interval = 1;
  Sim sim(o);
  for (int frame = 0; frame < 5; ++frame) sim.step({{0, box_at(100, 100)}});
  // A face appearing later is reported only from its third confident frame.
  std::vector<size_t> counts;
  for (int frame = 0; frame < 4; ++frame)
    counts.push_back(sim.step({{0, box_at(100, 100)}, {1, box_at(400, 100)}}).size());
  EXPECT_EQ(counts, (std::vector<size_t>{1, 1, 2, 2}));
}

TEST(FaceTracker, SmoothsJitteryLandmarksWhenAsked) {
  auto jitter_of = [](float cutoff_hz) {
    TrackerOptions o;
    o.landmark_min_cutoff_hz = cutoff_hz;
    Sim sim(o);
    double sum = 0.0;
    for (int frame = 0; frame < 30; ++frame) {
      const float j = (frame % 2 ? 3.f : -3.f);  // +-3 px flicker around a still face
      const auto out = sim.step({{0, box_at(200.f + j, 150.f)}});
      if (frame >= 10) sum += std::fabs(out.at(0).landmarks[30].x - 250.f);
    }
    return sum / 20.0;
  };
  EXPECT_NEAR(jitter_of(0.f), 3.0, 1e-3);  // off: raw points
  EXPECT_LT(jitter_of(1.f), 1.5);
}

TEST(FaceTracker, SmoothsAuProbabilitiesAndStartsFreshOnANewTrack) {
  TrackerOptions o;
  o.au_smoothing = 0.5f;
  Sim sim(o);
  const int id = sim.step({{0, box_at(100, 100)}}).at(0).track_id;
  EXPECT_EQ(sim.tracker.on_aus(id, {1.f, 0.f}), (std::vector<float>{1.f, 0.f}));
  sim.step({{0, box_at(100, 100)}});
  EXPECT_EQ(sim.tracker.on_aus(id, {0.f, 1.f}), (std::vector<float>{0.5f, 0.5f}));
  sim.tracker.reset();
  const int id2 = sim.step({{0, box_at(100, 100)}}).at(0).track_id;
  EXPECT_NE(id2, id);
  EXPECT_EQ(sim.tracker.on_aus(id2, {0.f, 1.f}), (std::vector<float>{0.f, 1.f}));
}

TEST(FaceTracker, AppliesNewOptionsAtTheNextFrame) {
  Sim sim;
  sim.step({{0, box_at(100, 100)}});
  TrackerOptions o;
  o.min_face_size = 200;
  sim.tracker.set_options(o);
  EXPECT_EQ(sim.tracker.options().min_face_size, 0);
  EXPECT_TRUE(sim.step({{0, box_at(100, 100)}}).empty());
  EXPECT_EQ(sim.tracker.options().min_face_size, 200);
}

TEST(FaceTracker, RejectsOptionsThatCannotWorkNamingTheField) {
  TrackerOptions o;
  o.detection_interval = 0;
  try {
    FaceTracker t(o);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("detection_interval"), std::string::npos) << e.what();
  }
  o = {};
  o.au_smoothing = 1.f;
  EXPECT_THROW(FaceTracker{o}, std::invalid_argument);
}
