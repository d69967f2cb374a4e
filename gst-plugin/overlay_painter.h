// Draws GstHicomexMeta content onto a mapped video frame with OpenCV, on
// every plane of the format (RGB family, GRAY8, I420, NV12), so YUV frames get
// the same picture as RGB ones.
#pragma once
#include <initializer_list>
#include <vector>

#include <gst/video/video.h>

#include "meta/gsthicomexmeta.h"

namespace hicomex::gst {

struct OverlayOptions {
  bool draw_boxes = true;      ///< face boxes with the track id inside the box
  bool draw_landmarks = true;  ///< the 68 points
  bool draw_labels = true;     ///< present AUs: "AU12 Lip Corner Puller 2.3/5" (intensity),
                               ///< or "... 0.91" (probability) for a model without intensity
  bool draw_bars = true;       ///< per-face bar chart of all AUs: intensity / 5 (else probability)
  /// Labels list occurring AUs whose probability is at least this.
  double min_probability = 0.0;
};

/// A rectangle in frame pixels (the glue's own, to keep OpenCV out of this header).
struct PixelRect {
  int x = 0, y = 0, width = 0, height = 0;
  bool intersects(const PixelRect& o) const {
    return x < o.x + o.width && o.x < x + width && y < o.y + o.height && o.y < y + height;
  }
};

/// Where a width x height block of labels goes near `box` in a frame_width x
/// frame_height frame: the first side in `order` that has room (by default
/// right of the box, else left, below, above), each moved down past anything in
/// `taken` (other faces' boxes, labels and charts placed before) so labels and
/// charts never cover a face or each other.
/// Returns false, leaving `out` untouched, when there is no room.
enum class Side { kRight, kLeft, kBelow, kAbove };
bool place_beside(const PixelRect& box, int width, int height, int frame_width, int frame_height,
                  const std::vector<PixelRect>& taken, int gap, PixelRect& out,
                  std::initializer_list<Side> order = {Side::kRight, Side::kLeft, Side::kBelow, Side::kAbove});

/// Draws the faces of `meta` onto `frame` (mapped for writing). Everything a
/// box draws stays inside that box; labels and bars are placed beside it.
void draw_overlay(GstVideoFrame* frame, const GstHicomexMeta& meta, const OverlayOptions& options);

}  // namespace hicomex::gst
