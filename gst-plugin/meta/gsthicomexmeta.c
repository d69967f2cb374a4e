/* GstHicomexMeta: registration, allocation, copy and scale transforms. */
#include "gsthicomexmeta.h"

#include <string.h>

#include <gst/video/video.h>

static void
free_faces (GstHicomexFace * faces, guint n_faces)
{
  for (guint i = 0; i < n_faces; i++) {
    g_free (faces[i].au_probability);
    g_free (faces[i].au_occurrence);
    g_free (faces[i].au_intensity);
    g_free (faces[i].au_intensity_raw);
  }
  g_free (faces);
}

static gboolean
gst_hicomex_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstHicomexMeta *hmeta = (GstHicomexMeta *) meta;

  (void) params;
  (void) buffer;
  hmeta->model_id = NULL;
  hmeta->n_aus = 0;
  hmeta->au_ids = NULL;
  hmeta->n_faces = 0;
  hmeta->faces = NULL;
  hmeta->has_intensity = FALSE;
  return TRUE;
}

static void
gst_hicomex_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstHicomexMeta *hmeta = (GstHicomexMeta *) meta;

  (void) buffer;
  g_free (hmeta->model_id);
  g_free (hmeta->au_ids);
  free_faces (hmeta->faces, hmeta->n_faces);
  hmeta->model_id = NULL;
  hmeta->au_ids = NULL;
  hmeta->faces = NULL;
  hmeta->n_faces = hmeta->n_aus = 0;
}

static GstHicomexMeta *
copy_into (GstBuffer * dest, const GstHicomexMeta * src)
{
  GstHicomexMeta *dmeta = gst_buffer_add_hicomex_meta_full (dest,
      src->model_id, src->au_ids, src->n_aus, src->has_intensity);

  for (guint i = 0; i < src->n_faces; i++) {
    GstHicomexFace *face = gst_hicomex_meta_add_face (dmeta);
    const GstHicomexFace *from = &src->faces[i];
    gfloat *prob = face->au_probability;
    guint8 *occ = face->au_occurrence;
    gfloat *intensity = face->au_intensity;
    gfloat *raw = face->au_intensity_raw;

    *face = *from;
    face->au_probability = prob;
    face->au_occurrence = occ;
    face->au_intensity = intensity;
    face->au_intensity_raw = raw;
    if (src->n_aus > 0) {
      memcpy (prob, from->au_probability, src->n_aus * sizeof (gfloat));
      memcpy (occ, from->au_occurrence, src->n_aus * sizeof (guint8));
      if (intensity && from->au_intensity)
        memcpy (intensity, from->au_intensity, src->n_aus * sizeof (gfloat));
      if (raw && from->au_intensity_raw)
        memcpy (raw, from->au_intensity_raw, src->n_aus * sizeof (gfloat));
    }
  }
  return dmeta;
}

/* Geometry follows the frame through videoscale and friends, as
 * GstVideoRegionOfInterestMeta does. */
static void
scale_faces (GstHicomexMeta * meta, gdouble sx, gdouble sy)
{
  for (guint i = 0; i < meta->n_faces; i++) {
    GstHicomexFace *f = &meta->faces[i];

    f->x *= sx;
    f->y *= sy;
    f->width *= sx;
    f->height *= sy;
    for (guint p = 0; p < GST_HICOMEX_LANDMARK_COUNT; p++) {
      f->landmarks[2 * p] *= sx;
      f->landmarks[2 * p + 1] *= sy;
    }
  }
}

static gboolean
gst_hicomex_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  GstHicomexMeta *smeta = (GstHicomexMeta *) meta;

  (void) buffer;
  if (GST_META_TRANSFORM_IS_COPY (type)) {
    GstMetaTransformCopy *copy = data;

    /* A region copy no longer holds the frame the coordinates refer to. */
    if (copy->region)
      return TRUE;
    copy_into (dest, smeta);
    return TRUE;
  }
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    GstVideoMetaTransform *trans = data;
    gint ow = GST_VIDEO_INFO_WIDTH (trans->in_info);
    gint oh = GST_VIDEO_INFO_HEIGHT (trans->in_info);
    gint nw = GST_VIDEO_INFO_WIDTH (trans->out_info);
    gint nh = GST_VIDEO_INFO_HEIGHT (trans->out_info);
    GstHicomexMeta *dmeta;

    if (ow <= 0 || oh <= 0)
      return FALSE;
    dmeta = copy_into (dest, smeta);
    scale_faces (dmeta, (gdouble) nw / ow, (gdouble) nh / oh);
    return TRUE;
  }
  /* Unknown transform: drop the meta rather than carry wrong coordinates. */
  return FALSE;
}

