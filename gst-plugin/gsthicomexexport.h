/* GObject element code in GStreamer's gst-indent layout, as upstream's elements:
 * not clang-formatted. */
/* clang-format off */
/* hicomexexport: writes the results carried by GstHicomexMeta to a file. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_HICOMEX_EXPORT (gst_hicomex_export_get_type ())
G_DECLARE_FINAL_TYPE (GstHicomexExport, gst_hicomex_export, GST, HICOMEX_EXPORT,
    GstBaseTransform)

#define GST_TYPE_HICOMEX_EXPORT_FORMAT (gst_hicomex_export_format_get_type ())
GType gst_hicomex_export_format_get_type (void);

/**
 * GstHicomexExportFormat:
 * @GST_HICOMEX_EXPORT_FORMAT_CSV: OpenFace-compatible CSV
 * @GST_HICOMEX_EXPORT_FORMAT_JSONL: one JSON object per face per frame
 */
typedef enum {
  GST_HICOMEX_EXPORT_FORMAT_CSV,
  GST_HICOMEX_EXPORT_FORMAT_JSONL,
} GstHicomexExportFormat;

GST_ELEMENT_REGISTER_DECLARE (hicomexexport);

G_END_DECLS
