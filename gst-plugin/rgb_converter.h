// The hicomex element's colour path: YUV input goes through GStreamer's own
// converter, set up as videoconvert sets it up, so a frame gives the same faces
// and AUs whether it arrives as I420/NV12 or already converted to RGB by
// videoconvert: one colour path. RGB-family and GRAY8 input is read as it is.
#pragma once
#include <gst/video/video.h>

namespace hicomex::gst {

/// Converts YUV frames to RGB for the analyzer. Not thread-safe: one owner
/// (the element's streaming thread, and stop()).
class RgbConverter {
 public:
  RgbConverter() = default;
  ~RgbConverter() { reset(); }
  RgbConverter(const RgbConverter&) = delete;
  RgbConverter& operator=(const RgbConverter&) = delete;

  /// Sets up for frames of `in`: a converter for YUV formats (GRAY8 aside),
  /// none for the others. False when GStreamer has no converter for `in`.
  bool configure(const GstVideoInfo& in);
  /// Drops the converter (frames pass as they are until configure()).
  void reset();
  /// Whether frames are converted (configure() set up a converter).
  bool active() const { return converter_ != nullptr; }
  /// The converted frames' info (valid while active()).
  const GstVideoInfo& rgb_info() const { return rgb_info_; }
  /// Replaces the mapped `frame` with a mapped RGB copy (its map holds the
  /// copy's reference; `frame`'s own mapping is released). False, with
  /// `frame` unmapped, when the RGB frame could not be mapped.
  bool convert(GstVideoFrame* frame);

 private:
  GstVideoConverter* converter_ = nullptr;
  GstVideoInfo rgb_info_{};
};

}  // namespace hicomex::gst
