#include "hicomex_meta_utils.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <gst/video/video.h>

namespace hicomex::gst {
namespace {

std::string au_field(int id, const char* suffix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "AU%02d-%s", id, suffix);
  return buf;
}

double get_double(const GstStructure* s, const char* field) {
  double v = 0.0;
  if (!gst_structure_get_double(s, field, &v))
    throw std::invalid_argument(std::string("hicomex structure: missing double field '") + field + "'");
  return v;
}

int get_int(const GstStructure* s, const char* field) {
  int v = 0;
  if (!gst_structure_get_int(s, field, &v))
    throw std::invalid_argument(std::string("hicomex structure: missing int field '") + field + "'");
  return v;
}

bool get_bool(const GstStructure* s, const char* field) {
  gboolean v = FALSE;
  if (!gst_structure_get_boolean(s, field, &v))
    throw std::invalid_argument(std::string("hicomex structure: missing boolean field '") + field + "'");
  return v;
}

bool has_intensity(const FaceResult& f) { return !f.au_ids.empty() && !f.au_intensity.empty(); }

// Optional double field: false when absent, throws when of another type.
bool find_double(const GstStructure* s, const std::string& field, float* out) {
  if (!gst_structure_has_field(s, field.c_str())) return false;
  *out = (float)get_double(s, field.c_str());
  return true;
}

GstStructure* face_structure(const FaceResult& f) {
  GValue landmarks = G_VALUE_INIT;
  gst_value_array_init(&landmarks, 2 * f.landmarks.size());
  for (const Point2f& p : f.landmarks) {
    for (float c : {p.x, p.y}) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, G_TYPE_DOUBLE);
      g_value_set_double(&v, c);
      gst_value_array_append_and_take_value(&landmarks, &v);
    }
  }
  GstStructure* aus = au_structure(f);
  GstStructure* s = gst_structure_new(
      "face", "track-id", G_TYPE_INT, f.track_id, "x", G_TYPE_DOUBLE, (double)f.box.x, "y", G_TYPE_DOUBLE,
      (double)f.box.y, "width", G_TYPE_DOUBLE, (double)f.box.width, "height", G_TYPE_DOUBLE, (double)f.box.height,
      "detection-score", G_TYPE_DOUBLE, (double)f.detection_score, "confidence", G_TYPE_DOUBLE, (double)f.confidence,
      "success", G_TYPE_BOOLEAN, (gboolean)f.success, "pitch", G_TYPE_DOUBLE, (double)f.pose.pitch, "yaw",
      G_TYPE_DOUBLE, (double)f.pose.yaw, "roll", G_TYPE_DOUBLE, (double)f.pose.roll, "tx", G_TYPE_DOUBLE,
      (double)f.pose.tx, "ty", G_TYPE_DOUBLE, (double)f.pose.ty, "tz", G_TYPE_DOUBLE, (double)f.pose.tz, "aus",
      GST_TYPE_STRUCTURE, aus, nullptr);
  gst_structure_take_value(s, "landmarks", &landmarks);
  gst_structure_free(aus);
  return s;
}

}  // namespace

std::vector<int> frame_au_ids(const std::vector<FaceResult>& faces, const std::vector<int>& fallback) {
  const std::vector<int>* ids = nullptr;
  for (const FaceResult& f : faces) {
    const auto optional_fits = [&](std::size_t n) { return n == 0 || n == f.au_ids.size(); };
    if (f.au_probability.size() != f.au_ids.size() || f.au_occurrence.size() != f.au_ids.size() ||
        !optional_fits(f.au_intensity.size()) || !optional_fits(f.au_intensity_raw.size()))
      throw std::invalid_argument("face " + std::to_string(f.track_id) + ": AU value vectors do not match its au_ids");
    if (f.au_ids.empty()) continue;
    if (!ids)
      ids = &f.au_ids;
    else if (*ids != f.au_ids)
      throw std::invalid_argument("face " + std::to_string(f.track_id) +
                                  ": AU ids differ from the other faces of the frame");
  }
  if (ids && !fallback.empty() && *ids != fallback)
    throw std::invalid_argument("faces' AU ids differ from the model's AU ids");
  return ids ? *ids : fallback;
}

