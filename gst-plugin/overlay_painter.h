// Draws GstHicomexMeta content onto a mapped video frame with OpenCV, on
// every plane of the format (RGB family, GRAY8, I420, NV12), so YUV frames get
// the same picture as RGB ones.
#pragma once
#include <gst/video/video.h>

#include "meta/gsthicomexmeta.h"

namespace hicomex::gst {

struct OverlayOptions {
  bool draw_boxes = true;      ///< face boxes with the track id inside the box
  bool draw_landmarks = true;  ///< the 68 points
  bool draw_labels = true;     ///< active AUs: "AU12 Lip Corner Puller 0.91"
  bool draw_bars = true;       ///< per-face bar chart of all AU probabilities
  /// Labels list occurring AUs whose probability is at least this.
  double min_probability = 0.0;
};

/// True for the formats draw_overlay() handles.
bool overlay_supports(GstVideoFormat format);

/// Draws the faces of `meta` onto `frame` (mapped for writing). Everything a
/// box draws stays inside that box; labels and bars are placed beside it.
void draw_overlay(GstVideoFrame* frame, const GstHicomexMeta& meta,
                  const OverlayOptions& options);

}  // namespace hicomex::gst
