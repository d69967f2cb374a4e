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
  for (std::size_t i = 0; i < a.au_probability.size(); ++i) EXPECT_FLOAT_EQ(a.au_probability[i], b.au_probability[i]);
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
  EXPECT_THROW(hg::add_hicomex_meta(buf, {make_face(1, 0, 0, 10, 10), other}, "m"), std::invalid_argument);
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
  ASSERT_TRUE(meta->info->transform_func(dst, meta, src, gst_video_meta_transform_scale_get_quark(), &trans));
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
  hg::add_face_roi_metas(buf, {make_face(3, 10, 10, 20, 30), make_face(9, 90, -5, 30, 30)}, 100, 80);
  std::vector<GstVideoRegionOfInterestMeta*> rois;
  gpointer state = nullptr;
  while (GstMeta* m = gst_buffer_iterate_meta_filtered(buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
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
  GstMessage* msg = hg::results_message(nullptr, faces, "model-x", {}, 12, 400 * GST_MSECOND, 400 * GST_MSECOND);
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

// ---- intensity: C API, FaceResult translation, ROI params, element message ----

TEST_F(HicomexMeta, TheCApiAllocatesIntensitiesOnlyWhenAsked) {
  GstBuffer* buf = gst_buffer_new();
  const gint ids[] = {1, 12};
  GstHicomexMeta* plain = gst_buffer_add_hicomex_meta(buf, "m", ids, 2);
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->has_intensity);
  GstHicomexFace* face = gst_hicomex_meta_add_face(plain);
  EXPECT_EQ(face->au_intensity, nullptr);
  EXPECT_EQ(face->au_intensity_raw, nullptr);
  gfloat i = -1.f;
  EXPECT_FALSE(gst_hicomex_meta_get_au_intensity(plain, 0, 12, &i, nullptr));
  gst_buffer_unref(buf);

  buf = gst_buffer_new();
  GstHicomexMeta* meta = gst_buffer_add_hicomex_meta_full(buf, "m", ids, 2, TRUE);
  ASSERT_NE(meta, nullptr);
  EXPECT_TRUE(meta->has_intensity);
  face = gst_hicomex_meta_add_face(meta);
  ASSERT_NE(face->au_intensity, nullptr);
  ASSERT_NE(face->au_intensity_raw, nullptr);
  EXPECT_EQ(face->au_intensity[1], 0.f) << "zero-filled";
  face->au_intensity[1] = 2.5f;
  face->au_intensity_raw[1] = 3.f;
  gfloat raw = -1.f;
  ASSERT_TRUE(gst_hicomex_meta_get_au_intensity(meta, 0, 12, &i, &raw));
  EXPECT_FLOAT_EQ(i, 2.5f);
  EXPECT_FLOAT_EQ(raw, 3.f);
  EXPECT_TRUE(gst_hicomex_meta_get_au_intensity(meta, 0, 1, nullptr, nullptr));
  EXPECT_FALSE(gst_hicomex_meta_get_au_intensity(meta, 0, 25, &i, nullptr)) << "not one of the meta's AUs";
  EXPECT_FALSE(gst_hicomex_meta_get_au_intensity(meta, 1, 12, &i, nullptr)) << "no second face";
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, CarriesTheFacesIntensitiesThroughCopiesAndScaling) {
  GstBuffer* buf = gsttest::make_frame(GST_VIDEO_FORMAT_RGB, 64, 48);
  const FaceResult a = gsttest::with_intensity(make_face(3, 10, 10, 20, 20));
  FaceResult b = gsttest::with_intensity(make_face(8, 30, 5, 25, 30));
  b.au_intensity[4] = 1.5f;
  hg::add_hicomex_meta(buf, {a, b}, "m");
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(buf);
  ASSERT_TRUE(meta->has_intensity);
  EXPECT_FLOAT_EQ(meta->faces[1].au_intensity[4], 1.5f);
  EXPECT_FLOAT_EQ(meta->faces[1].au_intensity_raw[4], 4.25f);

  auto back = hg::faces_from_meta(meta);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].au_intensity, a.au_intensity);
  EXPECT_EQ(back[0].au_intensity_raw, a.au_intensity_raw);
  EXPECT_EQ(back[1].au_intensity, b.au_intensity);

  GstBuffer* copy = gst_buffer_copy(buf);
  GstHicomexMeta* dup = gst_buffer_get_hicomex_meta(copy);
  ASSERT_TRUE(dup->has_intensity);
  EXPECT_NE(dup->faces[1].au_intensity, meta->faces[1].au_intensity) << "deep copy";
  meta->faces[1].au_intensity[4] = 0.f;
  gst_buffer_unref(buf);
  EXPECT_FLOAT_EQ(dup->faces[1].au_intensity[4], 1.5f);
  EXPECT_FLOAT_EQ(dup->faces[1].au_intensity_raw[0], 0.75f);

  GstBuffer* scaled_buf = gst_buffer_new();
  GstVideoInfo in, out;
  gst_video_info_set_format(&in, GST_VIDEO_FORMAT_RGB, 64, 48);
  gst_video_info_set_format(&out, GST_VIDEO_FORMAT_RGB, 128, 96);
  GstVideoMetaTransform trans = {&in, &out};
  GstMeta* m = reinterpret_cast<GstMeta*>(dup);
  ASSERT_TRUE(m->info->transform_func(scaled_buf, m, copy, gst_video_meta_transform_scale_get_quark(), &trans));
  GstHicomexMeta* scaled = gst_buffer_get_hicomex_meta(scaled_buf);
  ASSERT_TRUE(scaled->has_intensity);
  EXPECT_FLOAT_EQ(scaled->faces[1].au_intensity[4], 1.5f) << "intensities do not scale with the frame";
  gst_buffer_unref(scaled_buf);
  gst_buffer_unref(copy);
}