GstHicomexMeta* add_hicomex_meta(GstBuffer* buffer, const std::vector<FaceResult>& faces, const std::string& model_id,
                                 const std::vector<int>& au_ids) {
  const std::vector<int> ids = frame_au_ids(faces, au_ids);
  const bool intensity = std::any_of(faces.begin(), faces.end(), has_intensity);
  GstHicomexMeta* meta = gst_buffer_add_hicomex_meta_full(buffer, model_id.empty() ? nullptr : model_id.c_str(),
                                                          ids.data(), static_cast<guint>(ids.size()), intensity);
  if (!meta) throw std::runtime_error("cannot add GstHicomexMeta to the buffer");
  for (const FaceResult& f : faces) {
    GstHicomexFace* out = gst_hicomex_meta_add_face(meta);
    out->track_id = f.track_id;
    out->x = f.box.x;
    out->y = f.box.y;
    out->width = f.box.width;
    out->height = f.box.height;
    out->detection_score = f.detection_score;
    out->confidence = f.confidence;
    out->success = f.success;
    for (std::size_t i = 0; i < f.landmarks.size(); ++i) {
      out->landmarks[2 * i] = f.landmarks[i].x;
      out->landmarks[2 * i + 1] = f.landmarks[i].y;
    }
    out->pitch = f.pose.pitch;
    out->yaw = f.pose.yaw;
    out->roll = f.pose.roll;
    out->tx = f.pose.tx;
    out->ty = f.pose.ty;
    out->tz = f.pose.tz;
    if (!f.au_ids.empty()) {
      std::copy(f.au_probability.begin(), f.au_probability.end(), out->au_probability);
      std::copy(f.au_occurrence.begin(), f.au_occurrence.end(), out->au_occurrence);
    }
    // A face without intensities in a frame whose others have them keeps zeros.
    if (intensity && has_intensity(f)) {
      std::copy(f.au_intensity.begin(), f.au_intensity.end(), out->au_intensity);
      const std::vector<float>& raw = f.au_intensity_raw.empty() ? f.au_intensity : f.au_intensity_raw;
      std::copy(raw.begin(), raw.end(), out->au_intensity_raw);
    }
  }
  return meta;
}

std::vector<FaceResult> faces_from_meta(const GstHicomexMeta* meta) {
  std::vector<FaceResult> faces;
  if (!meta) return faces;
  const std::vector<int> ids(meta->au_ids, meta->au_ids + meta->n_aus);
  faces.reserve(meta->n_faces);
  for (guint k = 0; k < meta->n_faces; ++k) {
    const GstHicomexFace& in = meta->faces[k];
    FaceResult f;
    f.track_id = in.track_id;
    f.box = {in.x, in.y, in.width, in.height};
    f.detection_score = in.detection_score;
    f.confidence = in.confidence;
    f.success = in.success;
    for (std::size_t i = 0; i < f.landmarks.size(); ++i)
      f.landmarks[i] = {in.landmarks[2 * i], in.landmarks[2 * i + 1]};
    f.pose = {in.pitch, in.yaw, in.roll, in.tx, in.ty, in.tz};
    f.au_ids = ids;
    f.au_probability.assign(in.au_probability, in.au_probability + meta->n_aus);
    f.au_occurrence.assign(in.au_occurrence, in.au_occurrence + meta->n_aus);
    if (meta->has_intensity && in.au_intensity && in.au_intensity_raw) {
      f.au_intensity.assign(in.au_intensity, in.au_intensity + meta->n_aus);
      f.au_intensity_raw.assign(in.au_intensity_raw, in.au_intensity_raw + meta->n_aus);
    }
    faces.push_back(std::move(f));
  }
  return faces;
}

