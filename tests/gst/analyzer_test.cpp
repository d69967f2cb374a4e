// The hicomex analyzer element through GstHarness and small pipelines, with
// an untrained small model: the plumbing (metas, thresholds, errors, state
// changes, QoS) is asserted, not the AU values.
#include <gtest/gtest.h>

#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "analyzer_settings.h"
#include "analyzer_test_util.h"
#include "hicomex/option_parsers.h"
#include "hicomex_meta_utils.h"

using namespace gsttest;

namespace {

constexpr guint kModelAus = 12;

class HicomexElement : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    init_gst();
    small_model();
  }
  void TearDown() override {
    if (h_) gst_harness_teardown(h_);
    if (bus_) gst_object_unref(bus_);
  }

  // The element with the small model, `props` set before it starts, behind a
  // harness with `caps`; its bus is bus_.
  GstHarness* start(const std::string& caps, std::function<void(GstElement*)> props = {},
                    const std::string& model = small_model()) {
    GstElement* e = gst_element_factory_make("hicomex", nullptr);
    EXPECT_NE(e, nullptr) << "plugin not found through GST_PLUGIN_PATH";
    g_object_set(e, "model", model.c_str(), nullptr);
    if (props) props(e);
    bus_ = gst_bus_new();
    gst_element_set_bus(e, bus_);
    h_ = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);  // the harness holds it
    gst_harness_set_src_caps_str(h_, caps.c_str());
    return h_;
  }

  // Pushes `buf` and pulls it back out.
  GstBuffer* run(GstBuffer* buf) {
    EXPECT_EQ(gst_harness_push(h_, buf), GST_FLOW_OK);
    return gst_harness_pull(h_);
  }

  GstHarness* h_ = nullptr;
  GstBus* bus_ = nullptr;
};

std::vector<GstVideoRegionOfInterestMeta*> roi_metas(GstBuffer* buf) {
  std::vector<GstVideoRegionOfInterestMeta*> out;
  gpointer state = nullptr;
  while (GstMeta* m = gst_buffer_iterate_meta_filtered(buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    out.push_back(reinterpret_cast<GstVideoRegionOfInterestMeta*>(m));
  return out;
}

int count_occurring(const GstHicomexMeta* meta) {
  int n = 0;
  for (guint f = 0; f < meta->n_faces; ++f)
    for (guint a = 0; a < meta->n_aus; ++a) n += meta->faces[f].au_occurrence[a];
  return n;
}

// The first error on `bus`, as "message | debug".
std::string bus_error(GstBus* bus) {
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (!msg) return "";
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  std::string text = std::string(err->message) + " | " + (debug ? debug : "");
  g_error_free(err);
  g_free(debug);
  gst_message_unref(msg);
  return text;
}

class FacePhoto : public HicomexElement, public ::testing::WithParamInterface<GstVideoFormat> {};

}  // namespace

TEST_P(FacePhoto, GetsOneFaceWithLandmarksInsideItsBoxAndARoiMeta) {
  const GstVideoFormat format = GetParam();
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(format, rgb.cols, rgb.rows));
  GstBuffer* out = run(buffer_from_rgb(rgb, format));

  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_NE(meta, nullptr);
  EXPECT_STREQ(meta->model_id, "hicomex-gst-test");
  ASSERT_EQ(meta->n_aus, kModelAus);
  EXPECT_EQ(meta->au_ids[0], 1);
  ASSERT_EQ(meta->n_faces, 1u);
  const GstHicomexFace& face = meta->faces[0];
  // Grace Hopper's face sits in the middle of the photo.
  EXPECT_GT(face.width, 100.f);
  EXPECT_LT(face.width, 400.f);
  const float cx = face.x + face.width / 2, cy = face.y + face.height / 2;
  EXPECT_GT(cx, 150.f);
  EXPECT_LT(cx, 350.f);
  EXPECT_GT(cy, 100.f);
  EXPECT_LT(cy, 350.f);
  const float margin = 0.15f * face.width;
  for (int i = 0; i < 68; ++i) {
    EXPECT_GE(face.landmarks[2 * i], face.x - margin) << i;
    EXPECT_LE(face.landmarks[2 * i], face.x + face.width + margin) << i;
    EXPECT_GE(face.landmarks[2 * i + 1], face.y - margin) << i;
    EXPECT_LE(face.landmarks[2 * i + 1], face.y + face.height + margin) << i;
  }
  EXPECT_TRUE(face.success);
  EXPECT_FALSE(meta->has_intensity) << "the small model predicts occurrence only";
  EXPECT_EQ(face.au_intensity, nullptr);
  for (guint a = 0; a < meta->n_aus; ++a) {
    EXPECT_GE(face.au_probability[a], 0.f);
    EXPECT_LE(face.au_probability[a], 1.f);
    EXPECT_EQ(face.au_occurrence[a], face.au_probability[a] >= 0.5f ? 1 : 0) << "model thresholds are 0.5";
  }

  const auto rois = roi_metas(out);
  ASSERT_EQ(rois.size(), 1u);
  EXPECT_STREQ(g_quark_to_string(rois[0]->roi_type), "face");
  EXPECT_EQ(rois[0]->id, face.track_id);
  EXPECT_NEAR(rois[0]->x, face.x, 1.0);
  EXPECT_NEAR(rois[0]->w, face.width, 1.0);
  GstStructure* au = gst_video_region_of_interest_meta_get_param(rois[0], "hicomex/au");
  ASSERT_NE(au, nullptr);
  gdouble p = -1;
  EXPECT_TRUE(gst_structure_get_double(au, "AU01-p", &p));
  EXPECT_NEAR(p, face.au_probability[0], 1e-6);
  gst_buffer_unref(out);
}

