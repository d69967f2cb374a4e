#include "in_flight_frames.h"

#include <cstdint>

#include "rgb_converter.h"

namespace hicomex::gst {

void release(InFlightFrame& f) {
  gst_video_frame_unmap(&f.frame);
  gst_buffer_unref(f.buf);
  f.buf = nullptr;
}

void InFlightQueue::push(const InFlightFrame& f) {
  std::lock_guard<std::mutex> lock(lock_);
  frames_.push_back(f);
}

bool InFlightQueue::pop(InFlightFrame* f) {
  std::lock_guard<std::mutex> lock(lock_);
  if (frames_.empty()) return false;
  *f = frames_.front();
  frames_.pop_front();
  return true;
}

bool InFlightQueue::empty() const {
  std::lock_guard<std::mutex> lock(lock_);
  return frames_.empty();
}

std::size_t InFlightQueue::size() const {
  std::lock_guard<std::mutex> lock(lock_);
  return frames_.size();
}

void InFlightQueue::clear() {
  std::lock_guard<std::mutex> lock(lock_);
  for (auto& f : frames_) release(f);
  frames_.clear();
}

bool image_view_of(const GstVideoFrame* frame, ImageView* view) {
  switch (GST_VIDEO_FRAME_FORMAT(frame)) {
    case GST_VIDEO_FORMAT_RGB: view->format = PixelFormat::RGB; break;
    case GST_VIDEO_FORMAT_BGR: view->format = PixelFormat::BGR; break;
    case GST_VIDEO_FORMAT_RGBA: view->format = PixelFormat::RGBA; break;
    case GST_VIDEO_FORMAT_BGRA: view->format = PixelFormat::BGRA; break;
    case GST_VIDEO_FORMAT_RGBx: view->format = PixelFormat::RGBx; break;
    case GST_VIDEO_FORMAT_BGRx: view->format = PixelFormat::BGRx; break;
    case GST_VIDEO_FORMAT_xRGB: view->format = PixelFormat::xRGB; break;
    case GST_VIDEO_FORMAT_xBGR: view->format = PixelFormat::xBGR; break;
    case GST_VIDEO_FORMAT_GRAY8: view->format = PixelFormat::GRAY8; break;
    case GST_VIDEO_FORMAT_I420: view->format = PixelFormat::I420; break;
    case GST_VIDEO_FORMAT_NV12: view->format = PixelFormat::NV12; break;
    default: return false;
  }
  view->width = GST_VIDEO_FRAME_WIDTH(frame);
  view->height = GST_VIDEO_FRAME_HEIGHT(frame);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(frame) && p < 3; ++p) {
    view->data[p] = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, p));
    view->stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
  }
  return true;
}

MapResult map_for_analysis(GstBuffer* buf, const GstVideoInfo* info, RgbConverter& converter, InFlightFrame* f,
                           ImageView* view) {
  if (!gst_video_frame_map(&f->frame, info, buf, GST_MAP_READ)) return MapResult::MapFailed;
  if (converter.active() && !converter.convert(&f->frame)) return MapResult::ConvertFailed;
  if (!image_view_of(&f->frame, view)) {
    gst_video_frame_unmap(&f->frame);
    return MapResult::Unsupported;
  }
  return MapResult::Ok;
}

}  // namespace hicomex::gst
