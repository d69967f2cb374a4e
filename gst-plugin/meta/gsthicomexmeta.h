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
 *     }
 *   }
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
} GstHicomexFace;

/**
 * GstHicomexMeta:
 * @meta: parent
 * @model_id: identifier of the AU model that produced the values (may be NULL)
 * @n_aus: number of action units
 * @au_ids: (array length=n_aus): FACS numbers (12 = AU12), shared by all faces
 * @n_faces: number of faces
 * @faces: (array length=n_faces): the faces, in the analyzer's order
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
} GstHicomexMeta;

GType gst_hicomex_meta_api_get_type (void);
#define GST_HICOMEX_META_API_TYPE (gst_hicomex_meta_api_get_type ())

const GstMetaInfo *gst_hicomex_meta_get_info (void);
#define GST_HICOMEX_META_INFO (gst_hicomex_meta_get_info ())

/* Adds an empty meta (no faces) for @n_aus action units with ids @au_ids
 * (copied; may be NULL when @n_aus is 0). @model_id is copied; may be NULL. */
GstHicomexMeta *gst_buffer_add_hicomex_meta (GstBuffer * buffer,
    const gchar * model_id, const gint * au_ids, guint n_aus);

/* The meta of @buffer, or NULL. */
GstHicomexMeta *gst_buffer_get_hicomex_meta (GstBuffer * buffer);

/* Appends a zero-filled face whose AU arrays hold n_aus entries. The pointer
 * stays valid until the next gst_hicomex_meta_add_face() on the same meta. */
GstHicomexFace *gst_hicomex_meta_add_face (GstHicomexMeta * meta);

/* Index of @au_id in meta->au_ids, or -1. */
gint gst_hicomex_meta_find_au (const GstHicomexMeta * meta, gint au_id);

G_END_DECLS

#endif /* __GST_HICOMEX_META_H__ */
