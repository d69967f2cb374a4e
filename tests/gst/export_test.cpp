// hicomexexport: one record per face per frame, survives interruption,
// refuses to overwrite.
#include <gtest/gtest.h>

#include <gst/check/gstharness.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "gst_test_util.h"
#include "hicomex/result_writer.h"
#include "hicomex_meta_utils.h"

using gsttest::make_face;
using gsttest::read_lines;
using gsttest::split_row;
using gsttest::with_intensity;

namespace {

class HicomexExport : public ::testing::Test {
 protected:
  void SetUp() override { gsttest::init_gst(); }

  void TearDown() override {
    if (bus_) gst_object_unref(bus_);
  }

  GstHarness* harness(const std::string& location, const char* format = "csv", bool probabilities = false) {
    // Configure before the harness starts the element (start() opens the file).
    GstElement* e = gst_element_factory_make("hicomexexport", nullptr);
    gst_util_set_object_arg(G_OBJECT(e), "format", format);
    g_object_set(e, "location", location.c_str(), "probabilities", probabilities, nullptr);
    if (!bus_) bus_ = gst_bus_new();
    gst_element_set_bus(e, bus_);
    GstHarness* hr = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    gst_harness_set_src_caps_str(hr, gsttest::caps_string(GST_VIDEO_FORMAT_RGB, 64, 48).c_str());
    return hr;
  }

  static GstBuffer* frame_with(const std::vector<hicomex::FaceResult>& faces, int index) {
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, 64 * 48 * 3, nullptr);
    GST_BUFFER_PTS(buf) = index * GST_SECOND / 30;
    GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
    hicomex::gst::add_hicomex_meta(buf, faces, "m", {1, 2, 4, 6, 12});
    return buf;
  }

  // INFO messages of the element so far, as "message | debug".
  std::vector<std::string> infos() {
    std::vector<std::string> out;
    while (GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_INFO)) {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_info(m, &err, &debug);
      out.push_back(std::string(err->message) + " | " + (debug ? debug : ""));
      g_error_free(err);
      g_free(debug);
      gst_message_unref(m);
    }
    return out;
  }

  gsttest::TempDir dir_;
  GstBus* bus_ = nullptr;
};

}  // namespace

TEST_F(HicomexExport, WritesOneRowPerFacePerFrameWithStreamTime) {
  const std::string path = dir_.file("out.csv");
  GstHarness* hr = harness(path);
  ASSERT_EQ(
      gst_harness_push(
          hr, frame_with({with_intensity(make_face(0, 1, 1, 20, 20)), with_intensity(make_face(1, 30, 1, 20, 20))}, 0)),
      GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(hr, frame_with({}, 1)), GST_FLOW_OK);
  GstBuffer* plain = gst_buffer_new_allocate(nullptr, 64 * 48 * 3, nullptr);
  ASSERT_EQ(gst_harness_push(hr, plain), GST_FLOW_OK);  // no meta: counted, not written
  ASSERT_EQ(gst_harness_push(hr, frame_with({with_intensity(make_face(1, 31, 1, 20, 20))}, 3)), GST_FLOW_OK);
  // Passthrough: every buffer comes out.
  EXPECT_EQ(gst_harness_buffers_received(hr), 4u);
  ASSERT_TRUE(gst_harness_push_event(hr, gst_event_new_eos()));

  // Flushed at EOS, before the element stops.
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], hicomex::ResultWriter::csv_header({1, 2, 4, 6, 12}));
  const auto header = split_row(lines[0]);
  std::vector<std::pair<std::string, std::string>> frame_face;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto row = split_row(lines[i]);
    ASSERT_EQ(row.size(), header.size());
    frame_face.emplace_back(row[0], row[1]);
  }
  EXPECT_EQ(frame_face, (std::vector<std::pair<std::string, std::string>>{{"1", "0"}, {"1", "1"}, {"4", "1"}}));
  EXPECT_EQ(split_row(lines[3])[2], "0.100");  // 3/30 s
  gst_harness_teardown(hr);
}

