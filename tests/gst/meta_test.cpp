// GstHicomexMeta (C API) and the FaceResult <-> metadata translation.
#include <gtest/gtest.h>

#include <gst/video/video.h>

#include "gst_test_util.h"
#include "hicomex_meta_utils.h"
#include "meta/gsthicomexmeta.h"

using gsttest::make_face;
using hicomex::FaceResult;
namespace hg = hicomex::gst;

namespace {

class HicomexMeta : public ::testing::Test {
 protected:
  void SetUp() override { gsttest::init_gst(); }
};

void expect_same_face(const FaceResult& a, const FaceResult& b) {
  EXPECT_EQ(a.track_id, b.track_id);
  EXPECT_FLOAT_EQ(a.box.x, b.box.x);
  EXPECT_FLOAT_EQ(a.box.y, b.box.y);
  EXPECT_FLOAT_EQ(a.box.width, b.box.width);
  EXPECT_FLOAT_EQ(a.box.height, b.box.height);
  EXPECT_FLOAT_EQ(a.detection_score, b.detection_score);
  EXPECT_FLOAT_EQ(a.confidence, b.confidence);
  EXPECT_EQ(a.success, b.success);
  for (int i = 0; i < 68; ++i) {
    EXPECT_FLOAT_EQ(a.landmarks[i].x, b.landmarks[i].x);
    EXPECT_FLOAT_EQ(a.landmarks[i].y, b.landmarks[i].y);
  }
  EXPECT_FLOAT_EQ(a.pose.pitch, b.pose.pitch);
  EXPECT_FLOAT_EQ(a.pose.yaw, b.pose.yaw);
  EXPECT_FLOAT_EQ(a.pose.roll, b.pose.roll);
  EXPECT_FLOAT_EQ(a.pose.tz, b.pose.tz);
  EXPECT_EQ(a.au_ids, b.au_ids);
  ASSERT_EQ(a.au_probability.size(), b.au_probability.size());
  for (std::size_t i = 0; i < a.au_probability.size(); ++i)
    EXPECT_FLOAT_EQ(a.au_probability[i], b.au_probability[i]);
  EXPECT_EQ(a.au_occurrence, b.au_occurrence);
}

}  // namespace

TEST_F(HicomexMeta, IsAddedAndFoundWithItsFaces) {
  GstBuffer* buf = gst_buffer_new();
  const gint ids[] = {1, 12};
  GstHicomexMeta* meta = gst_buffer_add_hicomex_meta(buf, "synthetic-v1", ids, 2);
  ASSERT_NE(meta, nullptr);
  GstHicomexFace* face = gst_hicomex_meta_add_face(meta);
  face->track_id = 4;
  face->au_probability[1] = 0.8f;
  face->au_occurrence[1] = 1;

  GstHicomexMeta* got = gst_buffer_get_hicomex_meta(buf);
  ASSERT_EQ(got, meta);
  EXPECT_STREQ(got->model_id, "synthetic-v1");
  ASSERT_EQ(got->n_aus, 2u);
  EXPECT_EQ(got->au_ids[1], 12);
  ASSERT_EQ(got->n_faces, 1u);
  EXPECT_EQ(got->faces[0].track_id, 4);
  EXPECT_EQ(gst_hicomex_meta_find_au(got, 12), 1);
  EXPECT_EQ(gst_hicomex_meta_find_au(got, 25), -1);
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, IsAbsentFromAPlainBuffer) {
  GstBuffer* buf = gst_buffer_new();
  EXPECT_EQ(gst_buffer_get_hicomex_meta(buf), nullptr);
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, IsDeepCopiedWithTheBuffer) {
  GstBuffer* buf = gsttest::make_frame(GST_VIDEO_FORMAT_RGB, 64, 48);
  hg::add_hicomex_meta(buf, {make_face(3, 10, 10, 20, 20), make_face(8, 30, 5, 25, 30)}, "m");
  GstBuffer* copy = gst_buffer_copy(buf);
  GstHicomexMeta* orig = gst_buffer_get_hicomex_meta(buf);
  GstHicomexMeta* dup = gst_buffer_get_hicomex_meta(copy);
  ASSERT_NE(dup, nullptr);
  ASSERT_NE(dup, orig);
  ASSERT_EQ(dup->n_faces, 2u);
  EXPECT_NE(dup->faces[1].au_probability, orig->faces[1].au_probability);
  // Changing the original afterwards leaves the copy as it was.
  orig->faces[1].au_probability[4] = 0.0f;
  gst_buffer_unref(buf);
  auto faces = hg::faces_from_meta(dup);
  expect_same_face(faces[1], make_face(8, 30, 5, 25, 30));
  EXPECT_STREQ(dup->model_id, "m");
  gst_buffer_unref(copy);
}