INSTANTIATE_TEST_SUITE_P(HicomexElement, FacePhoto,
                         ::testing::Values(GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12),
                         [](const auto& info) { return std::string(gst_video_format_to_string(info.param)); });

TEST_F(HicomexElement, LeavesThePixelsAsTheyWere) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows));
  GstBuffer* in = buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB);
  GstMemory* memory = gst_buffer_peek_memory(in, 0);
  gst_buffer_ref(in);  // shared: the element must not write into this buffer
  GstBuffer* out = run(in);
  EXPECT_EQ(gst_buffer_get_hicomex_meta(in), nullptr) << "a shared buffer got the meta";
  EXPECT_NE(gst_buffer_get_hicomex_meta(out), nullptr);
  EXPECT_EQ(gst_buffer_peek_memory(out, 0), memory) << "the pixels were copied";
  GstMapInfo map;
  gst_buffer_map(out, &map, GST_MAP_READ);
  EXPECT_EQ(std::memcmp(map.data, rgb.data, map.size), 0);
  gst_buffer_unmap(out, &map);
  gst_buffer_unref(in);
  gst_buffer_unref(out);
}

TEST_F(HicomexElement, FramesWithoutAFaceGetAnEmptyMetaAndNoRoi) {
  const cv::Mat landscape = load_rgb(kLandscape);
  start(caps_string(GST_VIDEO_FORMAT_RGB, landscape.cols, landscape.rows));
  GstBuffer* out = run(buffer_from_rgb(landscape, GST_VIDEO_FORMAT_RGB));
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->n_faces, 0u);
  EXPECT_EQ(meta->n_aus, kModelAus) << "the meta names the model's AUs even without faces";
  EXPECT_TRUE(roi_metas(out).empty());
  gst_buffer_unref(out);

  out = run(buffer_from_rgb(grey_rgb(landscape.cols, landscape.rows), GST_VIDEO_FORMAT_RGB));
  meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->n_faces, 0u);
  EXPECT_TRUE(roi_metas(out).empty());
  gst_buffer_unref(out);
}

TEST_F(HicomexElement, ThresholdChangesApplyAtTheNextFrame) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows),
        [](GstElement* e) { g_object_set(e, "threshold", "0", nullptr); });
  GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  ASSERT_EQ(gst_buffer_get_hicomex_meta(out)->n_faces, 1u);
  EXPECT_EQ(count_occurring(gst_buffer_get_hicomex_meta(out)), static_cast<int>(kModelAus));
  gst_buffer_unref(out);

  g_object_set(h_->element, "threshold", "1", nullptr);  // while PLAYING
  out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  EXPECT_EQ(count_occurring(gst_buffer_get_hicomex_meta(out)), 0);
  gst_buffer_unref(out);

  g_object_set(h_->element, "threshold", "AU1=0, au12=0", nullptr);  // the others: the model's
  out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  EXPECT_EQ(meta->faces[0].au_occurrence[gst_hicomex_meta_find_au(meta, 1)], 1);
  EXPECT_EQ(meta->faces[0].au_occurrence[gst_hicomex_meta_find_au(meta, 12)], 1);
  gst_buffer_unref(out);
}

TEST_F(HicomexElement, AnInvalidThresholdWhilePlayingWarnsAndKeepsTheLastOne) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows),
        [](GstElement* e) { g_object_set(e, "threshold", "0", nullptr); });
  gst_buffer_unref(run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB)));
  g_object_set(h_->element, "threshold", "AU99=0.3", nullptr);
  GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  EXPECT_EQ(count_occurring(gst_buffer_get_hicomex_meta(out)), static_cast<int>(kModelAus));
  gst_buffer_unref(out);
  GstMessage* warning = gst_bus_pop_filtered(bus_, GST_MESSAGE_WARNING);
  ASSERT_NE(warning, nullptr);
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_warning(warning, &err, &debug);
  EXPECT_NE(std::string(debug).find("AU99"), std::string::npos) << debug;
  // The message itself (what gst-launch prints) names the value, not only the debug detail.
  EXPECT_NE(std::string(err->message).find("AU99"), std::string::npos) << err->message;
  g_error_free(err);
  g_free(debug);
  gst_message_unref(warning);
}

TEST_F(HicomexElement, KeepsAtMostMaxFacesLargestFirst) {
  // Two copies of the photo side by side, one of them smaller.
  const cv::Mat face = load_rgb(kGraceHopper);
  cv::Mat canvas = grey_rgb(768, 384);
  cv::Mat big, small;
  cv::resize(face, big, {384, 384});
  cv::resize(face, small, {256, 256});
  big.copyTo(canvas(cv::Rect(0, 0, 384, 384)));
  small.copyTo(canvas(cv::Rect(448, 64, 256, 256)));
  // The face limit is enforced when the detector runs: on every frame here.
  start(caps_string(GST_VIDEO_FORMAT_RGB, canvas.cols, canvas.rows),
        [](GstElement* e) { g_object_set(e, "detection-interval", 1u, nullptr); });
  GstBuffer* out = run(buffer_from_rgb(canvas, GST_VIDEO_FORMAT_RGB));
  ASSERT_EQ(gst_buffer_get_hicomex_meta(out)->n_faces, 2u) << "the detector should see both faces";
  gst_buffer_unref(out);

  g_object_set(h_->element, "max-faces", 1u, nullptr);
  out = run(buffer_from_rgb(canvas, GST_VIDEO_FORMAT_RGB));
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_EQ(meta->n_faces, 1u);
  EXPECT_LT(meta->faces[0].x + meta->faces[0].width / 2, 384.f) << "the larger face stays";
  EXPECT_EQ(roi_metas(out).size(), 1u);
  gst_buffer_unref(out);
}

