/* GObject element code in GStreamer's gst-indent layout, as upstream's elements:
 * not clang-formatted. */
/* clang-format off */
/**
 * SECTION:element-hicomexoverlay
 * @title: hicomexoverlay
 *
 * Draws what the hicomex analyzer found, as carried by #GstHicomexMeta: face
 * boxes with their track ids, the 68 landmarks, the present action units
 * with their FACS names and intensities, and a compact bar chart of every
 * AU's intensity (height: intensity / 5; green: present) per face. For a
 * model without an intensity head, labels and bars show the occurrence
 * probability instead. Each part has its own switch. Text scales with the
 * frame height and sits on a dark backing, so it reads at any resolution.
 * Works in place on the RGB family, GRAY8, I420 and NV12; buffers without the
 * meta pass through untouched.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! hicomex ! hicomexoverlay ! videoconvert ! autovideosink
 * ]|
 * Draw only the boxes:
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=10 ! hicomexoverlay draw-landmarks=false draw-labels=false draw-bars=false ! fakesink
 * ]|
 */
#include "gsthicomexoverlay.h"

#include <exception>
#include <mutex>

#include "error_mapping.h"
#include "meta/gsthicomexmeta.h"
#include "overlay_painter.h"

GST_DEBUG_CATEGORY_STATIC (gst_hicomex_overlay_debug);
#define GST_CAT_DEFAULT gst_hicomex_overlay_debug

namespace {

/* Settings are read by the streaming thread and written by the application. */
struct OverlayPrivate {
  std::mutex lock;
  hicomex::gst::OverlayOptions options;
};

}  // namespace

struct _GstHicomexOverlay {
  GstVideoFilter parent;
  OverlayPrivate *priv;
};

#define gst_hicomex_overlay_parent_class parent_class
G_DEFINE_TYPE (GstHicomexOverlay, gst_hicomex_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (hicomexoverlay, "hicomexoverlay", GST_RANK_NONE,
    GST_TYPE_HICOMEX_OVERLAY);

enum
{
  PROP_0,
  PROP_DRAW_BOXES,
  PROP_DRAW_LANDMARKS,
  PROP_DRAW_LABELS,
  PROP_DRAW_BARS,
  PROP_MIN_PROBABILITY,
};

#define DEFAULT_DRAW_BOXES TRUE
#define DEFAULT_DRAW_LANDMARKS TRUE
#define DEFAULT_DRAW_LABELS TRUE
#define DEFAULT_DRAW_BARS TRUE
#define DEFAULT_MIN_PROBABILITY 0.0

#define OVERLAY_FORMATS \
  "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, xRGB, xBGR, GRAY8, I420, NV12 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (OVERLAY_FORMATS)));

/* GstVideoFilter's transform_ip: maps the frame and calls transform_frame_ip. */
static GstFlowReturn (*video_filter_transform_ip) (GstBaseTransform * trans,
    GstBuffer * buf) = NULL;

static void gst_hicomex_overlay_finalize (GObject * object);
static void gst_hicomex_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_hicomex_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstFlowReturn gst_hicomex_overlay_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);
static GstFlowReturn gst_hicomex_overlay_transform_frame_ip (GstVideoFilter *
    filter, GstVideoFrame * frame);
static void gst_hicomex_overlay_before_transform (GstBaseTransform * trans,
    GstBuffer * buf);

static void
gst_hicomex_overlay_class_init (GstHicomexOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags flags = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE);

  gobject_class->finalize = gst_hicomex_overlay_finalize;
  gobject_class->set_property = gst_hicomex_overlay_set_property;
  gobject_class->get_property = gst_hicomex_overlay_get_property;

  /**
   * GstHicomexOverlay:draw-boxes:
   *
   * Draw each face's box with its track id inside it. Default: TRUE.
   */
  g_object_class_install_property (gobject_class, PROP_DRAW_BOXES,
      g_param_spec_boolean ("draw-boxes", "Draw boxes",
          "Draw each face's box with its track id inside it",
          DEFAULT_DRAW_BOXES, flags));
  /**
   * GstHicomexOverlay:draw-landmarks:
   *
   * Draw the 68 facial landmarks of faces with valid results. Default: TRUE.
   */
  g_object_class_install_property (gobject_class, PROP_DRAW_LANDMARKS,
      g_param_spec_boolean ("draw-landmarks", "Draw landmarks",
          "Draw the 68 facial landmarks", DEFAULT_DRAW_LANDMARKS, flags));
  /**
   * GstHicomexOverlay:draw-labels:
   *
   * List the present action units beside each face with FACS name and
   * intensity on the 0-5 scale ("AU12 Lip Corner Puller 2.3/5"), or the
   * probability ("... 0.91") for a model without intensity. Default: TRUE.
   */
  g_object_class_install_property (gobject_class, PROP_DRAW_LABELS,
      g_param_spec_boolean ("draw-labels", "Draw labels",
          "List the present action units with FACS name and intensity "
          "(probability for a model without intensity)",
          DEFAULT_DRAW_LABELS, flags));
  /**
   * GstHicomexOverlay:draw-bars:
   *
   * Draw a bar chart of every action unit under each face: bar height is
   * the intensity / 5, or the probability for a model without intensity
   * (green: present, grey: not). Default: TRUE.
   */
  g_object_class_install_property (gobject_class, PROP_DRAW_BARS,
      g_param_spec_boolean ("draw-bars", "Draw bars",
          "Draw a bar chart of every action unit's intensity (probability for "
          "a model without intensity) per face",
          DEFAULT_DRAW_BARS, flags));
  /**
   * GstHicomexOverlay:min-probability:
   *
   * Occurring action units with a lower probability are left out of the
   * labels (the bar chart shows all). Default: 0 (list every occurring AU).
   */
  g_object_class_install_property (gobject_class, PROP_MIN_PROBABILITY,
      g_param_spec_double ("min-probability", "Minimum probability",
          "Occurring action units below this probability are not labelled",
          0.0, 1.0, DEFAULT_MIN_PROBABILITY, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "HiCOMEX overlay", "Filter/Effect/Video",
      "Draws face boxes, landmarks and facial action units from hicomex metadata",
      "HiCOMEX-for-GStreamer");

  /* Keep GstVideoFilter's mapping, but skip it for buffers with nothing to draw. */
  video_filter_transform_ip = trans_class->transform_ip;
  trans_class->transform_ip = gst_hicomex_overlay_transform_ip;
  filter_class->transform_frame_ip = gst_hicomex_overlay_transform_frame_ip;
  trans_class->before_transform = gst_hicomex_overlay_before_transform;

  GST_DEBUG_CATEGORY_INIT (gst_hicomex_overlay_debug, "hicomexoverlay", 0,
      "HiCOMEX overlay");
}

