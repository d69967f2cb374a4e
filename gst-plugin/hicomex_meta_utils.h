// Translation between the core's FaceResult and GStreamer metadata: the one
// place where results become GstHicomexMeta, region-of-interest metas and the
// element message (and back). Glue only; no LibTorch headers.
#pragma once
#include <string>
#include <vector>

#include <gst/gst.h>

#include "hicomex/face_result.h"
#include "meta/gsthicomexmeta.h"

namespace hicomex::gst {

/// Name of the GstStructure holding a face's AU values, attached to its
/// GstVideoRegionOfInterestMeta and nested in the element message. Fields,
/// in AU order: "AU12-p" (gdouble, probability), "AU12-c" (gboolean,
/// presence) and, when the model has an intensity head, "AU12-i" (gdouble,
/// intensity 0-5, calibrated when calibration is on) and "AU12-i-raw"
/// (gdouble, before calibration).
inline constexpr const char* kAuStructureName = "hicomex/au";
/// roi_type of the per-face GstVideoRegionOfInterestMeta.
inline constexpr const char* kRoiType = "face";
/// Name of the element message's structure.
inline constexpr const char* kMessageName = "hicomex";

/// The AU ids shared by `faces` (the first non-empty au_ids), or `fallback`
/// when no face has AU values. Throws std::invalid_argument if two faces
/// disagree or a face's value vectors do not match its ids.
std::vector<int> frame_au_ids(const std::vector<FaceResult>& faces, const std::vector<int>& fallback = {});

/// Adds a GstHicomexMeta holding `faces`. `au_ids` states the model's AUs so
/// a frame without faces still names them; faces with AU values must agree.
/// Faces without AU values get zeros. The meta has intensities (has_intensity)
/// when a face has them; a face without them then gets zeros (and a face
/// without raw values gets its calibrated ones as raw). Throws
/// std::invalid_argument (see above).
GstHicomexMeta* add_hicomex_meta(GstBuffer* buffer, const std::vector<FaceResult>& faces, const std::string& model_id,
                                 const std::vector<int>& au_ids = {});

/// The faces of a meta as core results (every face gets the meta's AU ids,
/// and au_intensity / au_intensity_raw when the meta has intensities).
std::vector<FaceResult> faces_from_meta(const GstHicomexMeta* meta);

/// The "hicomex/au" structure of one face (caller owns it).
GstStructure* au_structure(const FaceResult& face);

/// One GstVideoRegionOfInterestMeta per face: roi_type "face", id = track id,
/// box rounded and clamped to the frame, with the face's "hicomex/au" param.
void add_face_roi_metas(GstBuffer* buffer, const std::vector<FaceResult>& faces, int frame_width, int frame_height);

/// The element message's structure (caller owns it), named "hicomex":
///   frame (guint64), timestamp (GstClockTime, buffer PTS), stream-time
///   (GstClockTime), model (string), has-intensity (gboolean: the "aus"
///   structures carry AUxx-i and AUxx-i-raw), au-ids (GstValueArray of gint),
///   faces (GstValueList of "face" structures: track-id (gint), x, y, width,
///   height, detection-score, confidence (gdouble), success (gboolean),
///   pitch, yaw, roll (degrees), tx, ty, tz (mm) (gdouble), landmarks
///   (GstValueArray of 136 gdouble, x0 y0 x1 y1 ...), aus ("hicomex/au")).
GstStructure* results_structure(const std::vector<FaceResult>& faces, const std::string& model_id,
                                const std::vector<int>& au_ids, guint64 frame, GstClockTime pts,
                                GstClockTime stream_time);

/// gst_message_new_element(src, results_structure(...)).
GstMessage* results_message(GstObject* src, const std::vector<FaceResult>& faces, const std::string& model_id,
                            const std::vector<int>& au_ids, guint64 frame, GstClockTime pts, GstClockTime stream_time);

/// Parses the faces back out of a "hicomex" structure (applications and
/// tests); throws std::invalid_argument naming the field at fault.
std::vector<FaceResult> faces_from_results_structure(const GstStructure* s);

/// What the analyzer attaches per frame: the GstHicomexMeta and one ROI meta
/// per face.
void attach_results(GstBuffer* buffer, const std::vector<FaceResult>& faces, const std::string& model_id,
                    const std::vector<int>& au_ids, int frame_width, int frame_height);

}  // namespace hicomex::gst
