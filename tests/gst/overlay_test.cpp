// hicomexoverlay through GstHarness, found via the build dir's registry.
#include <gtest/gtest.h>

#include <gst/check/gstharness.h>
#include <gst/controller/gstdirectcontrolbinding.h>
#include <gst/controller/gstinterpolationcontrolsource.h>
#include <gst/video/video.h>

#include <algorithm>
#include <tuple>

#include "gst_test_util.h"
#include "hicomex_meta_utils.h"
#include "overlay_painter.h"

using gsttest::make_face;
using gsttest::make_frame;

namespace {

struct Region {
  int x0, y0, x1, y1;  // half-open, frame pixels
  bool contains(int x, int y, int margin) const {
    return x >= x0 - margin && x < x1 + margin && y >= y0 - margin && y < y1 + margin;
  }
};

struct PixelDiff {
  int changed_inside = 0;
  int changed_outside = 0;
};

// Compares two frames plane by plane; a chroma sample at (cx, cy) covers the
// frame pixels (cx*2, cy*2) for subsampled planes.
PixelDiff diff_frames(GstBuffer* before, GstBuffer* after, GstVideoFormat format, int w, int h, const Region& box,
                      int margin) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, w, h);
  GstVideoFrame fa, fb;
  EXPECT_TRUE(gst_video_frame_map(&fa, &info, before, GST_MAP_READ));
  EXPECT_TRUE(gst_video_frame_map(&fb, &info, after, GST_MAP_READ));
  PixelDiff d;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&fa); ++p) {
    const int comp = p == 0 ? 0 : 1;
    const int pw = GST_VIDEO_FRAME_COMP_WIDTH(&fa, comp);
    const int ph = GST_VIDEO_FRAME_COMP_HEIGHT(&fa, comp);
    const int per_pixel = GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, comp);  // NV12's UV: 2
    const int row_bytes = pw * per_pixel;
    const double sx = static_cast<double>(w) / pw, sy = static_cast<double>(h) / ph;
    auto* a = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fa, p));
    auto* b = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fb, p));
    const int sa = GST_VIDEO_FRAME_PLANE_STRIDE(&fa, p), sb = GST_VIDEO_FRAME_PLANE_STRIDE(&fb, p);
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < row_bytes; ++x) {
        if (a[y * sa + x] == b[y * sb + x]) continue;
        const int fx = static_cast<int>((x / per_pixel) * sx), fy = static_cast<int>(y * sy);
        if (box.contains(fx, fy, margin))
          ++d.changed_inside;
        else
          ++d.changed_outside;
      }
  }
  gst_video_frame_unmap(&fa);
  gst_video_frame_unmap(&fb);
  return d;
}

GstHarness* overlay_harness(GstVideoFormat format, int w, int h, bool only_boxes) {
  GstHarness* hr = gst_harness_new("hicomexoverlay");
  gst_harness_set_src_caps_str(hr, gsttest::caps_string(format, w, h).c_str());
  if (only_boxes) g_object_set(hr->element, "draw-landmarks", FALSE, "draw-labels", FALSE, "draw-bars", FALSE, nullptr);
  return hr;
}

bool same_bytes(GstBuffer* a, GstBuffer* b) {
  GstMapInfo ma, mb;
  gst_buffer_map(a, &ma, GST_MAP_READ);
  gst_buffer_map(b, &mb, GST_MAP_READ);
  const bool same = ma.size == mb.size && memcmp(ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap(a, &ma);
  gst_buffer_unmap(b, &mb);
  return same;
}

class OverlayFormats : public ::testing::TestWithParam<GstVideoFormat> {
 protected:
  void SetUp() override { gsttest::init_gst(); }
};

}  // namespace

