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
 * @x: left edge of the face box in pixels of the frame
 * @y: top edge of the face box in pixels of the frame
 * @width: width of the face box in pixels
 * @height: height of the face box in pixels
 * @detection_score: score of the detection that started/refreshed the track
 * @confidence: landmark/track confidence in [0,1] (OpenFace's "confidence")
 * @success: whether landmarks and AU values are valid (OpenFace's "success")
 * @landmarks: the iBUG 68 points as x0, y0, x1, y1, ... in frame pixels
 *   (also gst_hicomex_meta_get_landmarks())
 * @pitch: head rotation about the x axis, degrees
 * @yaw: head rotation about the y axis, degrees
 * @roll: head rotation about the z axis, degrees
 * @tx: head translation in millimetres, camera coordinates
 * @ty: head translation in millimetres, camera coordinates
 * @tz: head translation in millimetres, camera coordinates
 * @au_probability: (type gpointer): occurrence probability per AU, meta->n_aus
 *   values in the order of the meta's au_ids; owned by the meta
 * @au_occurrence: (type gpointer): 1 where the AU is judged present (n_aus
 *   values)
 * @au_intensity: (type gpointer): intensity per AU on the FACS 0-5 scale
 *   (OpenFace's AUxx_r), calibrated for this person when the analyzer's
 *   calibration is on; n_aus values, NULL when the meta's has_intensity is
 *   FALSE
 * @au_intensity_raw: (type gpointer): the network's intensity before
 *   calibration; NULL when the meta's has_intensity is FALSE
 *
 * One face of a #GstHicomexMeta. The AU arrays hold the meta's n_aus values;
 * a face does not know that count, so bindings (which see these pointers as
 * plain addresses) read them through the meta's accessors, by face index:
 * gst_hicomex_meta_get_au_probabilities(),
 * gst_hicomex_meta_get_au_occurrences(),
 * gst_hicomex_meta_get_au_intensities(),
 * gst_hicomex_meta_get_au_intensities_raw(). The intensity fields were added
 * after the others, at the end of the structure.
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
 * @model_id: (nullable): identifier of the AU model that produced the values
 * @n_aus: number of action units
 * @au_ids: (array length=n_aus): FACS numbers (12 = AU12), shared by all faces
 * @n_faces: number of faces
 * @faces: (type gpointer): the faces, in the analyzer's order (from bindings:
 *   gst_hicomex_meta_get_face())
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

/**
 * gst_hicomex_meta_api_get_type:
 *
 * Returns: the #GType of the GstHicomexMeta API ("GstHicomexMetaAPI"), for
 *   gst_buffer_get_meta() and friends
 */
GType gst_hicomex_meta_api_get_type (void);
#define GST_HICOMEX_META_API_TYPE (gst_hicomex_meta_api_get_type ())

/**
 * gst_hicomex_meta_get_info:
 *
 * Returns: (transfer none): the registered #GstMetaInfo of #GstHicomexMeta
 */
const GstMetaInfo *gst_hicomex_meta_get_info (void);
#define GST_HICOMEX_META_INFO (gst_hicomex_meta_get_info ())

/**
 * gst_buffer_add_hicomex_meta:
 * @buffer: a #GstBuffer
 * @model_id: (nullable): identifier of the AU model (copied)
 * @au_ids: (array length=n_aus) (nullable): FACS numbers of the action units
 *   (copied); may be NULL when @n_aus is 0
 * @n_aus: number of action units
 *
 * Adds an empty meta (no faces) for @n_aus action units with ids @au_ids.
 * The faces get no intensity arrays (has_intensity = FALSE).
 *
 * Returns: (transfer none) (nullable): the new meta, owned by @buffer
 */
GstHicomexMeta *gst_buffer_add_hicomex_meta (GstBuffer * buffer,
    const gchar * model_id, const gint * au_ids, guint n_aus);

/**
 * gst_buffer_add_hicomex_meta_full:
 * @buffer: a #GstBuffer
 * @model_id: (nullable): identifier of the AU model (copied)
 * @au_ids: (array length=n_aus) (nullable): FACS numbers of the action units
 *   (copied); may be NULL when @n_aus is 0
 * @n_aus: number of action units
 * @has_intensity: whether faces added later carry intensities
 *
 * As gst_buffer_add_hicomex_meta(); with @has_intensity every face added
 * later gets zero-filled au_intensity and au_intensity_raw arrays.
 *
 * Returns: (transfer none) (nullable): the new meta, owned by @buffer
 */
GstHicomexMeta *gst_buffer_add_hicomex_meta_full (GstBuffer * buffer,
    const gchar * model_id, const gint * au_ids, guint n_aus,
    gboolean has_intensity);

/**
 * gst_buffer_get_hicomex_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the #GstHicomexMeta of @buffer, or
 *   NULL when it has none. Valid as long as @buffer is.
 */
GstHicomexMeta *gst_buffer_get_hicomex_meta (GstBuffer * buffer);

/**
 * gst_hicomex_meta_add_face:
 * @meta: a #GstHicomexMeta
 *
 * Appends a zero-filled face whose AU arrays hold n_aus entries (the
 * intensity arrays only when meta->has_intensity).
 *
 * Returns: (transfer none): the new face. The pointer stays valid until the
 *   next gst_hicomex_meta_add_face() on the same meta.
 */
GstHicomexFace *gst_hicomex_meta_add_face (GstHicomexMeta * meta);

/**
 * gst_hicomex_meta_find_au:
 * @meta: a #GstHicomexMeta
 * @au_id: FACS number (12 = AU12)
 *
 * Returns: the index of @au_id in meta->au_ids, or -1
 */
gint gst_hicomex_meta_find_au (const GstHicomexMeta * meta, gint au_id);

/**
 * gst_hicomex_meta_get_au_intensity:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 * @au_id: FACS number (12 = AU12)
 * @intensity: (out) (optional): intensity 0-5, calibrated when calibration
 *   is on
 * @intensity_raw: (out) (optional): the network's intensity before
 *   calibration
 *
 * Returns: TRUE with the values set; FALSE when the meta has no intensity
 *   (occurrence-only model), the face index is out of range or the AU is not
 *   one of the meta's.
 */
gboolean gst_hicomex_meta_get_au_intensity (const GstHicomexMeta * meta,
    guint face_index, gint au_id, gfloat * intensity, gfloat * intensity_raw);

/* Accessors for what the structures hold as C arrays, so that bindings
 * (GObject introspection: Python's GstHicomex module) can read them. They
 * return views into the meta unless said otherwise. */

/**
 * gst_hicomex_meta_get_au_ids:
 * @meta: a #GstHicomexMeta
 * @n_aus: (out): number of action units (meta->n_aus)
 *
 * Returns: (array length=n_aus) (transfer none) (nullable): the FACS numbers
 *   of the meta's action units (12 = AU12), shared by all faces; the order
 *   of every per-AU array. NULL when @n_aus is 0.
 */
const gint *gst_hicomex_meta_get_au_ids (const GstHicomexMeta * meta,
    guint * n_aus);

/**
 * gst_hicomex_meta_get_n_faces:
 * @meta: a #GstHicomexMeta
 *
 * Returns: the number of faces (meta->n_faces); 0 when the analyzer found
 *   none in this frame
 */
guint gst_hicomex_meta_get_n_faces (const GstHicomexMeta * meta);

/**
 * gst_hicomex_meta_get_face:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 *
 * Returns: (transfer none) (nullable): the face, or NULL when @face_index is
 *   out of range. Its scalar fields (track_id, x, y, width, height,
 *   confidence, success, pitch, ...) are readable from bindings; its arrays
 *   through the other accessors, by @face_index.
 */
GstHicomexFace *gst_hicomex_meta_get_face (GstHicomexMeta * meta,
    guint face_index);

/**
 * gst_hicomex_meta_get_au_probabilities:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 * @n_aus: (out): number of values (meta->n_aus; 0 when @face_index is out of
 *   range)
 *
 * Returns: (array length=n_aus) (transfer none) (nullable): the face's
 *   occurrence probability per AU, in the order of the meta's au_ids; NULL
 *   when @face_index is out of range or the meta has no AUs
 */
const gfloat *gst_hicomex_meta_get_au_probabilities (const GstHicomexMeta *
    meta, guint face_index, guint * n_aus);

/**
 * gst_hicomex_meta_get_au_occurrences:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 * @n_aus: (out): number of values (meta->n_aus; 0 when @face_index is out of
 *   range)
 *
 * The face's presence decisions (au_occurrence) as booleans.
 *
 * Returns: (array length=n_aus) (transfer full) (nullable): a newly
 *   allocated array, TRUE where the AU is judged present, in the order of
 *   the meta's au_ids; free with g_free(). NULL when @face_index is out of
 *   range or the meta has no AUs.
 */
gboolean *gst_hicomex_meta_get_au_occurrences (const GstHicomexMeta * meta,
    guint face_index, guint * n_aus);

/**
 * gst_hicomex_meta_get_au_intensities:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 * @n_aus: (out): number of values (meta->n_aus; 0 when NULL is returned)
 *
 * Returns: (array length=n_aus) (transfer none) (nullable): the face's
 *   intensity per AU on the FACS 0-5 scale (calibrated when the analyzer's
 *   calibration is on), in the order of the meta's au_ids; NULL when the
 *   meta has no intensity (occurrence-only model) or @face_index is out of
 *   range
 */
const gfloat *gst_hicomex_meta_get_au_intensities (const GstHicomexMeta *
    meta, guint face_index, guint * n_aus);

/**
 * gst_hicomex_meta_get_au_intensities_raw:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 * @n_aus: (out): number of values (meta->n_aus; 0 when NULL is returned)
 *
 * Returns: (array length=n_aus) (transfer none) (nullable): the network's
 *   intensity per AU before calibration; NULL as for
 *   gst_hicomex_meta_get_au_intensities()
 */
const gfloat *gst_hicomex_meta_get_au_intensities_raw (const GstHicomexMeta *
    meta, guint face_index, guint * n_aus);

/**
 * gst_hicomex_meta_get_landmarks:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 * @n_values: (out): number of values: 2 * %GST_HICOMEX_LANDMARK_COUNT (136);
 *   0 when @face_index is out of range
 *
 * Returns: (array length=n_values) (transfer none) (nullable): the face's
 *   iBUG 68 landmarks as x0, y0, x1, y1, ... in frame pixels; NULL when
 *   @face_index is out of range
 */
const gfloat *gst_hicomex_meta_get_landmarks (const GstHicomexMeta * meta,
    guint face_index, guint * n_values);

/**
 * gst_hicomex_meta_get_present_aus:
 * @meta: a #GstHicomexMeta
 * @face_index: index into meta->faces
 * @n_present: (out): number of AUs judged present
 *
 * Returns: (array length=n_present) (transfer full) (nullable): a newly
 *   allocated array of the FACS numbers of the AUs judged present
 *   (au_occurrence set) for the face, in the order of the meta's au_ids;
 *   free with g_free(). NULL (and 0) when none is present or @face_index is
 *   out of range.
 */
gint *gst_hicomex_meta_get_present_aus (const GstHicomexMeta * meta,
    guint face_index, guint * n_present);

G_END_DECLS

#endif /* __GST_HICOMEX_META_H__ */