TEST_F(HicomexMeta, FacesOfAnOccurrenceOnlyModelHaveNoIntensity) {
  GstBuffer* buf = gst_buffer_new();
  hg::add_hicomex_meta(buf, {make_face(1, 0, 0, 10, 10)}, "m");
  GstHicomexMeta* meta = gst_buffer_get_hicomex_meta(buf);
  EXPECT_FALSE(meta->has_intensity);
  EXPECT_EQ(meta->faces[0].au_intensity, nullptr);
  EXPECT_TRUE(hg::faces_from_meta(meta)[0].au_intensity.empty());
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, RoiParamsAndTheElementMessageCarryIntensitiesWhenThereAreAny) {
  GstBuffer* buf = gst_buffer_new();
  hg::add_face_roi_metas(buf, {gsttest::with_intensity(make_face(3, 10, 10, 20, 30)), make_face(4, 40, 10, 20, 30)},
                         100, 80);
  gpointer state = nullptr;
  std::vector<GstVideoRegionOfInterestMeta*> rois;
  while (GstMeta* m = gst_buffer_iterate_meta_filtered(buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
    rois.push_back(reinterpret_cast<GstVideoRegionOfInterestMeta*>(m));
  ASSERT_EQ(rois.size(), 2u);
  GstStructure* with = gst_video_region_of_interest_meta_get_param(rois[0], "hicomex/au");
  double v = 0;
  EXPECT_TRUE(gst_structure_get_double(with, "AU12-i", &v));
  EXPECT_DOUBLE_EQ(v, 3.5);
  EXPECT_TRUE(gst_structure_get_double(with, "AU12-i-raw", &v));
  EXPECT_DOUBLE_EQ(v, 4.25);
  EXPECT_TRUE(gst_structure_get_double(with, "AU12-p", &v));
  GstStructure* without = gst_video_region_of_interest_meta_get_param(rois[1], "hicomex/au");
  EXPECT_FALSE(gst_structure_has_field(without, "AU12-i"));
  EXPECT_TRUE(gst_structure_has_field(without, "AU12-p"));
  gst_buffer_unref(buf);

  const std::vector<FaceResult> faces = {gsttest::with_intensity(make_face(2, 5, 6, 40, 50))};
  GstMessage* msg = hg::results_message(nullptr, faces, "model-x", {}, 1, 0, 0);
  const GstStructure* s = gst_message_get_structure(msg);
  gboolean has = FALSE;
  EXPECT_TRUE(gst_structure_get_boolean(s, "has-intensity", &has));
  EXPECT_TRUE(has);
  gchar* text = gst_structure_to_string(s);
  GstStructure* parsed = gst_structure_from_string(text, nullptr);
  ASSERT_NE(parsed, nullptr) << text;
  auto back = hg::faces_from_results_structure(parsed);
  ASSERT_EQ(back.size(), 1u);
  ASSERT_EQ(back[0].au_intensity.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) {
    EXPECT_FLOAT_EQ(back[0].au_intensity[k], faces[0].au_intensity[k]);
    EXPECT_FLOAT_EQ(back[0].au_intensity_raw[k], faces[0].au_intensity_raw[k]);
    EXPECT_FLOAT_EQ(back[0].au_probability[k], faces[0].au_probability[k]);
  }
  gst_structure_free(parsed);
  g_free(text);
  gst_message_unref(msg);

  msg = hg::results_message(nullptr, {make_face(2, 5, 6, 40, 50)}, "model-x", {}, 1, 0, 0);
  EXPECT_TRUE(gst_structure_get_boolean(gst_message_get_structure(msg), "has-intensity", &has));
  EXPECT_FALSE(has);
  EXPECT_TRUE(hg::faces_from_results_structure(gst_message_get_structure(msg))[0].au_intensity.empty());
  gst_message_unref(msg);
}

// The accessors for bindings (GObject introspection: Python's GstHicomex).
TEST_F(HicomexMeta, BindingAccessorsReadTheArraysWithinBounds) {
  GstBuffer* buf = gst_buffer_new();
  const gint ids[] = {1, 12, 25};
  GstHicomexMeta* meta = gst_buffer_add_hicomex_meta_full(buf, "m", ids, 3, TRUE);
  for (int f = 0; f < 2; ++f) {
    GstHicomexFace* face = gst_hicomex_meta_add_face(meta);
    face->track_id = 10 + f;
    for (int a = 0; a < 3; ++a) {
      face->au_probability[a] = 0.1f * (a + 1) + f;
      face->au_occurrence[a] = (a + f) % 2;
      face->au_intensity[a] = 1.0f + a + f;
      face->au_intensity_raw[a] = 2.0f + a + f;
    }
    face->landmarks[0] = 5.0f + f;
    face->landmarks[135] = 7.0f + f;
  }

  guint n = 99;
  const gint* got_ids = gst_hicomex_meta_get_au_ids(meta, &n);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(got_ids[0], 1);
  EXPECT_EQ(got_ids[2], 25);
  EXPECT_EQ(gst_hicomex_meta_get_n_faces(meta), 2u);
  ASSERT_NE(gst_hicomex_meta_get_face(meta, 1), nullptr);
  EXPECT_EQ(gst_hicomex_meta_get_face(meta, 1)->track_id, 11);
  EXPECT_EQ(gst_hicomex_meta_get_face(meta, 2), nullptr);

  const gfloat* p = gst_hicomex_meta_get_au_probabilities(meta, 1, &n);
  ASSERT_EQ(n, 3u);
  EXPECT_FLOAT_EQ(p[2], 1.3f);
  gboolean* occ = gst_hicomex_meta_get_au_occurrences(meta, 1, &n);
  ASSERT_EQ(n, 3u);
  EXPECT_TRUE(occ[0]);
  EXPECT_FALSE(occ[1]);
  EXPECT_TRUE(occ[2]);
  g_free(occ);
  const gfloat* in = gst_hicomex_meta_get_au_intensities(meta, 0, &n);
  ASSERT_EQ(n, 3u);
  EXPECT_FLOAT_EQ(in[1], 2.0f);
  const gfloat* raw = gst_hicomex_meta_get_au_intensities_raw(meta, 1, &n);
  ASSERT_EQ(n, 3u);
  EXPECT_FLOAT_EQ(raw[0], 3.0f);
  const gfloat* lm = gst_hicomex_meta_get_landmarks(meta, 1, &n);
  ASSERT_EQ(n, 136u);
  EXPECT_FLOAT_EQ(lm[0], 6.0f);
  EXPECT_FLOAT_EQ(lm[135], 8.0f);

  gint* present = gst_hicomex_meta_get_present_aus(meta, 0, &n);  // occurrence 0 1 0
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(present[0], 12);
  g_free(present);
  present = gst_hicomex_meta_get_present_aus(meta, 1, &n);  // occurrence 1 0 1
  ASSERT_EQ(n, 2u);
  EXPECT_EQ(present[0], 1);
  EXPECT_EQ(present[1], 25);
  g_free(present);

  // Out of range: NULL and a count of 0.
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_au_probabilities(meta, 2, &n), nullptr);
  EXPECT_EQ(n, 0u);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_au_occurrences(meta, 2, &n), nullptr);
  EXPECT_EQ(n, 0u);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_au_intensities(meta, 2, &n), nullptr);
  EXPECT_EQ(n, 0u);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_landmarks(meta, 2, &n), nullptr);
  EXPECT_EQ(n, 0u);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_present_aus(meta, 2, &n), nullptr);
  EXPECT_EQ(n, 0u);
  // Counts are optional.
  EXPECT_EQ(gst_hicomex_meta_get_au_probabilities(meta, 0, nullptr), meta->faces[0].au_probability);
  gst_buffer_unref(buf);
}