static void
gst_hicomex_overlay_init (GstHicomexOverlay * self)
{
  self->priv = new OverlayPrivate ();
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_hicomex_overlay_finalize (GObject * object)
{
  GstHicomexOverlay *self = GST_HICOMEX_OVERLAY (object);

  delete self->priv;
  self->priv = NULL;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hicomex_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHicomexOverlay *self = GST_HICOMEX_OVERLAY (object);
  std::lock_guard<std::mutex> lock (self->priv->lock);
  hicomex::gst::OverlayOptions & o = self->priv->options;

  switch (prop_id) {
    case PROP_DRAW_BOXES:
      o.draw_boxes = g_value_get_boolean (value);
      break;
    case PROP_DRAW_LANDMARKS:
      o.draw_landmarks = g_value_get_boolean (value);
      break;
    case PROP_DRAW_LABELS:
      o.draw_labels = g_value_get_boolean (value);
      break;
    case PROP_DRAW_BARS:
      o.draw_bars = g_value_get_boolean (value);
      break;
    case PROP_MIN_PROBABILITY:
      o.min_probability = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hicomex_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHicomexOverlay *self = GST_HICOMEX_OVERLAY (object);
  std::lock_guard<std::mutex> lock (self->priv->lock);
  const hicomex::gst::OverlayOptions & o = self->priv->options;

  switch (prop_id) {
    case PROP_DRAW_BOXES:
      g_value_set_boolean (value, o.draw_boxes);
      break;
    case PROP_DRAW_LANDMARKS:
      g_value_set_boolean (value, o.draw_landmarks);
      break;
    case PROP_DRAW_LABELS:
      g_value_set_boolean (value, o.draw_labels);
      break;
    case PROP_DRAW_BARS:
      g_value_set_boolean (value, o.draw_bars);
      break;
    case PROP_MIN_PROBABILITY:
      g_value_set_double (value, o.min_probability);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static GstFlowReturn
gst_hicomex_overlay_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstHicomexMeta *meta = gst_buffer_get_hicomex_meta (buf);

  if (!meta || meta->n_faces == 0) {
    GST_LOG_OBJECT (trans, "no faces, nothing to draw");
    return GST_FLOW_OK;
  }
  return video_filter_transform_ip (trans, buf);
}

static GstFlowReturn
gst_hicomex_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstHicomexOverlay *self = GST_HICOMEX_OVERLAY (filter);
  GstHicomexMeta *meta = gst_buffer_get_hicomex_meta (frame->buffer);
  hicomex::gst::OverlayOptions options;

  if (!meta)
    return GST_FLOW_OK;
  {
    std::lock_guard<std::mutex> lock (self->priv->lock);
    options = self->priv->options;
  }
  try {
    hicomex::gst::draw_overlay (frame, *meta, options);
  } catch (const std::exception &e) {
    HICOMEX_POST_ERROR (self, GST_MESSAGE_ERROR, e,
        hicomex::gst::ErrorStage::Frame, "Could not draw the overlay.");
    return GST_FLOW_ERROR;
  }
  GST_LOG_OBJECT (self, "drew %u faces", meta->n_faces);
  return GST_FLOW_OK;
}

/* The properties are controllable: bring them to this buffer's stream time
 * (a GstController bound to, say, bar-height animates it), as upstream's
 * video filters do before each frame. */
static void
gst_hicomex_overlay_before_transform (GstBaseTransform * trans, GstBuffer * buf)
{
  const GstClockTime stream_time = gst_segment_to_stream_time (&trans->segment,
      GST_FORMAT_TIME, GST_BUFFER_TIMESTAMP (buf));
  if (GST_CLOCK_TIME_IS_VALID (stream_time))
    gst_object_sync_values (GST_OBJECT (trans), stream_time);
}
