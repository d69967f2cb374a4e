#include "rgb_converter.h"

namespace hicomex::gst {

bool RgbConverter::configure(const GstVideoInfo& in) {
  reset();
  if (!GST_VIDEO_INFO_IS_YUV(&in) || GST_VIDEO_INFO_FORMAT(&in) == GST_VIDEO_FORMAT_GRAY8) return true;
  gst_video_info_set_format(&rgb_info_, GST_VIDEO_FORMAT_RGB, in.width, in.height);
  // The converter only changes colour: everything else must match.
  rgb_info_.fps_n = in.fps_n;
  rgb_info_.fps_d = in.fps_d;
  rgb_info_.par_n = in.par_n;
  rgb_info_.par_d = in.par_d;
  rgb_info_.interlace_mode = in.interlace_mode;
  // videoconvert's defaults (GStreamer 1.22), one thread.
  GstStructure* config = gst_structure_new(
      "GstVideoConverter", GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_BAYER,
      GST_VIDEO_CONVERTER_OPT_DITHER_QUANTIZATION, G_TYPE_UINT, 1, GST_VIDEO_CONVERTER_OPT_CHROMA_RESAMPLER_METHOD,
      GST_TYPE_VIDEO_RESAMPLER_METHOD, GST_VIDEO_RESAMPLER_METHOD_LINEAR, GST_VIDEO_CONVERTER_OPT_ALPHA_MODE,
      GST_TYPE_VIDEO_ALPHA_MODE, GST_VIDEO_ALPHA_MODE_COPY, GST_VIDEO_CONVERTER_OPT_CHROMA_MODE,
      GST_TYPE_VIDEO_CHROMA_MODE, GST_VIDEO_CHROMA_MODE_FULL, GST_VIDEO_CONVERTER_OPT_MATRIX_MODE,
      GST_TYPE_VIDEO_MATRIX_MODE, GST_VIDEO_MATRIX_MODE_FULL, GST_VIDEO_CONVERTER_OPT_GAMMA_MODE,
      GST_TYPE_VIDEO_GAMMA_MODE, GST_VIDEO_GAMMA_MODE_NONE, GST_VIDEO_CONVERTER_OPT_PRIMARIES_MODE,
      GST_TYPE_VIDEO_PRIMARIES_MODE, GST_VIDEO_PRIMARIES_MODE_NONE, GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, 1,
      NULL);
  // Takes `config`.
  converter_ = gst_video_converter_new(&in, &rgb_info_, config);
  return converter_ != nullptr;
}

void RgbConverter::reset() {
  if (converter_) gst_video_converter_free(converter_);
  converter_ = nullptr;
}

bool RgbConverter::convert(GstVideoFrame* frame) {
  // The analyzer reads the RGB copy; the frame's map holds its reference
  // while the original buffer goes downstream.
  GstBuffer* rgb = gst_buffer_new_allocate(NULL, rgb_info_.size, NULL);
  GstVideoFrame out;
  const bool mapped = gst_video_frame_map(&out, &rgb_info_, rgb, GST_MAP_READWRITE);
  if (mapped) gst_video_converter_frame(converter_, frame, &out);
  gst_video_frame_unmap(frame);
  gst_buffer_unref(rgb);
  if (mapped) *frame = out;
  return mapped;
}

}  // namespace hicomex::gst