TEST_F(HicomexMeta, RoundTripsFaceResults) {
  GstBuffer* buf = gst_buffer_new();
  std::vector<FaceResult> faces = {make_face(0, 1, 2, 30, 40), make_face(7, 50, 60, 70, 80)};
  faces[1].success = false;
  hg::add_hicomex_meta(buf, faces, "model-x");
  auto back = hg::faces_from_meta(gst_buffer_get_hicomex_meta(buf));
  ASSERT_EQ(back.size(), 2u);
  expect_same_face(back[0], faces[0]);
  expect_same_face(back[1], faces[1]);
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, NamesTheModelsAusOnAFrameWithoutFaces) {
  GstBuffer* buf = gst_buffer_new();
  hg::add_hicomex_meta(buf, {}, "m", {1, 2, 4});
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(buf);
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ(meta->n_faces, 0u);
  EXPECT_EQ(meta->n_aus, 3u);
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, RejectsFacesWithDisagreeingAuIds) {
  GstBuffer* buf = gst_buffer_new();
  FaceResult other = make_face(2, 0, 0, 10, 10);
  other.au_ids = {1, 2, 4, 6, 15};
  EXPECT_THROW(hg::add_hicomex_meta(buf, {make_face(1, 0, 0, 10, 10), other}, "m"),
               std::invalid_argument);
  EXPECT_EQ(gst_buffer_get_hicomex_meta(buf), nullptr);
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, ScalesWithTheFrameThroughVideoscaleTransforms) {
  GstBuffer* src = gst_buffer_new();
  hg::add_hicomex_meta(src, {make_face(1, 10, 20, 30, 40)}, "m");
  GstBuffer* dst = gst_buffer_new();
  GstVideoInfo in, out;
  gst_video_info_set_format(&in, GST_VIDEO_FORMAT_RGB, 100, 100);
  gst_video_info_set_format(&out, GST_VIDEO_FORMAT_RGB, 200, 50);
  GstVideoMetaTransform trans = {&in, &out};
  GstMeta* meta = reinterpret_cast<GstMeta*>(gst_buffer_get_hicomex_meta(src));
  ASSERT_TRUE(meta->info->transform_func(dst, meta, src, gst_video_meta_transform_scale_get_quark(),
                                         &trans));
  GstHicomexMeta* scaled = gst_buffer_get_hicomex_meta(dst);
  ASSERT_NE(scaled, nullptr);
  EXPECT_FLOAT_EQ(scaled->faces[0].x, 20.f);
  EXPECT_FLOAT_EQ(scaled->faces[0].y, 10.f);
  EXPECT_FLOAT_EQ(scaled->faces[0].width, 60.f);
  EXPECT_FLOAT_EQ(scaled->faces[0].height, 20.f);
  gst_buffer_unref(src);
  gst_buffer_unref(dst);
}