TEST_P(OverlayFormats, DrawsBoxesOnlyInsideTheFaceBox) {
  const GstVideoFormat format = GetParam();
  const int w = 320, h = 240;
  GstHarness* hr = overlay_harness(format, w, h, true);
  GstBuffer* in = make_frame(format, w, h);
  hicomex::gst::add_hicomex_meta(in, {make_face(5, 100, 60, 80, 100)}, "test-model");
  GstBuffer* before = gst_buffer_copy_deep(in);
  ASSERT_EQ(gst_harness_push(hr, in), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(hr);
  ASSERT_NE(out, nullptr);

  // Chroma samples straddle the box edge in subsampled formats: allow 2 px.
  const bool subsampled = format == GST_VIDEO_FORMAT_I420 || format == GST_VIDEO_FORMAT_NV12;
  const PixelDiff d = diff_frames(before, out, format, w, h, {100, 60, 180, 160}, subsampled ? 2 : 0);
  EXPECT_GT(d.changed_inside, 200) << gst_video_format_to_string(format);
  EXPECT_EQ(d.changed_outside, 0) << gst_video_format_to_string(format);

  gst_buffer_unref(out);
  gst_buffer_unref(before);
  gst_harness_teardown(hr);
}

TEST_P(OverlayFormats, LeavesAFrameWithoutMetaBitIdentical) {
  const GstVideoFormat format = GetParam();
  GstHarness* hr = overlay_harness(format, 160, 120, false);
  GstBuffer* in = make_frame(format, 160, 120);
  GstBuffer* before = gst_buffer_copy_deep(in);
  ASSERT_EQ(gst_harness_push(hr, in), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(hr);
  EXPECT_TRUE(same_bytes(before, out));
  gst_buffer_unref(out);
  gst_buffer_unref(before);
  gst_harness_teardown(hr);
}

TEST_P(OverlayFormats, DrawsLabelsAndBarsBesideTheBox) {
  const GstVideoFormat format = GetParam();
  const int w = 640, h = 480;
  GstHarness* hr = overlay_harness(format, w, h, false);
  g_object_set(hr->element, "draw-boxes", FALSE, "draw-landmarks", FALSE, nullptr);
  GstBuffer* in = make_frame(format, w, h);
  hicomex::gst::add_hicomex_meta(in, {make_face(1, 100, 100, 120, 150)}, "m");
  GstBuffer* before = gst_buffer_copy_deep(in);
  gst_harness_push(hr, in);
  GstBuffer* out = gst_harness_pull(hr);
  const PixelDiff d = diff_frames(before, out, format, w, h, {100, 100, 220, 250}, 0);
  EXPECT_GT(d.changed_outside, 500);  // the AU list to the right and the chart below
  gst_buffer_unref(out);
  gst_buffer_unref(before);
  gst_harness_teardown(hr);
}

TEST_P(OverlayFormats, HandlesOddFrameSizes) {
  const GstVideoFormat format = GetParam();
  const int w = 161, h = 121;  // odd: chroma planes round up, rows are padded
  GstHarness* hr = overlay_harness(format, w, h, true);
  GstBuffer* in = make_frame(format, w, h);
  hicomex::gst::add_hicomex_meta(in, {make_face(2, 41, 31, 61, 51)}, "m");
  GstBuffer* before = gst_buffer_copy_deep(in);
  ASSERT_EQ(gst_harness_push(hr, in), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(hr);
  const PixelDiff d = diff_frames(before, out, format, w, h, {41, 31, 102, 82}, 2);
  EXPECT_GT(d.changed_inside, 50);
  EXPECT_EQ(d.changed_outside, 0);
  gst_buffer_unref(out);
  gst_buffer_unref(before);
  gst_harness_teardown(hr);
}

INSTANTIATE_TEST_SUITE_P(HicomexOverlay, OverlayFormats,
                         ::testing::Values(GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB,
                                           GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12),
                         [](const auto& info) { return std::string(gst_video_format_to_string(info.param)); });

TEST(HicomexOverlay, DrawsBoxColourAsTheSameColourInRgbAndI420) {
  gsttest::init_gst();
  // The box border of track 0 is red in RGB; in I420 the same pixel must be
  // red too once converted back (Cr high, Cb below neutral).
  const int w = 320, h = 240;
  GstHarness* hr = overlay_harness(GST_VIDEO_FORMAT_I420, w, h, true);
  GstBuffer* in = make_frame(GST_VIDEO_FORMAT_I420, w, h);
  hicomex::gst::add_hicomex_meta(in, {make_face(0, 100, 60, 80, 100)}, "m");
  gst_harness_push(hr, in);
  GstBuffer* out = gst_harness_pull(hr);
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, w, h);
  GstVideoFrame f;
  gst_video_frame_map(&f, &info, out, GST_MAP_READ);
  // A point on the left border, half way down (border is inside the box).
  const int x = 100, y = 110;
  const int v = static_cast<const guint8*>(
      GST_VIDEO_FRAME_PLANE_DATA(&f, 2))[(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 2) + x / 2];
  const int u = static_cast<const guint8*>(
      GST_VIDEO_FRAME_PLANE_DATA(&f, 1))[(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 1) + x / 2];
  EXPECT_GT(v, 180);
  EXPECT_LT(u, 128);
  gst_video_frame_unmap(&f);
  gst_buffer_unref(out);
  gst_harness_teardown(hr);
}

TEST(HicomexOverlay, EveryPropertyRoundTrips) {
  gsttest::init_gst();
  GstElement* e = gst_element_factory_make("hicomexoverlay", nullptr);
  ASSERT_NE(e, nullptr);
  for (const char* name : {"draw-boxes", "draw-landmarks", "draw-labels", "draw-bars"}) {
    gboolean v = FALSE;
    g_object_get(e, name, &v, nullptr);
    EXPECT_TRUE(v) << name << " defaults to TRUE";
    g_object_set(e, name, FALSE, nullptr);
    g_object_get(e, name, &v, nullptr);
    EXPECT_FALSE(v) << name;
  }
  double p = -1;
  g_object_get(e, "min-probability", &p, nullptr);
  EXPECT_DOUBLE_EQ(p, 0.0);
  g_object_set(e, "min-probability", 0.65, nullptr);
  g_object_get(e, "min-probability", &p, nullptr);
  EXPECT_DOUBLE_EQ(p, 0.65);
  gst_object_unref(e);
}

// Label blocks of neighbouring faces keep clear of each other and of the boxes.
TEST(HicomexOverlayLayout, LabelsOfNeighbouringFacesDoNotOverlap) {
  using hicomex::gst::PixelRect;
  const PixelRect a{100, 100, 80, 80}, b{200, 100, 80, 80}, c{300, 120, 80, 80};
  std::vector<PixelRect> taken{a, b, c};
  std::vector<PixelRect> labels;
  for (const PixelRect& box : {a, b, c}) {
    PixelRect out;
    ASSERT_TRUE(hicomex::gst::place_beside(box, 150, 60, 640, 480, taken, 4, out));
    for (const PixelRect& t : taken) EXPECT_FALSE(out.intersects(t)) << out.x << "," << out.y;
    EXPECT_GE(out.x, 0);
    EXPECT_LE(out.x + out.width, 640);
    EXPECT_LE(out.y + out.height, 480);
    taken.push_back(out);
    labels.push_back(out);
  }
  // a's block does not fit between a and b, so it went below b, or to a's left.
  EXPECT_TRUE(labels[0].x + 150 <= a.x || labels[0].y >= b.y + b.height) << labels[0].x << "," << labels[0].y;
}

TEST(HicomexOverlayLayout, GoesBelowTheFacesWhenNeitherSideHasRoom) {
  using hicomex::gst::PixelRect;
  // Two faces side by side across the whole width, room only underneath.
  const PixelRect a{0, 20, 300, 200}, b{320, 20, 320, 200};
  std::vector<PixelRect> taken{a, b};
  PixelRect la, lb;
  ASSERT_TRUE(hicomex::gst::place_beside(a, 200, 60, 640, 480, taken, 4, la));
  taken.push_back(la);
  ASSERT_TRUE(hicomex::gst::place_beside(b, 200, 60, 640, 480, taken, 4, lb));
  for (const PixelRect& l : {la, lb}) {
    EXPECT_FALSE(l.intersects(a));
    EXPECT_FALSE(l.intersects(b));
    EXPECT_GE(l.y, 220);
  }
  EXPECT_FALSE(la.intersects(lb));
}

TEST(HicomexOverlayLayout, ReportsNoRoomInsteadOfCoveringAFace) {
  using hicomex::gst::PixelRect;
  // Faces fill the frame's width: no side has room for a 200-pixel block.
  const PixelRect box{50, 0, 220, 240};
  PixelRect out{1, 2, 3, 4};
  EXPECT_FALSE(hicomex::gst::place_beside(box, 200, 60, 320, 240, {box}, 4, out));
  EXPECT_EQ(out.x, 1) << "untouched when there is no room";
  EXPECT_FALSE(hicomex::gst::place_beside(box, 400, 60, 320, 240, {}, 4, out));
}

TEST(HicomexOverlayLayout, ChartsOfFacesSideBySideDoNotOverlap) {
  using hicomex::gst::PixelRect;
  using hicomex::gst::Side;
  // Charts are wider than the boxes: the second one cannot sit straight under its box.
  const PixelRect a{50, 50, 120, 120}, b{200, 50, 120, 120};
  std::vector<PixelRect> taken{a, b};
  PixelRect ca, cb;
  ASSERT_TRUE(hicomex::gst::place_beside(a, 250, 60, 640, 480, taken, 4, ca,
                                         {Side::kBelow, Side::kAbove, Side::kRight, Side::kLeft}));
  EXPECT_EQ(ca.x, a.x) << "the first chart goes straight under its box";
  EXPECT_EQ(ca.y, a.y + a.height + 4);
  taken.push_back(ca);
  ASSERT_TRUE(hicomex::gst::place_beside(b, 250, 60, 640, 480, taken, 4, cb,
                                         {Side::kBelow, Side::kAbove, Side::kRight, Side::kLeft}));
  EXPECT_FALSE(cb.intersects(ca));
  EXPECT_FALSE(cb.intersects(a));
  EXPECT_FALSE(cb.intersects(b));
  EXPECT_GE(cb.y, b.y + b.height) << "still below its face";
}

namespace {

// The bar chart alone (no box, points or labels) of one face, on a 320x240 RGB frame.
GstBuffer* draw_bars_of(const hicomex::FaceResult& face) {
  gsttest::init_gst();
  GstHarness* hr = overlay_harness(GST_VIDEO_FORMAT_RGB, 320, 240, true);
  g_object_set(hr->element, "draw-bars", TRUE, nullptr);
  GstBuffer* in = make_frame(GST_VIDEO_FORMAT_RGB, 320, 240);
  hicomex::gst::add_hicomex_meta(in, {face}, "m");
  gst_harness_push(hr, in);
  GstBuffer* out = gst_harness_pull(hr);
  gst_harness_teardown(hr);
  return out;
}

// Pixels that differ between two frames.
int changed_pixels(GstBuffer* a, GstBuffer* b) {
  GstMapInfo ma, mb;
  gst_buffer_map(a, &ma, GST_MAP_READ);
  gst_buffer_map(b, &mb, GST_MAP_READ);
  int n = 0;
  for (gsize i = 0; i < std::min(ma.size, mb.size); ++i) n += ma.data[i] != mb.data[i];
  gst_buffer_unmap(a, &ma);
  gst_buffer_unmap(b, &mb);
  return n;
}

}  // namespace

TEST(HicomexOverlay, BarsShowTheIntensityOfAModelWithIntensity) {
  // Same probabilities and presence, intensities 0 versus 5: only the bars' heights differ.
  hicomex::FaceResult low = gsttest::with_intensity(make_face(1, 100, 40, 80, 100));
  hicomex::FaceResult high = low;
  low.au_intensity.assign(5, 0.f);
  high.au_intensity.assign(5, 5.f);
  low.au_occurrence.assign(5, 0);
  high.au_occurrence.assign(5, 0);
  GstBuffer* a = draw_bars_of(low);
  GstBuffer* b = draw_bars_of(high);
  EXPECT_GT(changed_pixels(a, b), 100) << "bar height follows the intensity";
  // With intensities the probabilities no longer set the height.
  hicomex::FaceResult other_p = low;
  other_p.au_probability.assign(5, 1.f);
  GstBuffer* c = draw_bars_of(other_p);
  EXPECT_EQ(changed_pixels(a, c), 0) << "an intensity chart ignores the probabilities";
  gst_buffer_unref(a);
  gst_buffer_unref(b);
  gst_buffer_unref(c);
}

TEST(HicomexOverlay, BarsShowTheProbabilityOfAnOccurrenceOnlyModel) {
  hicomex::FaceResult low = make_face(1, 100, 40, 80, 100);
  hicomex::FaceResult high = low;
  low.au_probability.assign(5, 0.f);
  high.au_probability.assign(5, 1.f);
  GstBuffer* a = draw_bars_of(low);
  GstBuffer* b = draw_bars_of(high);
  EXPECT_GT(changed_pixels(a, b), 100);
  gst_buffer_unref(a);
  gst_buffer_unref(b);
}

TEST(HicomexOverlay, PresentAusAreHighlightedEvenAtLowIntensity) {
  hicomex::FaceResult absent = gsttest::with_intensity(make_face(1, 100, 40, 80, 100));
  absent.au_intensity.assign(5, 0.f);
  absent.au_occurrence.assign(5, 0);
  hicomex::FaceResult present = absent;
  present.au_occurrence.assign(5, 1);
  GstBuffer* a = draw_bars_of(absent);
  GstBuffer* b = draw_bars_of(present);
  EXPECT_GT(changed_pixels(a, b), 10) << "a present AU shows even with a calibrated intensity of 0";
  gst_buffer_unref(a);
  gst_buffer_unref(b);
}

TEST(OverlayControl, AControlledPropertyFollowsTheStreamTime) {
  gsttest::init_gst();
  GstHarness* hr = overlay_harness(GST_VIDEO_FORMAT_RGB, 320, 240, true);
  // draw-boxes off until 1 s, on from then: a step control source, as an
  // application animating the overlay would bind it.
  GstControlSource* cs = gst_interpolation_control_source_new();
  g_object_set(cs, "mode", GST_INTERPOLATION_MODE_NONE, nullptr);
  GstTimedValueControlSource* tv = GST_TIMED_VALUE_CONTROL_SOURCE(cs);
  gst_timed_value_control_source_set(tv, 0, 0.0);
  gst_timed_value_control_source_set(tv, GST_SECOND, 1.0);
  gst_object_add_control_binding(GST_OBJECT(hr->element),
                                 gst_direct_control_binding_new(GST_OBJECT(hr->element), "draw-boxes", cs));
  auto push_at = [&](GstClockTime pts) {
    GstBuffer* in = make_frame(GST_VIDEO_FORMAT_RGB, 320, 240);
    GST_BUFFER_PTS(in) = pts;
    GST_BUFFER_DURATION(in) = GST_SECOND / 25;
    hicomex::gst::add_hicomex_meta(in, {make_face(5, 100, 60, 80, 100)}, "test-model");
    GstBuffer* before = gst_buffer_copy_deep(in);
    EXPECT_EQ(gst_harness_push(hr, in), GST_FLOW_OK);
    GstBuffer* out = gst_harness_pull(hr);
    const bool changed = !same_bytes(before, out);
    gst_buffer_unref(out);
    gst_buffer_unref(before);
    return changed;
  };
  EXPECT_FALSE(push_at(0)) << "draw-boxes is off at 0 s";
  EXPECT_TRUE(push_at(2 * GST_SECOND)) << "draw-boxes is on from 1 s";
  gboolean on = FALSE;
  g_object_get(hr->element, "draw-boxes", &on, nullptr);
  EXPECT_TRUE(on);
  gst_object_unref(cs);
  gst_harness_teardown(hr);
}