GType
gst_hicomex_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { GST_META_TAG_VIDEO_STR,
    GST_META_TAG_VIDEO_ORIENTATION_STR, GST_META_TAG_VIDEO_SIZE_STR, NULL
  };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstHicomexMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

const GstMetaInfo *
gst_hicomex_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_HICOMEX_META_API_TYPE,
        "GstHicomexMeta", sizeof (GstHicomexMeta), gst_hicomex_meta_init,
        gst_hicomex_meta_free, gst_hicomex_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstHicomexMeta *
gst_buffer_add_hicomex_meta (GstBuffer * buffer, const gchar * model_id,
    const gint * au_ids, guint n_aus)
{
  return gst_buffer_add_hicomex_meta_full (buffer, model_id, au_ids, n_aus,
      FALSE);
}

GstHicomexMeta *
gst_buffer_add_hicomex_meta_full (GstBuffer * buffer, const gchar * model_id,
    const gint * au_ids, guint n_aus, gboolean has_intensity)
{
  GstHicomexMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  g_return_val_if_fail (au_ids != NULL || n_aus == 0, NULL);

  meta = (GstHicomexMeta *) gst_buffer_add_meta (buffer,
      GST_HICOMEX_META_INFO, NULL);
  if (!meta)
    return NULL;
  meta->model_id = g_strdup (model_id);
  meta->n_aus = n_aus;
  meta->au_ids = n_aus ? g_memdup2 (au_ids, n_aus * sizeof (gint)) : NULL;
  meta->has_intensity = has_intensity ? TRUE : FALSE;
  return meta;
}

GstHicomexMeta *
gst_buffer_get_hicomex_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstHicomexMeta *) gst_buffer_get_meta (buffer,
      GST_HICOMEX_META_API_TYPE);
}

GstHicomexFace *
gst_hicomex_meta_add_face (GstHicomexMeta * meta)
{
  GstHicomexFace *face;

  g_return_val_if_fail (meta != NULL, NULL);

  meta->faces = g_renew (GstHicomexFace, meta->faces, meta->n_faces + 1);
  face = &meta->faces[meta->n_faces++];
  memset (face, 0, sizeof (*face));
  face->track_id = -1;
  face->au_probability = g_new0 (gfloat, meta->n_aus ? meta->n_aus : 1);
  face->au_occurrence = g_new0 (guint8, meta->n_aus ? meta->n_aus : 1);
  if (meta->has_intensity) {
    face->au_intensity = g_new0 (gfloat, meta->n_aus ? meta->n_aus : 1);
    face->au_intensity_raw = g_new0 (gfloat, meta->n_aus ? meta->n_aus : 1);
  }
  return face;
}

gint
gst_hicomex_meta_find_au (const GstHicomexMeta * meta, gint au_id)
{
  g_return_val_if_fail (meta != NULL, -1);

  for (guint i = 0; i < meta->n_aus; i++)
    if (meta->au_ids[i] == au_id)
      return (gint) i;
  return -1;
}

gboolean
gst_hicomex_meta_get_au_intensity (const GstHicomexMeta * meta,
    guint face_index, gint au_id, gfloat * intensity, gfloat * intensity_raw)
{
  const GstHicomexFace *face;
  gint a;

  g_return_val_if_fail (meta != NULL, FALSE);

  if (!meta->has_intensity || face_index >= meta->n_faces)
    return FALSE;
  a = gst_hicomex_meta_find_au (meta, au_id);
  if (a < 0)
    return FALSE;
  face = &meta->faces[face_index];
  if (!face->au_intensity || !face->au_intensity_raw)
    return FALSE;
  if (intensity)
    *intensity = face->au_intensity[a];
  if (intensity_raw)
    *intensity_raw = face->au_intensity_raw[a];
  return TRUE;
}

/* Accessors for bindings (documented in the header). */

static const GstHicomexFace *
face_at (const GstHicomexMeta * meta, guint face_index)
{
  if (face_index >= meta->n_faces || !meta->faces)
    return NULL;
  return &meta->faces[face_index];
}