TEST_F(HicomexElement, ReadsPaddedStridesAndOddSizes) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(GST_VIDEO_FORMAT_I420, rgb.cols, rgb.rows));
  GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_I420, 40));
  EXPECT_EQ(gst_buffer_get_hicomex_meta(out)->n_faces, 1u);
  gst_buffer_unref(out);

  for (GstVideoFormat f : {GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420}) {
    gst_harness_set_src_caps_str(h_, caps_string(f, 321, 241).c_str());
    GstVideoInfo info;
    gst_video_info_set_format(&info, f, 321, 241);
    GstBuffer* in = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    gst_buffer_memset(in, 0, 128, GST_VIDEO_INFO_SIZE(&info));
    out = run(in);
    ASSERT_NE(out, nullptr) << gst_video_format_to_string(f);
    ASSERT_NE(gst_buffer_get_hicomex_meta(out), nullptr) << gst_video_format_to_string(f);
    EXPECT_EQ(gst_buffer_get_hicomex_meta(out)->n_faces, 0u);
    gst_buffer_unref(out);
  }
}

TEST_F(HicomexElement, FollowsAResolutionChangeMidStream) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows));
  GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  ASSERT_EQ(gst_buffer_get_hicomex_meta(out)->n_faces, 1u);
  gst_buffer_unref(out);

  cv::Mat half;
  cv::resize(rgb, half, {256, 256});
  gst_harness_set_src_caps_str(h_, caps_string(GST_VIDEO_FORMAT_RGB, 256, 256).c_str());
  out = run(buffer_from_rgb(half, GST_VIDEO_FORMAT_RGB));
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_EQ(meta->n_faces, 1u);
  EXPECT_LE(meta->faces[0].x + meta->faces[0].width, 256.f + 1.f);
  EXPECT_LT(meta->faces[0].width, 200.f) << "a box of the old size survived the change";
  gst_buffer_unref(out);
}

TEST_F(HicomexElement, PostsOneMessagePerFrameWhenAsked) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows),
        [](GstElement* e) { g_object_set(e, "post-messages", TRUE, nullptr); });
  for (int i = 0; i < 3; ++i) {
    GstBuffer* in = buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB);
    GST_BUFFER_PTS(in) = i * GST_SECOND / 30;
    gst_buffer_unref(run(in));
  }
  int messages = 0;
  while (GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(m);
    if (gst_structure_has_name(s, "hicomex")) {
      ++messages;
      guint64 frame = 0;
      EXPECT_TRUE(gst_structure_get_uint64(s, "frame", &frame));
      EXPECT_EQ(frame, static_cast<guint64>(messages));
      EXPECT_EQ(hicomex::gst::faces_from_results_structure(s).size(), 1u);
    }
    gst_message_unref(m);
  }
  EXPECT_EQ(messages, 3);

  g_object_set(h_->element, "post-messages", FALSE, nullptr);
  gst_buffer_unref(run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB)));
  EXPECT_EQ(gst_bus_pop_filtered(bus_, GST_MESSAGE_ELEMENT), nullptr);
}

TEST_F(HicomexElement, LateFramesSkipTheAuNetworkButAreNotDropped) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows));
  gst_buffer_unref(run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB)));  // the face gets its AUs
  // The sink says: everything before 10 s is late.
  ASSERT_TRUE(gst_harness_push_upstream_event(h_, gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 0.5, 10 * GST_SECOND, 0)));
  for (int i = 1; i <= 3; ++i) {
    GstBuffer* in = buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB);
    GST_BUFFER_PTS(in) = i * GST_SECOND / 30;
    GstBuffer* out = run(in);
    ASSERT_NE(out, nullptr) << "frame " << i << " dropped";
    GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
    ASSERT_EQ(meta->n_faces, 1u);
    EXPECT_TRUE(meta->faces[0].success) << "the last AU values are reused";
    gst_buffer_unref(out);
  }
  guint64 skipped = 0;
  g_object_get(h_->element, "skipped-inferences", &skipped, nullptr);
  EXPECT_EQ(skipped, 3u);

  g_object_set(h_->element, "qos", FALSE, nullptr);
  GstBuffer* in = buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB);
  GST_BUFFER_PTS(in) = GST_SECOND;
  gst_buffer_unref(run(in));
  g_object_get(h_->element, "skipped-inferences", &skipped, nullptr);
  EXPECT_EQ(skipped, 3u) << "qos=false analyses every frame";
}

TEST_F(HicomexElement, AddsNoLatency) {
  start(caps_string(GST_VIDEO_FORMAT_RGB, 64, 64));
  gst_harness_set_upstream_latency(h_, 20 * GST_MSECOND);
  EXPECT_EQ(gst_harness_query_latency(h_), 20 * GST_MSECOND);
}