// hicomexexport's columns: AUxx_r the intensity, AUxx_c the presence, AUxx_p
// the probability when asked for; no AUxx_r for an occurrence-only model.
namespace {

int column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

TEST_F(HicomexExport, IntensityColumnsHoldTheMetasIntensitiesAndProbabilitiesOnlyWhenAsked) {
  for (bool probabilities : {false, true}) {
    const std::string path = dir_.file(probabilities ? "p.csv" : "r.csv");
    GstHarness* hr = harness(path, "csv", probabilities);
    ASSERT_EQ(gst_harness_push(hr, frame_with({with_intensity(make_face(0, 1, 1, 20, 20))}, 0)), GST_FLOW_OK);
    gst_harness_teardown(hr);
    const auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], hicomex::ResultWriter::csv_header({1, 2, 4, 6, 12}, true, probabilities));
    const auto h = split_row(lines[0]);
    const auto row = split_row(lines[1]);
    ASSERT_EQ(row.size(), h.size());
    // make_face / with_intensity: AU12 intensity 3.5, probability 0.9, present; AU01 0, 0.1, absent.
    EXPECT_EQ(row[column(h, "AU12_r")], "3.50");
    EXPECT_EQ(row[column(h, "AU02_r")], "0.50");
    EXPECT_EQ(row[column(h, "AU12_c")], "1.0");
    EXPECT_EQ(row[column(h, "AU01_c")], "0.0");
    for (const auto& name : h)
      if (name.rfind("AU", 0) == 0 && name.back() == 'r') {
        const double v = std::stod(row[column(h, name)]);
        EXPECT_GE(v, 0.0) << name;
        EXPECT_LE(v, 5.0) << name;
      }
    if (probabilities) {
      ASSERT_GE(column(h, "AU12_p"), 0);
      EXPECT_GT(column(h, "AU01_p"), column(h, "AU12_c")) << "_p after _c";
      EXPECT_EQ(row[column(h, "AU12_p")], "0.900");
    } else {
      EXPECT_EQ(column(h, "AU12_p"), -1) << "AUxx_p only with probabilities=true";
    }
    EXPECT_TRUE(infos().empty()) << "nothing to say about a model with intensities";
  }
}

TEST_F(HicomexExport, AnOccurrenceOnlyModelGetsProbabilityColumnsInsteadOfIntensityAndAnInfoMessage) {
  const std::string path = dir_.file("occ.csv");
  GstHarness* hr = harness(path);
  ASSERT_EQ(gst_harness_push(hr, frame_with({}, 0)), GST_FLOW_OK);
  EXPECT_TRUE(infos().empty()) << "no face yet: nothing known";
  ASSERT_EQ(gst_harness_push(hr, frame_with({make_face(0, 1, 1, 20, 20)}, 1)), GST_FLOW_OK);
  ASSERT_EQ(gst_harness_push(hr, frame_with({make_face(0, 2, 1, 20, 20)}, 2)), GST_FLOW_OK);
  gst_harness_teardown(hr);
  const auto said = infos();
  ASSERT_EQ(said.size(), 1u) << "said once";
  EXPECT_NE(said[0].find("no intensity head"), std::string::npos) << said[0];
  EXPECT_NE(said[0].find(path), std::string::npos) << said[0];
  EXPECT_NE(said[0].find("AUxx_p"), std::string::npos) << said[0];
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  const auto h = split_row(lines[0]);
  EXPECT_EQ(lines[0], hicomex::ResultWriter::csv_header({1, 2, 4, 6, 12}, false));
  for (const auto& name : h) EXPECT_NE(name.back(), 'r') << name << ": probabilities never go under _r";
  EXPECT_EQ(split_row(lines[1])[column(h, "AU12_p")], "0.900");
  EXPECT_EQ(split_row(lines[1])[column(h, "AU12_c")], "1.0");
}

