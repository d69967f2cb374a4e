/* GObject element code in GStreamer's gst-indent layout, as upstream's elements:
 * not clang-formatted. */
/* clang-format off */
/* hicomex: finds faces, tracks their landmarks and detects action units. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_HICOMEX (gst_hicomex_get_type ())
G_DECLARE_FINAL_TYPE (GstHicomex, gst_hicomex, GST, HICOMEX, GstBaseTransform)

#define GST_TYPE_HICOMEX_DETECTOR (gst_hicomex_detector_get_type ())
GType gst_hicomex_detector_get_type (void);

/**
 * GstHicomexDetector:
 * @GST_HICOMEX_DETECTOR_BLAZEFACE: BlazeFace, short range (faces near the camera)
 * @GST_HICOMEX_DETECTOR_BLAZEFACE_BACK: BlazeFace, full range (smaller, farther faces)
 * @GST_HICOMEX_DETECTOR_HAAR: OpenCV Haar cascade (frontal faces)
 * @GST_HICOMEX_DETECTOR_LBP: OpenCV LBP cascade (frontal faces, faster)
 */
typedef enum {
  GST_HICOMEX_DETECTOR_BLAZEFACE,
  GST_HICOMEX_DETECTOR_BLAZEFACE_BACK,
  GST_HICOMEX_DETECTOR_HAAR,
  GST_HICOMEX_DETECTOR_LBP,
} GstHicomexDetector;

GST_ELEMENT_REGISTER_DECLARE (hicomex);

G_END_DECLS