TEST(HicomexProperties, RoundTrip) {
  init_gst();
  GstElement* e = gst_element_factory_make("hicomex", nullptr);
  ASSERT_NE(e, nullptr);
  gchar* s = nullptr;
  g_object_get(e, "model", &s, nullptr);
  EXPECT_EQ(s, nullptr) << "default: the installed model";
  g_object_get(e, "device", &s, nullptr);
  EXPECT_STREQ(s, "auto");
  g_free(s);
  g_object_get(e, "precision", &s, nullptr);
  EXPECT_STREQ(s, "auto");
  g_free(s);
  g_object_set(e, "precision", "bf16", nullptr);
  g_object_get(e, "precision", &s, nullptr);
  EXPECT_STREQ(s, "bf16");
  g_free(s);
  guint timeout = 99;
  g_object_get(e, "batch-timeout", &timeout, nullptr);
  EXPECT_EQ(timeout, 0u) << "cross-stream batching is off by default";
  g_object_set(e, "batch-timeout", 5000u, nullptr);
  g_object_get(e, "batch-timeout", &timeout, nullptr);
  EXPECT_EQ(timeout, 5000u);

  g_object_set(e, "model", "/models/x.safetensors", "device", "cpu", "threads", 3u, "detector", 2, "detection-interval",
               7u, "inference-interval", 2u, "max-faces", 4u, "min-face-size", 48u, "threshold", "AU12=0.3,AU4=0.6",
               "landmark-smoothing", 2.5, "au-smoothing", 0.4, "post-messages", TRUE, nullptr);
  guint threads, det_int, inf_int, max_faces, min_size;
  gint detector;
  gdouble lm, au;
  gboolean post;
  gchar *model, *device, *threshold;
  g_object_get(e, "model", &model, "device", &device, "threads", &threads, "detector", &detector, "detection-interval",
               &det_int, "inference-interval", &inf_int, "max-faces", &max_faces, "min-face-size", &min_size,
               "threshold", &threshold, "landmark-smoothing", &lm, "au-smoothing", &au, "post-messages", &post,
               nullptr);
  EXPECT_STREQ(model, "/models/x.safetensors");
  EXPECT_STREQ(device, "cpu");
  EXPECT_EQ(threads, 3u);
  EXPECT_EQ(detector, 2);
  EXPECT_EQ(det_int, 7u);
  EXPECT_EQ(inf_int, 2u);
  EXPECT_EQ(max_faces, 4u);
  EXPECT_EQ(min_size, 48u);
  EXPECT_STREQ(threshold, "AU12=0.3,AU4=0.6");
  EXPECT_DOUBLE_EQ(lm, 2.5);
  EXPECT_DOUBLE_EQ(au, 0.4);
  EXPECT_TRUE(post);
  gchar* calibration = nullptr;
  g_object_get(e, "calibration", &calibration, nullptr);
  EXPECT_STREQ(calibration, "dynamic") << "calibrated per person by default";
  g_free(calibration);
  g_object_set(e, "calibration", "none", nullptr);
  g_object_get(e, "calibration", &calibration, nullptr);
  EXPECT_STREQ(calibration, "none");
  g_free(calibration);
  g_object_set(e, "calibration", nullptr, nullptr);
  g_object_get(e, "calibration", &calibration, nullptr);
  EXPECT_STREQ(calibration, "dynamic") << "NULL: the default";
  g_free(calibration);
  g_free(model);
  g_free(device);
  g_free(threshold);
  gst_util_set_object_arg(G_OBJECT(e), "detector", "blazeface-back");
  g_object_get(e, "detector", &detector, nullptr);
  EXPECT_EQ(detector, 1);
  gst_object_unref(e);
}