TEST_F(HicomexExport, JsonLinesCarryIntensitiesWhenTheMetaHasThem) {
  const std::string path = dir_.file("int.jsonl");
  GstHarness* hr = harness(path, "jsonl");
  gst_harness_push(hr, frame_with({with_intensity(make_face(0, 1, 1, 20, 20))}, 0));
  gst_harness_push(hr, frame_with({make_face(0, 1, 1, 20, 20)}, 1));
  gst_harness_teardown(hr);
  const auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  const auto with = nlohmann::json::parse(lines[0])["aus"]["AU12"];
  EXPECT_DOUBLE_EQ(with["p"].get<double>(), 0.9);
  EXPECT_EQ(with["c"], 1);
  EXPECT_DOUBLE_EQ(with["i"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(with["i_raw"].get<double>(), 4.25);
  const auto without = nlohmann::json::parse(lines[1])["aus"]["AU12"];
  EXPECT_FALSE(without.contains("i"));
  EXPECT_FALSE(without.contains("i_raw"));
  EXPECT_DOUBLE_EQ(without["p"].get<double>(), 0.9);
}

TEST_F(HicomexExport, WritesValidJsonLines) {
  const std::string path = dir_.file("out.jsonl");
  GstHarness* hr = harness(path, "jsonl");
  gst_harness_push(hr, frame_with({make_face(0, 1, 1, 20, 20), make_face(2, 30, 1, 20, 20)}, 0));
  gst_harness_push(hr, frame_with({make_face(2, 30, 1, 20, 20)}, 1));
  gst_harness_teardown(hr);
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    auto j = nlohmann::json::parse(l);
    EXPECT_EQ(j["aus"].size(), 5u);
    EXPECT_EQ(j["landmarks"].size(), 68u);
  }
  EXPECT_EQ(nlohmann::json::parse(lines[2])["frame"], 2);
}

TEST_F(HicomexExport, KeepsEveryCompleteRowWhenStoppedWithoutEos) {
  const std::string path = dir_.file("cut.csv");
  GstHarness* hr = harness(path);
  for (int i = 0; i < 25; ++i) gst_harness_push(hr, frame_with({make_face(0, 1, 1, 20, 20)}, i));
  gst_harness_teardown(hr);  // straight to NULL
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 26u);
  EXPECT_EQ(split_row(lines.back())[0], "25");
}

namespace {

// Adds a one-face meta to every buffer entering the exporter and counts them.
struct ProbeState {
  std::mutex lock;
  std::condition_variable cond;
  int frames = 0;
};

GstPadProbeReturn add_meta_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* state = static_cast<ProbeState*>(data);
  GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
  GST_PAD_PROBE_INFO_DATA(info) = buf;
  hicomex::gst::add_hicomex_meta(buf, {make_face(0, 10, 10, 40, 40), make_face(1, 60, 10, 40, 40)}, "m");
  std::lock_guard<std::mutex> g(state->lock);
  ++state->frames;
  state->cond.notify_all();
  return GST_PAD_PROBE_OK;
}

}  // namespace

TEST_F(HicomexExport, LeavesAParseableFileWhenAPlayingPipelineIsSetToNull) {
  const std::string path = dir_.file("live.csv");
  const std::string desc =
      "videotestsrc num-buffers=100000 ! video/x-raw,width=160,height=120 ! "
      "hicomexexport name=export location=" +
      path + " ! fakesink";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstElement* exporter = gst_bin_get_by_name(GST_BIN(pipeline), "export");
  GstPad* sink = gst_element_get_static_pad(exporter, "sink");
  ProbeState state;
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, add_meta_probe, &state, nullptr);
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  {
    std::unique_lock<std::mutex> g(state.lock);
    ASSERT_TRUE(state.cond.wait_for(g, std::chrono::seconds(60), [&] { return state.frames >= 30; }));
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);  // mid-stream, no EOS

  auto lines = read_lines(path);
  ASSERT_GE(lines.size(), 1u + 2 * 30);
  const auto header = split_row(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto row = split_row(lines[i]);
    ASSERT_EQ(row.size(), header.size()) << "line " << i;
    EXPECT_EQ(std::stol(row[0]), static_cast<long>((i - 1) / 2 + 1)) << "line " << i;
  }
  EXPECT_EQ((lines.size() - 1) % 2, 0u);  // both faces of every frame
  gst_object_unref(sink);
  gst_object_unref(exporter);
  gst_object_unref(pipeline);
}

TEST_F(HicomexExport, RefusesToOverwriteAndNamesThePathInTheError) {
  const std::string path = dir_.file("exists.csv");
  std::ofstream(path) << "keep me\n";
  const std::string desc = "videotestsrc num-buffers=1 ! hicomexexport location=" + path + " ! fakesink";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  ASSERT_NE(msg, nullptr);
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  EXPECT_NE(std::string(err->message).find(path), std::string::npos) << err->message;
  EXPECT_NE(std::string(debug).find("overwrite"), std::string::npos) << debug;
  EXPECT_TRUE(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE));
  g_error_free(err);
  g_free(debug);
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  EXPECT_EQ(read_lines(path), std::vector<std::string>{"keep me"});
}

TEST_F(HicomexExport, OverwritesWhenTold) {
  const std::string path = dir_.file("exists.csv");
  std::ofstream(path) << "old\n";
  GstElement* e = gst_element_factory_make("hicomexexport", nullptr);
  g_object_set(e, "location", path.c_str(), "overwrite", TRUE, nullptr);
  GstHarness* hr = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(hr, gsttest::caps_string(GST_VIDEO_FORMAT_RGB, 64, 48).c_str());
  gst_harness_push(hr, frame_with({make_face(0, 1, 1, 20, 20)}, 0));
  gst_harness_teardown(hr);
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("frame, face_id", 0), 0u);
}

