/* GObject element code in GStreamer's gst-indent layout, as upstream's elements:
 * not clang-formatted. */
/* clang-format off */
/* hicomexoverlay: draws the results carried by GstHicomexMeta. */
#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_HICOMEX_OVERLAY (gst_hicomex_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstHicomexOverlay, gst_hicomex_overlay, GST, HICOMEX_OVERLAY,
    GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (hicomexoverlay);

G_END_DECLS