namespace {

// Starts a lone element with `model`; returns the bus error ("" if it started).
std::string start_error(const std::string& model, const char* threshold = nullptr) {
  init_gst();
  GstElement* e = gst_element_factory_make("hicomex", nullptr);
  g_object_set(e, "model", model.c_str(), "threshold", threshold, nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  const GstStateChangeReturn ret = gst_element_set_state(e, GST_STATE_PAUSED);
  std::string error = bus_error(bus);
  if (ret != GST_STATE_CHANGE_FAILURE) error = "";
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(e);
  return error;
}

}  // namespace

TEST(HicomexErrors, AMissingModelFailsTheStartNamingThePath) {
  const std::string error = start_error("/nonexistent/dir/model.safetensors");
  EXPECT_NE(error.find("/nonexistent/dir/model.safetensors"), std::string::npos) << error;
}

TEST(HicomexErrors, ACorruptModelFailsTheStartNamingThePath) {
  TempDir dir;
  const std::string path = dir.file("garbage.safetensors");
  std::ofstream(path) << "this is not a safetensors file \x01\x02\x03";
  const std::string error = start_error(path);
  ASSERT_NE(error, "") << "a corrupt model must not start";
  EXPECT_NE(error.substr(0, error.find(" | ")).find(path), std::string::npos) << error;
}

TEST(HicomexErrors, AThresholdForAnAuTheModelLacksFailsTheStart) {
  const std::string error = start_error(small_model(), "AU99=0.5");
  EXPECT_NE(error.find("AU99"), std::string::npos) << error;
  EXPECT_EQ(start_error(small_model(), "AU12=0.5"), "");
}

TEST(HicomexPipeline, SurvivesTwentyStartsAndStops) {
  init_gst();
  const std::string line =
      "videotestsrc num-buffers=2 ! video/x-raw,width=160,height=120 ! hicomex model=" + small_model() +
      " ! fakesink name=sink";
  GstElement* pipeline = gst_parse_launch(line.c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstBus* bus = gst_element_get_bus(pipeline);
  for (int cycle = 0; cycle < 20; ++cycle) {
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << cycle;
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    ASSERT_NE(msg, nullptr) << cycle;
    EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS) << cycle;
    gst_message_unref(msg);
    ASSERT_EQ(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS) << cycle;
  }
  gst_object_unref(bus);
  gst_object_unref(pipeline);
}

// The threshold grammar itself (one parser for the element and the tools) is
// tested with the other option parsers in tests/analyzer/test_options.cpp.

// ---- the element's worker threads: order, timestamps, EOS, live vs file ----

namespace {

// 13 frames of 320x240 RGB: a face sliding right (frames 0-8), two frames
// without it, then the face again.
std::vector<cv::Mat> moving_face_clip() {
  cv::Mat face;
  cv::resize(load_rgb(kGraceHopper), face, cv::Size(150, 150), 0, 0, cv::INTER_AREA);
  std::vector<cv::Mat> out;
  for (int i = 0; i < 13; ++i) {
    cv::Mat f(240, 320, CV_8UC3, cv::Scalar(90, 110, 100));
    if (i < 9 || i > 10) face.copyTo(f(cv::Rect(20 + 6 * (i % 9), 30 + 2 * (i % 9), 150, 150)));
    out.push_back(f);
  }
  return out;
}

struct ClipRun {
  std::vector<GstClockTime> pts;
  std::vector<std::vector<hicomex::FaceResult>> faces;
  bool eos = false;
  std::string error;
};

// Pushes the clip through appsrc (live or not) ! hicomex ! appsink, EOS
// right after the last frame (while frames are still in the element), and
// collects what comes out.
ClipRun run_clip(bool live, const std::string& props = "") {
  const std::string line =
      std::string("appsrc name=src format=time is-live=") + (live ? "true" : "false") +
      " caps=video/x-raw,format=RGB,width=320,height=240,framerate=25/1 ! hicomex model=" + small_model() + " " +
      props + " ! appsink name=sink sync=false";
  GstElement* pipeline = gst_parse_launch(line.c_str(), nullptr);
  EXPECT_NE(pipeline, nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  EXPECT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  const auto clip = moving_face_clip();
  for (size_t i = 0; i < clip.size(); ++i) {
    GstBuffer* b = buffer_from_rgb(clip[i], GST_VIDEO_FORMAT_RGB);
    GST_BUFFER_PTS(b) = i * 40 * GST_MSECOND;
    GST_BUFFER_DURATION(b) = 40 * GST_MSECOND;
    GstFlowReturn ret;
    g_signal_emit_by_name(src, "push-buffer", b, &ret);
    gst_buffer_unref(b);
    EXPECT_EQ(ret, GST_FLOW_OK);
  }
  GstFlowReturn ret;
  g_signal_emit_by_name(src, "end-of-stream", &ret);
  ClipRun r;
  while (true) {
    GstSample* s = nullptr;
    g_signal_emit_by_name(sink, "try-pull-sample", 60 * GST_SECOND, &s);
    if (!s) break;
    GstBuffer* b = gst_sample_get_buffer(s);
    r.pts.push_back(GST_BUFFER_PTS(b));
    const GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(b);
    EXPECT_NE(meta, nullptr) << "every frame gets a meta";
    r.faces.push_back(meta ? hicomex::gst::faces_from_meta(meta) : std::vector<hicomex::FaceResult>{});
    gst_sample_unref(s);
  }
  gboolean eos = FALSE;
  g_object_get(sink, "eos", &eos, nullptr);
  r.eos = eos;
  GstBus* bus = gst_element_get_bus(pipeline);
  if (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError* e = nullptr;
    gst_message_parse_error(m, &e, nullptr);
    r.error = e->message;
    g_error_free(e);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return r;
}

}  // namespace

TEST(HicomexThreads, FramesLeaveInOrderWithTheirTimestampsAndEosWaitsForThem) {
  init_gst();
  for (bool live : {false, true}) {
    const ClipRun r = run_clip(live, "au-batch=4");
    EXPECT_EQ(r.error, "");
    EXPECT_TRUE(r.eos) << "live=" << live;
    ASSERT_EQ(r.pts.size(), 13u) << "every frame comes out before EOS, live=" << live;
    for (size_t i = 0; i < r.pts.size(); ++i) EXPECT_EQ(r.pts[i], i * 40 * GST_MSECOND) << i;
    int with_face = 0;
    for (const auto& f : r.faces) with_face += f.empty() ? 0 : 1;
    EXPECT_GE(with_face, 9) << "live=" << live;
  }
}

TEST(HicomexThreads, BatchedFileFramesGetTheResultsOfFrameAtATimeLiveOnes) {
  init_gst();
  const ClipRun file = run_clip(false, "au-batch=8 threads=2");
  const ClipRun live = run_clip(true);
  ASSERT_EQ(file.faces.size(), live.faces.size());
  for (size_t i = 0; i < file.faces.size(); ++i) {
    ASSERT_EQ(file.faces[i].size(), live.faces[i].size()) << "frame " << i;
    for (size_t k = 0; k < live.faces[i].size(); ++k) {
      const auto &a = file.faces[i][k], &b = live.faces[i][k];
      EXPECT_EQ(a.track_id, b.track_id) << "frame " << i;
      EXPECT_NEAR(a.box.x, b.box.x, 1e-3) << "frame " << i;
      ASSERT_EQ(a.au_probability.size(), b.au_probability.size());
      for (size_t u = 0; u < a.au_probability.size(); ++u)
        EXPECT_NEAR(a.au_probability[u], b.au_probability[u], 2e-4) << "frame " << i << " AU " << u;
    }
  }
}

TEST(HicomexThreads, AFileAddsTheFramesItHoldsToTheLatencyALiveSourceNothing) {
  init_gst();
  // Live: the harness's source is live; nothing is added (AddsNoLatency above).
  // A file: the element reports what it holds once it knows the source is not live.
  const std::string line =
      "appsrc name=src format=time is-live=false "
      "caps=video/x-raw,format=RGB,width=320,height=240,framerate=25/1 ! hicomex name=hx model=" +
      small_model() + " au-batch=4 ! fakesink";
  GstElement* pipeline = gst_parse_launch(line.c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstElement* hx = gst_bin_get_by_name(GST_BIN(pipeline), "hx");
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstBuffer* b = buffer_from_rgb(grey_rgb(320, 240), GST_VIDEO_FORMAT_RGB);
  GST_BUFFER_PTS(b) = 0;
  GstFlowReturn ret;
  g_signal_emit_by_name(src, "push-buffer", b, &ret);
  gst_buffer_unref(b);
  g_signal_emit_by_name(src, "end-of-stream", &ret);
  gst_element_get_state(pipeline, nullptr, nullptr, 30 * GST_SECOND);
  GstPad* srcpad = gst_element_get_static_pad(hx, "src");
  GstQuery* q = gst_query_new_latency();
  // appsrc answers upstream latency queries as not live with 0 latency.
  ASSERT_TRUE(gst_pad_query(srcpad, q));
  gboolean is_live = TRUE;
  GstClockTime min = 0;
  gst_query_parse_latency(q, &is_live, &min, nullptr);
  EXPECT_FALSE(is_live);
  // au-batch 4: 2 batches + the workers held, minus the one being analysed.
  EXPECT_GE(min, 8 * 40 * GST_MSECOND) << "frames held x 40 ms";
  gst_query_unref(q);
  gst_object_unref(srcpad);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(hx);
  gst_object_unref(src);
  gst_object_unref(pipeline);
}

TEST(HicomexThreads, StoppingWithFramesInFlightDoesNotHang) {
  init_gst();
  const std::string line =
      "appsrc name=src format=time is-live=false max-buffers=0 "
      "caps=video/x-raw,format=RGB,width=320,height=240,framerate=25/1 ! hicomex model=" +
      small_model() + " ! appsink name=sink sync=false max-buffers=1";
  const auto clip = moving_face_clip();
  for (int cycle = 0; cycle < 5; ++cycle) {
    GstElement* pipeline = gst_parse_launch(line.c_str(), nullptr);
    ASSERT_NE(pipeline, nullptr);
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    // Nobody pulls from appsink: it fills, the element's queue fills behind it.
    for (int i = 0; i < 40; ++i) {
      GstBuffer* b = buffer_from_rgb(clip[i % clip.size()], GST_VIDEO_FORMAT_RGB);
      GST_BUFFER_PTS(b) = i * 40 * GST_MSECOND;
      GstFlowReturn ret;
      g_signal_emit_by_name(src, "push-buffer", b, &ret);
      gst_buffer_unref(b);
    }
    g_usleep(200 * 1000 * (cycle + 1));  // stop at different points of the stream
    EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS) << cycle;
    gst_object_unref(src);
    gst_object_unref(pipeline);
  }
}

TEST_F(HicomexElement, ReadyOnlyPropertiesAreRefusedWhileRunningWithAWarningNamingThem) {
  start(caps_string(GST_VIDEO_FORMAT_RGB, 64, 64));
  gst_harness_play(h_);
  g_object_set(h_->element, "model", "/elsewhere/other.safetensors", "threads", 1u, nullptr);
  gchar* model = nullptr;
  guint threads = 99;
  g_object_get(h_->element, "model", &model, "threads", &threads, nullptr);
  EXPECT_EQ(std::string(model ? model : ""), small_model()) << "the model in use is what reads back";
  EXPECT_EQ(threads, 0u);
  g_free(model);
  int warnings = 0;
  std::string names;
  while (GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_WARNING)) {
    GError* e = nullptr;
    gst_message_parse_warning(m, &e, nullptr);
    names += e->message;
    g_error_free(e);
    gst_message_unref(m);
    ++warnings;
  }
  EXPECT_EQ(warnings, 2);
  EXPECT_NE(names.find("'model'"), std::string::npos) << names;
  EXPECT_NE(names.find("'threads'"), std::string::npos) << names;
  // Runtime properties still change while running.
  g_object_set(h_->element, "detection-interval", 3u, nullptr);
  guint interval = 0;
  g_object_get(h_->element, "detection-interval", &interval, nullptr);
  EXPECT_EQ(interval, 3u);
}

// ---- intensity and calibration, with the small model's intensity head ----

namespace {

double sum(const float* v, guint n) {
  double s = 0;
  for (guint i = 0; i < n; ++i) s += v[i];
  return s;
}

// The warnings on `bus` as "message | debug".
std::vector<std::string> bus_warnings(GstBus* bus) {
  std::vector<std::string> out;
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
    GError* e = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_warning(m, &e, &debug);
    out.push_back(std::string(e->message) + " | " + (debug ? debug : ""));
    g_error_free(e);
    g_free(debug);
    gst_message_unref(m);
  }
  return out;
}

}  // namespace

TEST_F(HicomexElement, AModelWithAnIntensityHeadPutsIntensitiesInTheMetaTheRoiAndTheMessage) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(
      caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows),
      [](GstElement* e) { g_object_set(e, "post-messages", TRUE, nullptr); }, intensity_model());
  GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_NE(meta, nullptr);
  EXPECT_STREQ(meta->model_id, "hicomex-gst-test-intensity");
  ASSERT_EQ(meta->n_faces, 1u);
  ASSERT_TRUE(meta->has_intensity);
  const GstHicomexFace& face = meta->faces[0];
  ASSERT_NE(face.au_intensity, nullptr);
  ASSERT_NE(face.au_intensity_raw, nullptr);
  for (guint a = 0; a < meta->n_aus; ++a) {
    EXPECT_GE(face.au_intensity[a], 0.f) << a;
    EXPECT_LE(face.au_intensity[a], 5.f) << a;
    EXPECT_GE(face.au_intensity_raw[a], 0.f) << a;
    EXPECT_LE(face.au_intensity_raw[a], 5.f) << a;
    EXPECT_GE(face.au_probability[a], 0.f) << a;
    EXPECT_LE(face.au_probability[a], 1.f) << a;
  }
  EXPECT_GT(sum(face.au_intensity_raw, meta->n_aus), 0.5) << "the untrained head gives intensities above 0";

  const auto rois = roi_metas(out);
  ASSERT_EQ(rois.size(), 1u);
  GstStructure* au = gst_video_region_of_interest_meta_get_param(rois[0], "hicomex/au");
  gdouble i = -1, raw = -1;
  EXPECT_TRUE(gst_structure_get_double(au, "AU12-i", &i));
  EXPECT_TRUE(gst_structure_get_double(au, "AU12-i-raw", &raw));
  const int a12 = gst_hicomex_meta_find_au(meta, 12);
  EXPECT_NEAR(i, face.au_intensity[a12], 1e-6);
  EXPECT_NEAR(raw, face.au_intensity_raw[a12], 1e-6);

  GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_ELEMENT);
  ASSERT_NE(m, nullptr);
  const auto faces = hicomex::gst::faces_from_results_structure(gst_message_get_structure(m));
  gst_message_unref(m);
  ASSERT_EQ(faces.size(), 1u);
  ASSERT_EQ(faces[0].au_intensity.size(), meta->n_aus);
  for (guint a = 0; a < meta->n_aus; ++a) {
    EXPECT_FLOAT_EQ(faces[0].au_intensity[a], face.au_intensity[a]);
    EXPECT_FLOAT_EQ(faces[0].au_intensity_raw[a], face.au_intensity_raw[a]);
    EXPECT_FLOAT_EQ(faces[0].au_probability[a], face.au_probability[a]);
  }
  gst_buffer_unref(out);
}