const gint *
gst_hicomex_meta_get_au_ids (const GstHicomexMeta * meta, guint * n_aus)
{
  if (n_aus)
    *n_aus = 0;
  g_return_val_if_fail (meta != NULL, NULL);

  if (meta->n_aus == 0 || !meta->au_ids)
    return NULL;
  if (n_aus)
    *n_aus = meta->n_aus;
  return meta->au_ids;
}

guint
gst_hicomex_meta_get_n_faces (const GstHicomexMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->n_faces;
}

GstHicomexFace *
gst_hicomex_meta_get_face (GstHicomexMeta * meta, guint face_index)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return (GstHicomexFace *) face_at (meta, face_index);
}

/* A per-AU array of the face, or NULL (and *n = 0). */
static gpointer
face_au_array (const GstHicomexMeta * meta, guint face_index, gsize offset,
    guint * n_aus)
{
  const GstHicomexFace *face;
  gpointer array;

  if (n_aus)
    *n_aus = 0;
  face = face_at (meta, face_index);
  if (!face || meta->n_aus == 0)
    return NULL;
  array = G_STRUCT_MEMBER (gpointer, face, offset);
  if (array && n_aus)
    *n_aus = meta->n_aus;
  return array;
}

const gfloat *
gst_hicomex_meta_get_au_probabilities (const GstHicomexMeta * meta,
    guint face_index, guint * n_aus)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return face_au_array (meta, face_index,
      G_STRUCT_OFFSET (GstHicomexFace, au_probability), n_aus);
}

gboolean *
gst_hicomex_meta_get_au_occurrences (const GstHicomexMeta * meta,
    guint face_index, guint * n_aus)
{
  const guint8 *occ;
  gboolean *out;
  guint n = 0;

  if (n_aus)
    *n_aus = 0;
  g_return_val_if_fail (meta != NULL, NULL);

  occ = face_au_array (meta, face_index,
      G_STRUCT_OFFSET (GstHicomexFace, au_occurrence), &n);
  if (!occ)
    return NULL;
  out = g_new (gboolean, n);
  for (guint a = 0; a < n; a++)
    out[a] = occ[a] ? TRUE : FALSE;
  if (n_aus)
    *n_aus = n;
  return out;
}

const gfloat *
gst_hicomex_meta_get_au_intensities (const GstHicomexMeta * meta,
    guint face_index, guint * n_aus)
{
  if (n_aus)
    *n_aus = 0;
  g_return_val_if_fail (meta != NULL, NULL);

  if (!meta->has_intensity)
    return NULL;
  return face_au_array (meta, face_index,
      G_STRUCT_OFFSET (GstHicomexFace, au_intensity), n_aus);
}

const gfloat *
gst_hicomex_meta_get_au_intensities_raw (const GstHicomexMeta * meta,
    guint face_index, guint * n_aus)
{
  if (n_aus)
    *n_aus = 0;
  g_return_val_if_fail (meta != NULL, NULL);

  if (!meta->has_intensity)
    return NULL;
  return face_au_array (meta, face_index,
      G_STRUCT_OFFSET (GstHicomexFace, au_intensity_raw), n_aus);
}

const gfloat *
gst_hicomex_meta_get_landmarks (const GstHicomexMeta * meta, guint face_index,
    guint * n_values)
{
  const GstHicomexFace *face;

  if (n_values)
    *n_values = 0;
  g_return_val_if_fail (meta != NULL, NULL);

  face = face_at (meta, face_index);
  if (!face)
    return NULL;
  if (n_values)
    *n_values = 2 * GST_HICOMEX_LANDMARK_COUNT;
  return face->landmarks;
}

gint *
gst_hicomex_meta_get_present_aus (const GstHicomexMeta * meta,
    guint face_index, guint * n_present)
{
  const GstHicomexFace *face;
  gint *out;
  guint n = 0;

  if (n_present)
    *n_present = 0;
  g_return_val_if_fail (meta != NULL, NULL);

  face = face_at (meta, face_index);
  if (!face || !face->au_occurrence || !meta->au_ids)
    return NULL;
  for (guint a = 0; a < meta->n_aus; a++)
    if (face->au_occurrence[a])
      n++;
  if (n == 0)
    return NULL;
  out = g_new (gint, n);
  n = 0;
  for (guint a = 0; a < meta->n_aus; a++)
    if (face->au_occurrence[a])
      out[n++] = meta->au_ids[a];
  if (n_present)
    *n_present = n;
  return out;
}