TEST_F(HicomexExport, FailsToStartWithoutALocation) {
  GstElement* pipeline = gst_parse_launch("videotestsrc ! hicomexexport ! fakesink", nullptr);
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

TEST_F(HicomexExport, EveryPropertyRoundTrips) {
  GstElement* e = gst_element_factory_make("hicomexexport", nullptr);
  ASSERT_NE(e, nullptr);
  gchar* location = nullptr;
  gboolean overwrite = TRUE, probabilities = TRUE;
  gint format = -1;
  g_object_get(e, "location", &location, "overwrite", &overwrite, "format", &format, "probabilities", &probabilities,
               nullptr);
  EXPECT_EQ(location, nullptr);
  EXPECT_FALSE(overwrite);
  EXPECT_EQ(format, 0);  // csv
  EXPECT_FALSE(probabilities);

  g_object_set(e, "location", "/tmp/x.jsonl", "overwrite", TRUE, "probabilities", TRUE, nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "format", "jsonl");
  g_object_get(e, "location", &location, "overwrite", &overwrite, "format", &format, "probabilities", &probabilities,
               nullptr);
  EXPECT_STREQ(location, "/tmp/x.jsonl");
  EXPECT_TRUE(overwrite);
  EXPECT_EQ(format, 1);
  EXPECT_TRUE(probabilities);
  g_free(location);
  gst_object_unref(e);
}

TEST_F(HicomexExport, AWriteErrorIsOneErrorAndThePipelineStillReachesNull) {
  // /dev/full accepts the open and fails every write with ENOSPC.
  const std::string desc =
      "videotestsrc num-buffers=3 ! video/x-raw,width=160,height=120 ! "
      "hicomexexport name=export location=/dev/full overwrite=true ! fakesink";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstElement* exporter = gst_bin_get_by_name(GST_BIN(pipeline), "export");
  GstPad* sink = gst_element_get_static_pad(exporter, "sink");
  ProbeState state;
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, add_meta_probe, &state, nullptr);
  GstBus* bus = gst_element_get_bus(pipeline);
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  ASSERT_NE(msg, nullptr);
  ASSERT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_ERROR);
  GError* err = nullptr;
  gst_message_parse_error(msg, &err, nullptr);
  EXPECT_NE(std::string(err->message).find("/dev/full"), std::string::npos) << err->message;
  g_error_free(err);
  gst_message_unref(msg);
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  int more_errors = 0;
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    ++more_errors;
    gst_message_unref(m);
  }
  EXPECT_EQ(more_errors, 0) << "one failure, one ERROR message";
  gst_object_unref(bus);
  gst_object_unref(sink);
  gst_object_unref(exporter);
  gst_object_unref(pipeline);
}

TEST_F(HicomexExport, LeavesNoFileWhenNoFrameEverArrivesButKeepsAFrameWithoutFaces) {
  // The analyzer cannot start (missing model): the exporter had already
  // created its file, and must not leave it behind empty.
  const std::string lost = dir_.file("never.csv");
  const std::string desc =
      "videotestsrc num-buffers=3 ! video/x-raw,width=160,height=120 ! "
      "hicomex model=" +
      dir_.file("missing.safetensors") +
      " ! "
      "hicomexexport location=" +
      lost + " ! fakesink";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  EXPECT_EQ(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(pipeline);
  EXPECT_FALSE(std::ifstream(lost).good()) << lost << " was left behind";

  // Analysed frames that reach the exporter without any face: the file stays, a parseable header.
  const std::string kept = dir_.file("kept.csv");
  GstElement* p2 = gst_parse_launch(("videotestsrc num-buffers=3 ! video/x-raw,width=160,height=120 ! "
                                     "hicomex ! hicomexexport location=" +
                                     kept + " ! fakesink")
                                        .c_str(),
                                    nullptr);
  ASSERT_NE(p2, nullptr);
  GstBus* bus = gst_element_get_bus(p2);
  ASSERT_NE(gst_element_set_state(p2, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                               static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  ASSERT_NE(msg, nullptr);
  EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS);
  gst_message_unref(msg);
  gst_element_set_state(p2, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(p2);
  const auto lines = read_lines(kept);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("frame, face_id", 0), 0u) << lines[0];
}