TEST_F(HicomexElement, CalibrationNoneKeepsTheRawIntensitiesAndDynamicAppliesFromTheNextFrame) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  // threshold 0: presence is the probability test alone without calibration
  // (every AU), and needs a calibrated intensity >= 1 with it.
  start(
      caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows),
      [](GstElement* e) { g_object_set(e, "calibration", "none", "threshold", "0", nullptr); }, intensity_model());
  // The same face, frame after frame: its intensities are its constant level.
  // The calibrator needs about 90 evaluations to outweigh its neutral prior.
  const int frames = 100;
  int track = -1;
  double raw_sum = 0;
  for (int n = 0; n < frames; ++n) {
    GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
    const GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
    ASSERT_EQ(meta->n_faces, 1u) << "frame " << n;
    ASSERT_TRUE(meta->has_intensity);
    const GstHicomexFace& f = meta->faces[0];
    if (track < 0) track = f.track_id;
    ASSERT_EQ(f.track_id, track) << "one track, one calibration";
    for (guint a = 0; a < meta->n_aus; ++a) {
      EXPECT_EQ(f.au_intensity[a], f.au_intensity_raw[a]) << "calibration=none, frame " << n;
      EXPECT_EQ(f.au_occurrence[a], 1) << "threshold 0, calibration=none, frame " << n;
    }
    raw_sum = sum(f.au_intensity_raw, meta->n_aus);
    gst_buffer_unref(out);
  }
  ASSERT_GT(raw_sum, 0.5);

  g_object_set(h_->element, "calibration", "dynamic", nullptr);  // while PLAYING
  GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  const GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_EQ(meta->n_faces, 1u);
  const GstHicomexFace& f = meta->faces[0];
  EXPECT_EQ(f.track_id, track);
  EXPECT_NEAR(sum(f.au_intensity_raw, meta->n_aus), raw_sum, 0.05 * raw_sum) << "the raw values did not change";
  EXPECT_LT(sum(f.au_intensity, meta->n_aus), 0.25 * raw_sum)
      << "a constant face's calibrated intensities fall towards 0";
  for (guint a = 0; a < meta->n_aus; ++a) {
    EXPECT_LE(f.au_intensity[a], f.au_intensity_raw[a]) << a;
    EXPECT_EQ(f.au_occurrence[a], f.au_intensity[a] >= 1.f ? 1 : 0) << "presence needs intensity 1, AU index " << a;
  }
  gst_buffer_unref(out);
  EXPECT_TRUE(bus_warnings(bus_).empty());
}

