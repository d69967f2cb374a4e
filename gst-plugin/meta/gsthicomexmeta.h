/* GstHicomexMeta: per-frame face and action unit results of the hicomex
 * analyzer, attached to video buffers. Plain C; link with
 * `pkg-config --cflags --libs gst-hicomex-meta-1.0`.
 *
 * Reading it from a pad probe or an appsink:
 *
 *   GstHicomexMeta *meta = gst_buffer_get_hicomex_meta (buffer);
 *   if (meta) {
 *     for (guint i = 0; i < meta->n_faces; i++) {
 *       const GstHicomexFace *face = &meta->faces[i];
 *       for (guint a = 0; a < meta->n_aus; a++)
 *         g_print ("face %d AU%02d p=%.2f on=%d\n", face->track_id,
 *             meta->au_ids[a], face->au_probability[a], face->au_occurrence[a]);
 *       if (meta->has_intensity)
 *         g_print ("  AU%02d intensity %.2f (raw %.2f)\n", meta->au_ids[0],
 *             face->au_intensity[0], face->au_intensity_raw[0]);
 *     }
 *   }
 *
 * Intensity: a model with an intensity head gives every face an intensity
 * per AU on the FACS 0-5 scale (calibrated per person when the analyzer's
 * calibration is on) and the network's raw value. Then meta->has_intensity
 * is TRUE and au_intensity / au_intensity_raw hold n_aus values; otherwise
 * both are NULL. Presence (au_occurrence) and probability are always there.
 */
#ifndef __GST_HICOMEX_META_H__
#define __GST_HICOMEX_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_HICOMEX_LANDMARK_COUNT 68

/**
 * GstHicomexFace:
 * @track_id: stable id of the face while it is tracked
 * @x, @y, @width, @height: face box in pixels of the frame (top-left, size)
 * @detection_score: score of the detection that started/refreshed the track
 * @confidence: landmark/track confidence in [0,1] (OpenFace's "confidence")
 * @success: whether landmarks and AU values are valid (OpenFace's "success")
 * @landmarks: the iBUG 68 points as x0, y0, x1, y1, ... in frame pixels
 * @pitch, @yaw, @roll: head rotation in degrees
 * @tx, @ty, @tz: head translation in millimetres, camera coordinates
 * @au_probability: (array length=n_aus): occurrence probability per AU, in the
 *   order of the meta's @au_ids; owned by the meta
 * @au_occurrence: (array length=n_aus): 1 where the AU is judged present
 * @au_intensity: (array length=n_aus) (nullable): intensity per AU on the
 *   FACS 0-5 scale (OpenFace's AUxx_r), calibrated for this person when the
 *   analyzer's calibration is on; NULL when the meta's @has_intensity is FALSE
 * @au_intensity_raw: (array length=n_aus) (nullable): the network's intensity
 *   before calibration; NULL when the meta's @has_intensity is FALSE
 *
 * The intensity fields were added after the others, at the end of the
 * structure.
 */
typedef struct {
  gint track_id;
  gfloat x, y, width, height;
  gfloat detection_score;
  gfloat confidence;
  gboolean success;
  gfloat landmarks[2 * GST_HICOMEX_LANDMARK_COUNT];
  gfloat pitch, yaw, roll;
  gfloat tx, ty, tz;
  gfloat *au_probability;
  guint8 *au_occurrence;
  gfloat *au_intensity;
  gfloat *au_intensity_raw;
} GstHicomexFace;

/**
 * GstHicomexMeta:
 * @meta: parent
 * @model_id: identifier of the AU model that produced the values (may be NULL)
 * @n_aus: number of action units
 * @au_ids: (array length=n_aus): FACS numbers (12 = AU12), shared by all faces
 * @n_faces: number of faces
 * @faces: (array length=n_faces): the faces, in the analyzer's order
 * @has_intensity: TRUE when every face carries au_intensity and
 *   au_intensity_raw (the model has an intensity head); FALSE when the model
 *   predicts occurrence only, and on a meta without faces
 *
 * Every field is owned by the meta. A frame with no face carries a meta with
 * @n_faces = 0 (the analyzer ran and found none).
 */
typedef struct {
  GstMeta meta;
  gchar *model_id;
  guint n_aus;
  gint *au_ids;
  guint n_faces;
  GstHicomexFace *faces;
  gboolean has_intensity;
} GstHicomexMeta;

GType gst_hicomex_meta_api_get_type (void);
#define GST_HICOMEX_META_API_TYPE (gst_hicomex_meta_api_get_type ())

const GstMetaInfo *gst_hicomex_meta_get_info (void);
#define GST_HICOMEX_META_INFO (gst_hicomex_meta_get_info ())

/* Adds an empty meta (no faces) for @n_aus action units with ids @au_ids
 * (copied; may be NULL when @n_aus is 0). @model_id is copied; may be NULL.
 * The faces get no intensity arrays (has_intensity = FALSE). */
GstHicomexMeta *gst_buffer_add_hicomex_meta (GstBuffer * buffer,
    const gchar * model_id, const gint * au_ids, guint n_aus);

/* As gst_buffer_add_hicomex_meta(); with @has_intensity every face added
 * later gets zero-filled au_intensity and au_intensity_raw arrays. */
GstHicomexMeta *gst_buffer_add_hicomex_meta_full (GstBuffer * buffer,
    const gchar * model_id, const gint * au_ids, guint n_aus,
    gboolean has_intensity);

/* The meta of @buffer, or NULL. */
GstHicomexMeta *gst_buffer_get_hicomex_meta (GstBuffer * buffer);

/* Appends a zero-filled face whose AU arrays hold n_aus entries (the
 * intensity arrays only when meta->has_intensity). The pointer stays valid
 * until the next gst_hicomex_meta_add_face() on the same meta. */
GstHicomexFace *gst_hicomex_meta_add_face (GstHicomexMeta * meta);

/* Index of @au_id in meta->au_ids, or -1. */
gint gst_hicomex_meta_find_au (const GstHicomexMeta * meta, gint au_id);

/* gst_hicomex_meta_get_au_intensity:
 * @meta: a meta
 * @face_index: index into meta->faces
 * @au_id: FACS number (12 = AU12)
 * @intensity: (out) (optional): intensity 0-5, calibrated when calibration is on
 * @intensity_raw: (out) (optional): the network's intensity before calibration
 *
 * Returns: TRUE with the values set; FALSE when the meta has no intensity
 * (occurrence-only model), the face index is out of range or the AU is not
 * one of the meta's. */
gboolean gst_hicomex_meta_get_au_intensity (const GstHicomexMeta * meta,
    guint face_index, gint au_id, gfloat * intensity, gfloat * intensity_raw);

G_END_DECLS

#endif /* __GST_HICOMEX_META_H__ */
