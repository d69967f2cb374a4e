// The parts of the elements that stand alone: the hicomex element's QoS
// bookkeeping, colour path and queue of frames in flight, and the property
// documentation of every element ("Default: N" in a GObject doc comment must
// be the default the property is registered with).
#include <gtest/gtest.h>

#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "in_flight_frames.h"
#include "qos_tracker.h"
#include "rgb_converter.h"

using hicomex::gst::InFlightFrame;
using hicomex::gst::InFlightQueue;
using hicomex::gst::MapResult;
using hicomex::gst::QosTracker;
using hicomex::gst::RgbConverter;

namespace {

void init() {
  static const bool done = [] {
    gst_init(nullptr, nullptr);
    return true;
  }();
  (void)done;
}

GstVideoInfo video_info(GstVideoFormat format, int w, int h) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, w, h);
  return info;
}

// A frame of `info` filled with `byte`.
GstBuffer* filled_buffer(const GstVideoInfo& info, guint8 byte) {
  GstBuffer* buf = gst_buffer_new_allocate(NULL, info.size, NULL);
  gst_buffer_memset(buf, 0, byte, info.size);
  return buf;
}

}  // namespace

// ---- QoS ----------------------------------------------------------------------

TEST(QosTracker, AFrameUpToTheDeadlineIsLate) {
  QosTracker qos;
  EXPECT_FALSE(qos.is_late(0)) << "no QoS event yet";
  EXPECT_EQ(qos.earliest_time(), GST_CLOCK_TIME_NONE);
  qos.update(10 * GST_SECOND, GST_SECOND);  // 1 s late at 10 s: up to 11 s is late
  EXPECT_EQ(qos.earliest_time(), 11 * GST_SECOND);
  EXPECT_TRUE(qos.is_late(11 * GST_SECOND));
  EXPECT_FALSE(qos.is_late(11 * GST_SECOND + 1));
  EXPECT_FALSE(qos.is_late(GST_CLOCK_TIME_NONE)) << "a frame without a time is never late";
  qos.update(GST_CLOCK_TIME_NONE, 0);
  EXPECT_EQ(qos.earliest_time(), 11 * GST_SECOND) << "an event without a timestamp changes nothing";
  qos.update(GST_SECOND, -2 * static_cast<GstClockTimeDiff>(GST_SECOND));
  EXPECT_EQ(qos.earliest_time(), 0u) << "early beyond the timestamp: clamped to 0";
  qos.reset();
  EXPECT_FALSE(qos.is_late(0));
}

TEST(QosTracker, CountsSkippedInferencesUntilReset) {
  QosTracker qos;
  EXPECT_EQ(qos.count_skipped(), 1u);
  EXPECT_EQ(qos.count_skipped(), 2u);
  EXPECT_EQ(qos.skipped(), 2u);
  qos.reset();
  EXPECT_EQ(qos.skipped(), 2u) << "a flush keeps the count";
  qos.reset_skipped();
  EXPECT_EQ(qos.skipped(), 0u);
}

// ---- colour path and frames in flight -------------------------------------------

TEST(RgbConverter, ConvertsYuvOnlyAndKeepsTheGeometry) {
  init();
  RgbConverter c;
  for (GstVideoFormat f : {GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_GRAY8}) {
    ASSERT_TRUE(c.configure(video_info(f, 32, 24)));
    EXPECT_FALSE(c.active()) << gst_video_format_to_string(f);
  }
  GstVideoInfo in = video_info(GST_VIDEO_FORMAT_I420, 32, 24);
  in.fps_n = 25;
  in.fps_d = 1;
  ASSERT_TRUE(c.configure(in));
  ASSERT_TRUE(c.active());
  EXPECT_EQ(GST_VIDEO_INFO_FORMAT(&c.rgb_info()), GST_VIDEO_FORMAT_RGB);
  EXPECT_EQ(c.rgb_info().width, 32);
  EXPECT_EQ(c.rgb_info().height, 24);
  EXPECT_EQ(c.rgb_info().fps_n, 25);
  c.reset();
  EXPECT_FALSE(c.active());
}

TEST(InFlightFrames, MapsThroughTheConverterAndReleasesEveryFrame) {
  init();
  // Grey I420 (Y=U=V=128) becomes grey RGB.
  const GstVideoInfo in = video_info(GST_VIDEO_FORMAT_I420, 16, 8);
  RgbConverter c;
  ASSERT_TRUE(c.configure(in));
  InFlightQueue queue;
  for (guint64 n = 1; n <= 3; ++n) {
    GstBuffer* buf = filled_buffer(in, 128);
    InFlightFrame f;
    f.buf = buf;
    f.number = n;
    hicomex::ImageView view;
    ASSERT_EQ(hicomex::gst::map_for_analysis(buf, &in, c, &f, &view), MapResult::Ok);
    EXPECT_EQ(view.format, hicomex::PixelFormat::RGB);
    EXPECT_EQ(view.width, 16);
    EXPECT_EQ(view.height, 8);
    EXPECT_NEAR(view.data[0][0], 128, 4);  // limited-range Y 128: about 130
    queue.push(f);
  }
  EXPECT_EQ(queue.size(), 3u);
  InFlightFrame oldest;
  ASSERT_TRUE(queue.pop(&oldest));
  EXPECT_EQ(oldest.number, 1u) << "oldest first";
  hicomex::gst::release(oldest);
  queue.clear();  // unmaps and unrefs the others (valgrind and ASan runs see a leak otherwise)
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.pop(&oldest));

  // An RGB frame is read as it is.
  const GstVideoInfo rgb = video_info(GST_VIDEO_FORMAT_BGRx, 16, 8);
  ASSERT_TRUE(c.configure(rgb));
  GstBuffer* buf = filled_buffer(rgb, 7);
  InFlightFrame f;
  f.buf = buf;
  hicomex::ImageView view;
  ASSERT_EQ(hicomex::gst::map_for_analysis(buf, &rgb, c, &f, &view), MapResult::Ok);
  EXPECT_EQ(view.format, hicomex::PixelFormat::BGRx);
  EXPECT_EQ(view.stride[0], 16 * 4);
  hicomex::gst::release(f);
}

