// The frames the hicomex element has handed to the analyzer and not yet
// pushed: each keeps its buffer and the mapping the analyzer reads from until
// its results are back. Also how a buffer becomes the analyzer's ImageView.
#pragma once
#include <gst/video/video.h>

#include <cstddef>
#include <deque>
#include <mutex>

#include "hicomex/image.h"

namespace hicomex::gst {

class RgbConverter;

/// One frame in the analyzer: its buffer (owned), the mapping the analyzer
/// reads (of the buffer, or of its RGB copy), and what the results need.
struct InFlightFrame {
  GstBuffer* buf = nullptr;
  GstVideoFrame frame;
  guint64 number = 0;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
};

/// Unmaps `f.frame` and drops `f.buf` (a frame that is not pushed).
void release(InFlightFrame& f);

/// Frames in flight, oldest first, under a lock of their own: the streaming
/// thread pushes and pops, stop() and flushes clear from other threads.
class InFlightQueue {
 public:
  InFlightQueue() = default;
  ~InFlightQueue() { clear(); }
  InFlightQueue(const InFlightQueue&) = delete;
  InFlightQueue& operator=(const InFlightQueue&) = delete;

  void push(const InFlightFrame& f);
  /// Takes the oldest frame into `*f`; false when there is none.
  bool pop(InFlightFrame* f);
  bool empty() const;
  std::size_t size() const;
  /// Releases every frame (their buffers are not pushed).
  void clear();

 private:
  mutable std::mutex lock_;
  std::deque<InFlightFrame> frames_;
};

/// The analyzer's view of a mapped frame; false for a format it cannot read.
bool image_view_of(const GstVideoFrame* frame, ImageView* view);

/// Why map_for_analysis() failed.
enum class MapResult {
  Ok,
  MapFailed,      ///< the buffer could not be mapped for reading
  ConvertFailed,  ///< the RGB copy could not be mapped
  Unsupported,    ///< a format the analyzer cannot read
};

/// Maps `buf` (of `info`) for the analyzer into `f->frame`, through
/// `converter` when it is active, and fills `*view`. On failure nothing stays
/// mapped; `buf` is never released here.
MapResult map_for_analysis(GstBuffer* buf, const GstVideoInfo* info, RgbConverter& converter, InFlightFrame* f,
                           ImageView* view);

}  // namespace hicomex::gst