TEST_F(HicomexMeta, BindingAccessorsWithoutIntensityOrFacesOrAus) {
  GstBuffer* buf = gst_buffer_new();
  const gint ids[] = {6, 12};
  GstHicomexMeta* meta = gst_buffer_add_hicomex_meta(buf, nullptr, ids, 2);
  gst_hicomex_meta_add_face(meta);  // nothing present
  guint n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_au_intensities(meta, 0, &n), nullptr);
  EXPECT_EQ(n, 0u);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_au_intensities_raw(meta, 0, &n), nullptr);
  EXPECT_EQ(n, 0u);
  EXPECT_NE(gst_hicomex_meta_get_au_probabilities(meta, 0, &n), nullptr);
  EXPECT_EQ(n, 2u);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_present_aus(meta, 0, &n), nullptr);
  EXPECT_EQ(n, 0u);
  gst_buffer_unref(buf);

  // No AUs, no faces.
  buf = gst_buffer_new();
  meta = gst_buffer_add_hicomex_meta(buf, nullptr, nullptr, 0);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_au_ids(meta, &n), nullptr);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(gst_hicomex_meta_get_n_faces(meta), 0u);
  EXPECT_EQ(gst_hicomex_meta_get_face(meta, 0), nullptr);
  gst_hicomex_meta_add_face(meta);
  n = 99;
  EXPECT_EQ(gst_hicomex_meta_get_au_probabilities(meta, 0, &n), nullptr);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(gst_hicomex_meta_get_au_occurrences(meta, 0, &n), nullptr);
  EXPECT_NE(gst_hicomex_meta_get_landmarks(meta, 0, &n), nullptr);
  EXPECT_EQ(n, 136u);
  gst_buffer_unref(buf);
}