TEST(InFlightFrames, AFormatTheAnalyzerCannotReadIsUnsupported) {
  init();
  const GstVideoInfo gray16 = video_info(GST_VIDEO_FORMAT_GRAY16_LE, 8, 8);
  RgbConverter c;
  ASSERT_TRUE(c.configure(gray16));
  GstBuffer* buf = filled_buffer(gray16, 0);
  InFlightFrame f;
  hicomex::ImageView view;
  EXPECT_EQ(hicomex::gst::map_for_analysis(buf, &gray16, c, &f, &view), MapResult::Unsupported);
  gst_buffer_unref(buf);  // nothing stays mapped
}

// ---- property documentation ---------------------------------------------------

namespace {

struct DocDefault {
  std::string type, property, text;  // "GstHicomex", "detection-interval", "5"
};

// Every "Default: X" of a "GstType:property:" doc comment in `path`; X is the
// first word after "Default:" (quotes and a final '.' or ',' dropped).
std::vector<DocDefault> documented_defaults(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<DocDefault> out;
  static const std::regex block(R"(/\*\*\s*\n\s*\*\s*(Gst\w+):([a-z0-9-]+):\s*\n([\s\S]*?)\*/)");
  static const std::regex value(R"(Default:\s*("[^"]*"|[^\s,(]+))");
  for (std::sregex_iterator it(text.begin(), text.end(), block), end; it != end; ++it) {
    const std::string body = (*it)[3];
    std::smatch m;
    if (!std::regex_search(body, m, value)) continue;
    std::string v = m[1];
    if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
    if (!v.empty() && v.back() == '.') v.pop_back();
    out.push_back({(*it)[1], (*it)[2], v});
  }
  return out;
}

// The registered default of `pspec` written as the docs write it: NULL, TRUE,
// FALSE, an enum's nick, a number, or a string's text.
bool default_matches(GParamSpec* pspec, const std::string& doc, std::string* registered) {
  const GValue* d = g_param_spec_get_default_value(pspec);
  if (G_VALUE_HOLDS_STRING(d)) {
    const gchar* s = g_value_get_string(d);
    *registered = s ? s : "NULL";
    return *registered == doc;
  }
  if (G_VALUE_HOLDS_BOOLEAN(d)) {
    *registered = g_value_get_boolean(d) ? "TRUE" : "FALSE";
    return *registered == doc;
  }
  if (G_VALUE_HOLDS_ENUM(d)) {
    GEnumValue* v = g_enum_get_value(G_PARAM_SPEC_ENUM(pspec)->enum_class, g_value_get_enum(d));
    *registered = v ? v->value_nick : "?";
    return *registered == doc;
  }
  GValue as_double = G_VALUE_INIT;
  g_value_init(&as_double, G_TYPE_DOUBLE);
  if (!g_value_transform(d, &as_double)) {
    *registered = "(a type this test cannot compare)";
    return false;
  }
  const double r = g_value_get_double(&as_double);
  *registered = std::to_string(r);
  char* end = nullptr;
  const double n = std::strtod(doc.c_str(), &end);
  return end && *end == '\0' && end != doc.c_str() && n == r;
}

}  // namespace

TEST(PropertyDocs, EveryDocumentedDefaultIsTheRegisteredOne) {
  init();
  const char* root = std::getenv("HICOMEX_SOURCE_ROOT");
  ASSERT_NE(root, nullptr) << "HICOMEX_SOURCE_ROOT is not set (run through meson test)";
  const struct {
    const char* file;
    const char* factory;
  } elements[] = {
      {"gst-plugin/gsthicomex.cpp", "hicomex"},
      {"gst-plugin/gsthicomexexport.cpp", "hicomexexport"},
      {"gst-plugin/gsthicomexoverlay.cpp", "hicomexoverlay"},
  };
  for (const auto& e : elements) {
    const auto docs = documented_defaults(std::string(root) + "/" + e.file);
    EXPECT_GE(docs.size(), 5u) << e.file << ": the doc comments were not found";
    GstElement* element = gst_element_factory_make(e.factory, NULL);
    ASSERT_NE(element, nullptr) << e.factory;
    for (const DocDefault& d : docs) {
      EXPECT_STREQ(d.type.c_str(), G_OBJECT_TYPE_NAME(element)) << e.file << ": " << d.property;
      GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), d.property.c_str());
      ASSERT_NE(pspec, nullptr) << e.file << ": documented property " << d.property << " does not exist";
      std::string registered;
      EXPECT_TRUE(default_matches(pspec, d.text, &registered))
          << e.factory << ":" << d.property << " documents \"Default: " << d.text << "\" but registers " << registered;
    }
    gst_object_unref(element);
  }
}