TEST_F(HicomexElement, AnUnknownCalibrationIsAWarningNamingThePropertyAndTheValue) {
  const cv::Mat rgb = load_rgb(kGraceHopper);
  start(
      caps_string(GST_VIDEO_FORMAT_RGB, rgb.cols, rgb.rows),
      [](GstElement* e) { g_object_set(e, "calibration", "none", nullptr); }, intensity_model());
  gst_buffer_unref(run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB)));
  g_object_set(h_->element, "calibration", "sometimes", nullptr);
  const auto warnings = bus_warnings(bus_);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("'calibration'"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("sometimes"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("none or dynamic"), std::string::npos) << warnings[0];
  gchar* calibration = nullptr;
  g_object_get(h_->element, "calibration", &calibration, nullptr);
  EXPECT_STREQ(calibration, "none") << "the value in force stays";
  g_free(calibration);
  // The stream goes on with it.
  GstBuffer* out = run(buffer_from_rgb(rgb, GST_VIDEO_FORMAT_RGB));
  const GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(out);
  ASSERT_EQ(meta->n_faces, 1u);
  for (guint a = 0; a < meta->n_aus; ++a) EXPECT_EQ(meta->faces[0].au_intensity[a], meta->faces[0].au_intensity_raw[a]);
  gst_buffer_unref(out);
}

namespace {
// Runs `line` (ending in "hicomexexport location=OUT format=jsonl") to EOS and
// returns the JSON lines written.
std::vector<nlohmann::json> faces_of(const std::string& line, const std::string& out) {
  GstElement* pipeline = gst_parse_launch(
      (line + " ! hicomexexport format=jsonl overwrite=true location=" + out + " ! fakesink").c_str(), nullptr);
  EXPECT_NE(pipeline, nullptr);
  if (!pipeline) return {};
  GstBus* bus = gst_element_get_bus(pipeline);
  EXPECT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  EXPECT_NE(msg, nullptr);
  if (msg) {
    EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS) << line;
    gst_message_unref(msg);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  std::vector<nlohmann::json> rows;
  std::ifstream in(out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) rows.push_back(nlohmann::json::parse(l));
  return rows;
}
}  // namespace