GstStructure* au_structure(const FaceResult& face) {
  GstStructure* s = gst_structure_new_empty(kAuStructureName);
  const bool intensity = face.au_intensity.size() == face.au_ids.size();
  const bool raw = face.au_intensity_raw.size() == face.au_ids.size();
  for (std::size_t i = 0; i < face.au_ids.size() && i < face.au_probability.size() && i < face.au_occurrence.size();
       ++i) {
    const int id = face.au_ids[i];
    gst_structure_set(s, au_field(id, "p").c_str(), G_TYPE_DOUBLE, (double)face.au_probability[i],
                      au_field(id, "c").c_str(), G_TYPE_BOOLEAN, (gboolean)(face.au_occurrence[i] != 0), nullptr);
    if (intensity)
      gst_structure_set(s, au_field(id, "i").c_str(), G_TYPE_DOUBLE, (double)face.au_intensity[i], nullptr);
    if (intensity && raw)
      gst_structure_set(s, au_field(id, "i-raw").c_str(), G_TYPE_DOUBLE, (double)face.au_intensity_raw[i], nullptr);
  }
  return s;
}

void add_face_roi_metas(GstBuffer* buffer, const std::vector<FaceResult>& faces, int frame_width, int frame_height) {
  for (const FaceResult& f : faces) {
    // ROI boxes are unsigned: clamp to the frame (a tracked face can overhang it).
    auto clamp = [](double v, int hi) {
      return static_cast<int>(std::lround(std::clamp(v, 0.0, static_cast<double>(hi))));
    };
    const int x0 = clamp(f.box.x, frame_width), y0 = clamp(f.box.y, frame_height);
    const int x1 = clamp(f.box.x + f.box.width, frame_width);
    const int y1 = clamp(f.box.y + f.box.height, frame_height);
    GstVideoRegionOfInterestMeta* roi = gst_buffer_add_video_region_of_interest_meta(
        buffer, kRoiType, x0, y0, std::max(0, x1 - x0), std::max(0, y1 - y0));
    if (!roi) throw std::runtime_error("cannot add a region-of-interest meta to the buffer");
    roi->id = f.track_id;
    gst_video_region_of_interest_meta_add_param(roi, au_structure(f));
  }
}

GstStructure* results_structure(const std::vector<FaceResult>& faces, const std::string& model_id,
                                const std::vector<int>& au_ids, guint64 frame, GstClockTime pts,
                                GstClockTime stream_time) {
  const std::vector<int> ids = frame_au_ids(faces, au_ids);
  const bool intensity = std::any_of(faces.begin(), faces.end(), has_intensity);
  GValue ids_value = G_VALUE_INIT;
  gst_value_array_init(&ids_value, ids.size());
  for (int id : ids) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_INT);
    g_value_set_int(&v, id);
    gst_value_array_append_and_take_value(&ids_value, &v);
  }
  GValue list = G_VALUE_INIT;
  gst_value_list_init(&list, faces.size());
  for (const FaceResult& f : faces) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    if ((f.au_ids.empty() && !ids.empty()) || (intensity && !has_intensity(f))) {
      // Every face of the message names every AU with the same fields, so
      // readers need no special case.
      FaceResult zeros = f;
      if (zeros.au_ids.empty()) {
        zeros.au_ids = ids;
        zeros.au_probability.assign(ids.size(), 0.f);
        zeros.au_occurrence.assign(ids.size(), 0);
      }
      if (intensity) {
        zeros.au_intensity.assign(ids.size(), 0.f);
        zeros.au_intensity_raw.assign(ids.size(), 0.f);
      }
      g_value_take_boxed(&v, face_structure(zeros));
    } else {
      g_value_take_boxed(&v, face_structure(f));
    }
    gst_value_list_append_and_take_value(&list, &v);
  }
  GstStructure* s = gst_structure_new(kMessageName, "frame", G_TYPE_UINT64, frame, "timestamp", G_TYPE_UINT64, pts,
                                      "stream-time", G_TYPE_UINT64, stream_time, "model", G_TYPE_STRING,
                                      model_id.c_str(), "has-intensity", G_TYPE_BOOLEAN, (gboolean)intensity, nullptr);
  gst_structure_take_value(s, "au-ids", &ids_value);
  gst_structure_take_value(s, "faces", &list);
  return s;
}

GstMessage* results_message(GstObject* src, const std::vector<FaceResult>& faces, const std::string& model_id,
                            const std::vector<int>& au_ids, guint64 frame, GstClockTime pts, GstClockTime stream_time) {
  return gst_message_new_element(src, results_structure(faces, model_id, au_ids, frame, pts, stream_time));
}