TEST_F(HicomexMeta, AddsOneFaceRegionOfInterestPerFaceWithAuParams) {
  GstBuffer* buf = gst_buffer_new();
  // The second face overhangs the 100x80 frame: its ROI is clamped.
  hg::add_face_roi_metas(buf, {make_face(3, 10, 10, 20, 30), make_face(9, 90, -5, 30, 30)}, 100,
                         80);
  std::vector<GstVideoRegionOfInterestMeta*> rois;
  gpointer state = nullptr;
  while (GstMeta* m = gst_buffer_iterate_meta_filtered(
             buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    rois.push_back(reinterpret_cast<GstVideoRegionOfInterestMeta*>(m));
  ASSERT_EQ(rois.size(), 2u);
  EXPECT_EQ(rois[0]->roi_type, g_quark_from_string("face"));
  EXPECT_EQ(rois[0]->id, 3);
  EXPECT_EQ(rois[0]->x, 10u);
  EXPECT_EQ(rois[0]->h, 30u);
  EXPECT_EQ(rois[1]->id, 9);
  EXPECT_EQ(rois[1]->x, 90u);
  EXPECT_EQ(rois[1]->y, 0u);
  EXPECT_EQ(rois[1]->w, 10u);
  EXPECT_EQ(rois[1]->h, 25u);

  GstStructure* aus = gst_video_region_of_interest_meta_get_param(rois[0], "hicomex/au");
  ASSERT_NE(aus, nullptr);
  double p = 0;
  gboolean c = FALSE;
  EXPECT_TRUE(gst_structure_get_double(aus, "AU12-p", &p));
  EXPECT_NEAR(p, 0.9, 1e-6);
  EXPECT_TRUE(gst_structure_get_boolean(aus, "AU12-c", &c));
  EXPECT_TRUE(c);
  EXPECT_TRUE(gst_structure_get_boolean(aus, "AU01-c", &c));
  EXPECT_FALSE(c);
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, ElementMessageSurvivesSerialisationAndParsesBack) {
  std::vector<FaceResult> faces = {make_face(2, 5, 6, 40, 50), make_face(4, 60, 6, 40, 50)};
  faces[1].au_ids.clear();  // a face without AU values gets zeros for every AU
  faces[1].au_probability.clear();
  faces[1].au_occurrence.clear();
  GstMessage* msg = hg::results_message(nullptr, faces, "model-x", {}, 12, 400 * GST_MSECOND,
                                        400 * GST_MSECOND);
  ASSERT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_ELEMENT);
  const GstStructure* s = gst_message_get_structure(msg);
  EXPECT_TRUE(gst_structure_has_name(s, "hicomex"));
  guint64 frame = 0;
  EXPECT_TRUE(gst_structure_get_uint64(s, "frame", &frame));
  EXPECT_EQ(frame, 12u);
  EXPECT_STREQ(gst_structure_get_string(s, "model"), "model-x");

  // gst-launch-1.0 -m prints the serialised form; applications may parse it.
  gchar* text = gst_structure_to_string(s);
  GstStructure* parsed = gst_structure_from_string(text, nullptr);
  ASSERT_NE(parsed, nullptr) << text;
  auto back = hg::faces_from_results_structure(parsed);
  ASSERT_EQ(back.size(), 2u);
  expect_same_face(back[0], faces[0]);
  EXPECT_EQ(back[1].au_ids, faces[0].au_ids);
  EXPECT_EQ(back[1].au_probability, std::vector<float>(5, 0.f));
  gst_structure_free(parsed);
  g_free(text);
  gst_message_unref(msg);
}

TEST_F(HicomexMeta, AttachResultsAddsBothKindsOfMeta) {
  GstBuffer* buf = gst_buffer_new();
  hg::attach_results(buf, {make_face(1, 0, 0, 10, 10)}, "m", {1, 2, 4, 6, 12}, 64, 48);
  EXPECT_NE(gst_buffer_get_hicomex_meta(buf), nullptr);
  EXPECT_NE(gst_buffer_get_meta(buf, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), nullptr);
  gst_buffer_unref(buf);
}