TEST(HicomexPipeline, YuvInputGivesTheSameResultsAsRgbConvertedByVideoconvert) {
  init_gst();
  TempDir dir;
  const std::string src =
      "filesrc location=" + kGraceHopper + " ! jpegdec ! videoconvert ! imagefreeze num-buffers=3 ! ";
  const std::string analyse = "hicomex model=" + small_model() + " calibration=none";
  for (const char* yuv : {"I420", "NV12"}) {
    const auto direct = faces_of(src + "video/x-raw,format=" + std::string(yuv) + " ! " + analyse,
                                 dir.file(std::string(yuv) + ".jsonl"));
    const auto via_rgb = faces_of(
        src + "video/x-raw,format=" + std::string(yuv) + " ! videoconvert ! video/x-raw,format=RGB ! " + analyse,
        dir.file(std::string(yuv) + "-rgb.jsonl"));
    ASSERT_EQ(direct.size(), 3u) << yuv;
    ASSERT_EQ(via_rgb.size(), direct.size()) << yuv;
    for (size_t i = 0; i < direct.size(); ++i) {
      // The same pixels reach the network: boxes, landmarks and AUs agree.
      EXPECT_EQ(direct[i]["box"], via_rgb[i]["box"]) << yuv << " frame " << i;
      EXPECT_EQ(direct[i]["landmarks"], via_rgb[i]["landmarks"]) << yuv << " frame " << i;
      EXPECT_EQ(direct[i]["aus"], via_rgb[i]["aus"]) << yuv << " frame " << i;
    }
  }
}

namespace {
struct StartError {
  GQuark domain = 0;
  int code = 0;
  std::string message;
};

// The domain, code and message of the error a failed start posts (0/0 when
// none): the element with `model` and `props` set.
StartError start_error_code(const std::string& model, std::function<void(GstElement*)> props = {}) {
  init_gst();
  GstElement* e = gst_element_factory_make("hicomex", nullptr);
  if (!model.empty()) g_object_set(e, "model", model.c_str(), nullptr);
  if (props) props(e);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  StartError out;
  if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    out = {err->domain, err->code, err->message};
    g_error_free(err);
    gst_message_unref(msg);
  }
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(e);
  return out;
}

StartError start_error_code(const std::string& model, const char* device) {
  return start_error_code(model, [device](GstElement* e) { g_object_set(e, "device", device, nullptr); });
}

std::function<void(GstElement*)> set(const char* property, const char* value) {
  return [property, value](GstElement* e) {
    g_object_set(e, "device", "cpu", nullptr);
    g_object_set(e, property, value, nullptr);
  };
}
}  // namespace

TEST(HicomexErrors, EachStartFailureHasTheRightErrorDomainAndCode) {
  TempDir dir;
  const std::string corrupt = dir.file("garbage.safetensors");
  std::ofstream(corrupt) << "this is not a safetensors file";
  const auto missing = start_error_code("/nonexistent/model.safetensors", "cpu");
  EXPECT_EQ(missing.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(missing.code, GST_RESOURCE_ERROR_NOT_FOUND);
  const auto broken = start_error_code(corrupt, "cpu");
  EXPECT_EQ(broken.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(broken.code, GST_RESOURCE_ERROR_READ);
  // A device that does not exist, with the default model (found and fine):
  // a settings problem, not "Could not find HiCOMEX model".
  const auto device = start_error_code("", "tpu");
  EXPECT_EQ(device.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(device.code, GST_RESOURCE_ERROR_SETTINGS);
}

TEST(HicomexErrors, AnUnreadableModelIsAReadError) {
  TempDir dir;
  // A folder given as the model: it exists but is no file to read.
  const auto folder = start_error_code(dir.path().string(), "cpu");
  EXPECT_EQ(folder.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(folder.code, GST_RESOURCE_ERROR_READ) << folder.message;
  // A file without read permission (root reads it anyway: then skipped).
  const std::string locked = dir.file("locked.safetensors");
  std::ifstream good(small_model(), std::ios::binary);
  std::ofstream(locked, std::ios::binary) << good.rdbuf();
  ::chmod(locked.c_str(), 0);
  if (::access(locked.c_str(), R_OK) == 0)
    GTEST_SKIP() << "chmod 000 does not stop this user (euid " << ::geteuid() << ") from reading";
  const auto unreadable = start_error_code(locked, "cpu");
  EXPECT_EQ(unreadable.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(unreadable.code, GST_RESOURCE_ERROR_READ) << unreadable.message;
  EXPECT_NE(unreadable.message.find(locked), std::string::npos) << unreadable.message;
}

TEST(HicomexErrors, BadSettingsAreSettingsErrorsNamingTheValue) {
  struct Case {
    const char* property;
    const char* value;
    const char* named;  // in the message users read
  };
  for (const Case& c : {Case{"device", "tpu", "tpu"}, Case{"precision", "fp64", "fp64"},
                        Case{"threshold", "AU12=abc", "abc"}, Case{"threshold", "AU99=0.5", "AU99"},
                        Case{"threshold", "0,4", "0,4"}, Case{"threshold", "0.1,0.2", "2 values"}}) {
    const auto e = start_error_code(small_model(), set(c.property, c.value));
    EXPECT_EQ(e.domain, GST_RESOURCE_ERROR) << c.property << "=" << c.value;
    EXPECT_EQ(e.code, GST_RESOURCE_ERROR_SETTINGS) << c.property << "=" << c.value << ": " << e.message;
    EXPECT_NE(e.message.find(c.named), std::string::npos) << e.message;
  }
}

TEST(HicomexErrors, CudaWithoutACudaDeviceSaysSo) {
  // The element's own device parser tells whether this machine has a GPU.
  const char* device = hicomex::resolve_device("auto") == "cpu" ? "cuda" : "cuda:999";
  const auto e = start_error_code(small_model(), device);
  EXPECT_EQ(e.domain, GST_RESOURCE_ERROR);
  EXPECT_EQ(e.code, GST_RESOURCE_ERROR_SETTINGS);
  EXPECT_NE(e.message.find("no CUDA device"), std::string::npos) << e.message;
}