std::vector<FaceResult> faces_from_results_structure(const GstStructure* s) {
  if (!s || !gst_structure_has_name(s, kMessageName)) throw std::invalid_argument("not a 'hicomex' results structure");
  const GValue* ids_value = gst_structure_get_value(s, "au-ids");
  const GValue* list = gst_structure_get_value(s, "faces");
  if (!ids_value || !GST_VALUE_HOLDS_ARRAY(ids_value))
    throw std::invalid_argument("hicomex structure: missing array field 'au-ids'");
  if (!list || !GST_VALUE_HOLDS_LIST(list))
    throw std::invalid_argument("hicomex structure: missing list field 'faces'");
  std::vector<int> ids;
  for (guint i = 0; i < gst_value_array_get_size(ids_value); ++i)
    ids.push_back(g_value_get_int(gst_value_array_get_value(ids_value, i)));

  std::vector<FaceResult> faces;
  for (guint k = 0; k < gst_value_list_get_size(list); ++k) {
    const GValue* fv = gst_value_list_get_value(list, k);
    if (!GST_VALUE_HOLDS_STRUCTURE(fv)) throw std::invalid_argument("hicomex structure: 'faces' holds a non-structure");
    const GstStructure* fs = gst_value_get_structure(fv);
    FaceResult f;
    f.track_id = get_int(fs, "track-id");
    f.box = {(float)get_double(fs, "x"), (float)get_double(fs, "y"), (float)get_double(fs, "width"),
             (float)get_double(fs, "height")};
    f.detection_score = (float)get_double(fs, "detection-score");
    f.confidence = (float)get_double(fs, "confidence");
    f.success = get_bool(fs, "success");
    f.pose = {(float)get_double(fs, "pitch"), (float)get_double(fs, "yaw"), (float)get_double(fs, "roll"),
              (float)get_double(fs, "tx"),    (float)get_double(fs, "ty"),  (float)get_double(fs, "tz")};
    const GValue* lm = gst_structure_get_value(fs, "landmarks");
    if (!lm || !GST_VALUE_HOLDS_ARRAY(lm) || gst_value_array_get_size(lm) != 2 * f.landmarks.size())
      throw std::invalid_argument("hicomex structure: 'landmarks' is not an array of 136 values");
    for (std::size_t i = 0; i < f.landmarks.size(); ++i)
      f.landmarks[i] = {(float)g_value_get_double(gst_value_array_get_value(lm, 2 * i)),
                        (float)g_value_get_double(gst_value_array_get_value(lm, 2 * i + 1))};
    const GValue* av = gst_structure_get_value(fs, "aus");
    if (!av || !GST_VALUE_HOLDS_STRUCTURE(av))
      throw std::invalid_argument("hicomex structure: face without an 'aus' structure");
    const GstStructure* aus = gst_value_get_structure(av);
    f.au_ids = ids;
    // Intensities are all there or not at all (an occurrence-only model).
    const bool intensity = !ids.empty() && gst_structure_has_field(aus, au_field(ids[0], "i").c_str());
    for (int id : ids) {
      f.au_probability.push_back((float)get_double(aus, au_field(id, "p").c_str()));
      f.au_occurrence.push_back(get_bool(aus, au_field(id, "c").c_str()) ? 1 : 0);
      if (intensity) {
        f.au_intensity.push_back((float)get_double(aus, au_field(id, "i").c_str()));
        float raw = f.au_intensity.back();
        find_double(aus, au_field(id, "i-raw"), &raw);
        f.au_intensity_raw.push_back(raw);
      }
    }
    faces.push_back(std::move(f));
  }
  return faces;
}

void attach_results(GstBuffer* buffer, const std::vector<FaceResult>& faces, const std::string& model_id,
                    const std::vector<int>& au_ids, int frame_width, int frame_height) {
  add_hicomex_meta(buffer, faces, model_id, au_ids);
  add_face_roi_metas(buffer, faces, frame_width, frame_height);
}

}  // namespace hicomex::gst
