/**
 * SECTION:element-hicomex
 * @title: hicomex
 *
 * Finds faces in raw video, tracks 68 facial landmarks per face and runs the
 * HiCOMEX action unit network on each face. The video passes through
 * untouched; every frame gets a #GstHicomexMeta (also when no face was found)
 * and one #GstVideoRegionOfInterestMeta of type "face" per face, whose
 * "hicomex/au" parameter holds the AU probabilities and occurrences. With
 * #GstHicomex:post-messages the same results go to the bus as a "hicomex"
 * element message per frame.
 *
 * The model is loaded when the element starts (READY->PAUSED); a missing or
 * broken model fails that state change with a RESOURCE error naming the
 * file. Thresholds, intervals, smoothing and face limits may change while
 * PLAYING and apply at the next frame; model, device, detector and threads
 * apply at the next start.
 *
 * Processing is synchronous and in place, so the element adds no latency. It
 * honours QoS (#GstBaseTransform:qos, on by default) without dropping frames:
 * a frame that is already late skips the AU network (faces keep their last
 * AU values) and is counted in #GstHicomex:skipped-inferences.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=face.jpg ! jpegdec ! videoconvert ! imagefreeze num-buffers=10 ! hicomex ! hicomexoverlay ! videoconvert ! jpegenc ! multifilesink location=out-%02d.jpg
 * ]|
 */
#include "gsthicomex.h"

#include <gst/video/video.h>

#include <atomic>
#include <climits>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "analyzer_settings.h"
#include "hicomex/face_analyzer.h"
#include "hicomex_meta_utils.h"

GST_DEBUG_CATEGORY_STATIC (gst_hicomex_debug);
#define GST_CAT_DEFAULT gst_hicomex_debug

namespace {

/* Settings: written by the application, copied by the streaming thread when
 * `changed` says so. State: built in start(), used by the streaming thread,
 * dropped in stop(). The QoS deadline is written by the src pad's event
 * handler (any thread) under the object lock. */
struct HicomexPrivate {
  std::mutex lock;
  hicomex::gst::AnalyzerSettings settings;
  bool changed = false;

  std::unique_ptr<hicomex::FaceAnalyzer> analyzer;
  hicomex::gst::AnalyzerSettings applied;
  GstVideoInfo info;
  bool have_info = false;
  guint64 frames = 0;
  gint64 last_timestamp = 0;

  GstClockTime earliest_time = GST_CLOCK_TIME_NONE;
  std::atomic<guint64> skipped_inferences{0};
};

}  // namespace

struct _GstHicomex {
  GstBaseTransform parent;
  HicomexPrivate *priv;
};

#define gst_hicomex_parent_class parent_class
G_DEFINE_TYPE (GstHicomex, gst_hicomex, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (hicomex, "hicomex", GST_RANK_NONE,
    GST_TYPE_HICOMEX);

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_PRECISION,
  PROP_BATCH_TIMEOUT,
  PROP_THREADS,
  PROP_DETECTOR,
  PROP_DETECTION_INTERVAL,
  PROP_INFERENCE_INTERVAL,
  PROP_MAX_FACES,
  PROP_MIN_FACE_SIZE,
  PROP_THRESHOLD,
  PROP_LANDMARK_SMOOTHING,
  PROP_AU_SMOOTHING,
  PROP_POST_MESSAGES,
  PROP_SKIPPED_INFERENCES,
};

#define DEFAULT_MODEL NULL
#define DEFAULT_DEVICE "auto"
#define DEFAULT_PRECISION "fp32"
#define DEFAULT_THREADS 0
#define DEFAULT_DETECTOR GST_HICOMEX_DETECTOR_BLAZEFACE
#define DEFAULT_DETECTION_INTERVAL 5
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_MAX_FACES 0
#define DEFAULT_MIN_FACE_SIZE 0
#define DEFAULT_THRESHOLD NULL
#define DEFAULT_LANDMARK_SMOOTHING 0.0
#define DEFAULT_AU_SMOOTHING 0.0
#define DEFAULT_POST_MESSAGES FALSE

#define HICOMEX_FORMATS \
  "{ RGB, BGR, RGBA, BGRA, RGBx, BGRx, xRGB, xBGR, GRAY8, I420, NV12 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (HICOMEX_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (HICOMEX_FORMATS)));

/* Nicks are the core's detector names (hicomex::face_detector_names()). */
static const GEnumValue detector_values[] = {
  {GST_HICOMEX_DETECTOR_BLAZEFACE, "BlazeFace, short range (faces near the camera)",
      "blazeface"},
  {GST_HICOMEX_DETECTOR_BLAZEFACE_BACK,
      "BlazeFace, full range (smaller, farther faces)", "blazeface-back"},
  {GST_HICOMEX_DETECTOR_HAAR, "OpenCV Haar cascade (frontal faces)", "haar"},
  {GST_HICOMEX_DETECTOR_LBP, "OpenCV LBP cascade (frontal faces, faster)",
      "lbp"},
  {0, NULL, NULL},
};

GType
gst_hicomex_detector_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHicomexDetector", detector_values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GstHicomexDetector
detector_from_name (const std::string & name)
{
  for (const GEnumValue * v = detector_values; v->value_nick; ++v)
    if (name == v->value_nick)
      return (GstHicomexDetector) v->value;
  return DEFAULT_DETECTOR;
}

static void gst_hicomex_finalize (GObject * object);
static void gst_hicomex_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_hicomex_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_hicomex_start (GstBaseTransform * trans);
static gboolean gst_hicomex_stop (GstBaseTransform * trans);
static gboolean gst_hicomex_set_caps (GstBaseTransform * trans,
    GstCaps * incaps, GstCaps * outcaps);
static gboolean gst_hicomex_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_hicomex_src_event (GstBaseTransform * trans,
    GstEvent * event);
static GstFlowReturn gst_hicomex_prepare_output_buffer (GstBaseTransform *
    trans, GstBuffer * input, GstBuffer ** outbuf);
static GstFlowReturn gst_hicomex_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);

static void
gst_hicomex_class_init (GstHicomexClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  /* A change needs a new model: it applies at the next start. */
  const GParamFlags ready = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  /* Applied at the next frame. */
  const GParamFlags playing = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->finalize = gst_hicomex_finalize;
  gobject_class->set_property = gst_hicomex_set_property;
  gobject_class->get_property = gst_hicomex_get_property;

  /**
   * GstHicomex:model:
   *
   * HiCOMEX weights file (safetensors). Default: NULL, the installed default
   * model ($HICOMEX_MODEL, else DATADIR/hicomex/models/hicomex-default.safetensors).
   */
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "HiCOMEX weights file (.safetensors); default NULL: the installed "
          "default model or $HICOMEX_MODEL (READY or below to change)",
          DEFAULT_MODEL, ready));
  /**
   * GstHicomex:device:
   *
   * Where the landmark and AU networks run: "auto" (CUDA when available),
   * "cpu", "cuda" or "cuda:N". The detector always runs on the CPU.
   * Default: "auto".
   */
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "Where the networks run: auto, cpu, cuda or cuda:N; default \"auto\" "
          "(READY or below to change)", DEFAULT_DEVICE, ready));
  /**
   * GstHicomex:precision:
   *
   * Arithmetic of the AU network's convolutions and matrix products:
   * "fp32", "bf16" (CPU with AVX512-BF16, about 1.5x faster there; or CUDA)
   * or "fp16" (CUDA only). Mixed precision: sensitive parts and every output
   * stay fp32. Default: "fp32".
   */
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_string ("precision", "Precision",
          "AU network arithmetic: fp32, bf16 (CPU with AVX512-BF16, or CUDA) or "
          "fp16 (CUDA); default \"fp32\" (READY or below to change)",
          DEFAULT_PRECISION, ready));
  /**
   * GstHicomex:batch-timeout:
   *
   * Cross-stream batching, in microseconds. hicomex elements of one process
   * that use the same model, device and precision (and the same batch-timeout)
   * share one network; with batch-timeout > 0 each waits up to this long for
   * the other streams' faces so the network runs them as one batch (higher
   * throughput, on a GPU above all). A batch starts as soon as every such
   * stream has submitted, so streams in step add no delay. Default: 0 (off).
   */
  g_object_class_install_property (gobject_class, PROP_BATCH_TIMEOUT,
      g_param_spec_uint ("batch-timeout", "Batch timeout",
          "Cross-stream batching: microseconds to wait for the faces of other "
          "streams sharing the model; default 0: off (READY or below to change)",
          0, 1000000, 0, ready));
  /**
   * GstHicomex:threads:
   *
   * LibTorch CPU threads; a process-wide setting. Default: 0 (all cores).
   */
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "LibTorch CPU threads (process-wide); default 0: all cores "
          "(READY or below to change)", 0, 1024, DEFAULT_THREADS, ready));
  /**
   * GstHicomex:detector:
   *
   * Face detector. Default: blazeface.
   */
  g_object_class_install_property (gobject_class, PROP_DETECTOR,
      g_param_spec_enum ("detector", "Detector",
          "Face detector; default blazeface (READY or below to change)",
          GST_TYPE_HICOMEX_DETECTOR, DEFAULT_DETECTOR, ready));
  /**
   * GstHicomex:detection-interval:
   *
   * Run the face detector every N frames; in between, faces are followed by
   * their landmarks (a lost face triggers detection earlier). Default: 5.
   */
  g_object_class_install_property (gobject_class, PROP_DETECTION_INTERVAL,
      g_param_spec_uint ("detection-interval", "Detection interval",
          "Run the face detector every N frames, follow faces by their "
          "landmarks in between; default 5", 1, G_MAXINT,
          DEFAULT_DETECTION_INTERVAL, playing));
  /**
   * GstHicomex:inference-interval:
   *
   * Run the AU network every N frames; in between each face keeps its last
   * AU values (a new face gets them on its first frame). Default: 1.
   */
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Run the AU network every N frames, faces keep their last AUs in "
          "between; default 1", 1, G_MAXINT, DEFAULT_INFERENCE_INTERVAL,
          playing));
  /**
   * GstHicomex:max-faces:
   *
   * Analyse at most this many faces per frame, the largest first.
   * Default: 0 (no limit).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FACES,
      g_param_spec_uint ("max-faces", "Maximum faces",
          "Analyse at most this many faces, largest first; default 0: no limit",
          0, G_MAXINT, DEFAULT_MAX_FACES, playing));
  /**
   * GstHicomex:min-face-size:
   *
   * Ignore faces whose box is smaller than this (larger side, pixels).
   * Default: 0 (keep all).
   */
  g_object_class_install_property (gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_uint ("min-face-size", "Minimum face size",
          "Ignore faces smaller than this (larger box side, pixels); default 0",
          0, G_MAXINT, DEFAULT_MIN_FACE_SIZE, playing));
  /**
   * GstHicomex:threshold:
   *
   * AU decision thresholds overriding the model's: NULL or "" keeps the
   * model's, "0.4" sets every AU, "AU12=0.3,AU4=0.6" sets those AUs (the
   * others keep the model's). A text the model cannot use fails the start,
   * or, while playing, is reported as a warning and ignored. Default: NULL.
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_string ("threshold", "Threshold",
          "AU occurrence thresholds: \"0.4\" for every AU, \"AU12=0.3,AU4=0.6\" "
          "per AU; default NULL: the model's", DEFAULT_THRESHOLD, playing));
  /**
   * GstHicomex:landmark-smoothing:
   *
   * Landmark smoothing: the One Euro filter's minimum cutoff frequency in Hz;
   * lower is smoother (1-3 is smooth but responsive). Default: 0 (raw).
   */
  g_object_class_install_property (gobject_class, PROP_LANDMARK_SMOOTHING,
      g_param_spec_double ("landmark-smoothing", "Landmark smoothing",
          "One Euro filter minimum cutoff for the landmarks in Hz (lower is "
          "smoother, 1-3 typical); default 0: off", 0.0, 1000.0,
          DEFAULT_LANDMARK_SMOOTHING, playing));
  /**
   * GstHicomex:au-smoothing:
   *
   * AU probability smoothing: weight of the past in an exponential moving
   * average per face (0.5 halves a jump per frame). Default: 0 (raw).
   */
  g_object_class_install_property (gobject_class, PROP_AU_SMOOTHING,
      g_param_spec_double ("au-smoothing", "AU smoothing",
          "Weight of the past in the per-face moving average of AU "
          "probabilities; default 0: off", 0.0, 0.99, DEFAULT_AU_SMOOTHING,
          playing));
  /**
   * GstHicomex:post-messages:
   *
   * Post a "hicomex" element message with the results of every frame.
   * Default: FALSE.
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"hicomex\" element message with each frame's results; "
          "default false", DEFAULT_POST_MESSAGES, playing));
  /**
   * GstHicomex:skipped-inferences:
   *
   * Frames since the start whose AU inference was skipped because they were
   * late (QoS); they kept the faces' previous AU values.
   */
  g_object_class_install_property (gobject_class, PROP_SKIPPED_INFERENCES,
      g_param_spec_uint64 ("skipped-inferences", "Skipped inferences",
          "Late frames (QoS) that reused the last AU values instead of running "
          "the AU network, since the start", 0, G_MAXUINT64, 0,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "HiCOMEX facial action unit analyzer", "Analyzer/Video",
      "Finds faces, tracks 68 landmarks and detects facial action units; "
      "attaches the results as metadata",
      "HiCOMEX-for-GStreamer");

  trans_class->passthrough_on_same_caps = TRUE;
  /* Passthrough, but every buffer must still reach transform_ip. */
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->start = gst_hicomex_start;
  trans_class->stop = gst_hicomex_stop;
  trans_class->set_caps = gst_hicomex_set_caps;
  trans_class->sink_event = gst_hicomex_sink_event;
  trans_class->src_event = gst_hicomex_src_event;
  trans_class->prepare_output_buffer = gst_hicomex_prepare_output_buffer;
  trans_class->transform_ip = gst_hicomex_transform_ip;

  gst_type_mark_as_plugin_api (GST_TYPE_HICOMEX_DETECTOR,
      (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_hicomex_debug, "hicomex", 0,
      "HiCOMEX facial action unit analyzer");
}

static void
gst_hicomex_init (GstHicomex * self)
{
  self->priv = new HicomexPrivate ();
  gst_video_info_init (&self->priv->info);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  /* QoS on: late frames skip the AU network (see src_event). */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_hicomex_finalize (GObject * object)
{
  GstHicomex *self = GST_HICOMEX (object);

  delete self->priv;
  self->priv = NULL;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hicomex_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHicomex *self = GST_HICOMEX (object);
  std::lock_guard<std::mutex> lock (self->priv->lock);
  hicomex::gst::AnalyzerSettings & s = self->priv->settings;
  auto string_of = [value] () {
    const gchar *v = g_value_get_string (value);
    return std::string (v ? v : "");
  };

  switch (prop_id) {
    case PROP_MODEL:
      s.model = string_of ();
      break;
    case PROP_DEVICE:
      s.device = string_of ();
      if (s.device.empty ())
        s.device = DEFAULT_DEVICE;
      break;
    case PROP_PRECISION:
      s.precision = string_of ();
      if (s.precision.empty ())
        s.precision = DEFAULT_PRECISION;
      break;
    case PROP_BATCH_TIMEOUT:
      s.batch_timeout_us = (int) g_value_get_uint (value);
      break;
    case PROP_THREADS:
      s.threads = (int) g_value_get_uint (value);
      break;
    case PROP_DETECTOR:
      s.detector = detector_values[g_value_get_enum (value)].value_nick;
      break;
    case PROP_DETECTION_INTERVAL:
      s.detection_interval = (int) g_value_get_uint (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      s.inference_interval = (int) g_value_get_uint (value);
      break;
    case PROP_MAX_FACES:
      s.max_faces = (int) g_value_get_uint (value);
      break;
    case PROP_MIN_FACE_SIZE:
      s.min_face_size = (int) g_value_get_uint (value);
      break;
    case PROP_THRESHOLD:
      s.threshold = string_of ();
      break;
    case PROP_LANDMARK_SMOOTHING:
      s.landmark_smoothing = g_value_get_double (value);
      break;
    case PROP_AU_SMOOTHING:
      s.au_smoothing = g_value_get_double (value);
      break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
  }
  self->priv->changed = true;
}

static void
gst_hicomex_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHicomex *self = GST_HICOMEX (object);

  if (prop_id == PROP_SKIPPED_INFERENCES) {
    g_value_set_uint64 (value, self->priv->skipped_inferences.load ());
    return;
  }
  std::lock_guard<std::mutex> lock (self->priv->lock);
  const hicomex::gst::AnalyzerSettings & s = self->priv->settings;
  auto set_string = [value] (const std::string & v) {
    g_value_set_string (value, v.empty ()? NULL : v.c_str ());
  };

  switch (prop_id) {
    case PROP_MODEL:
      set_string (s.model);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, s.device.c_str ());
      break;
    case PROP_PRECISION:
      g_value_set_string (value, s.precision.c_str ());
      break;
    case PROP_BATCH_TIMEOUT:
      g_value_set_uint (value, (guint) s.batch_timeout_us);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, (guint) s.threads);
      break;
    case PROP_DETECTOR:
      g_value_set_enum (value, detector_from_name (s.detector));
      break;
    case PROP_DETECTION_INTERVAL:
      g_value_set_uint (value, (guint) s.detection_interval);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, (guint) s.inference_interval);
      break;
    case PROP_MAX_FACES:
      g_value_set_uint (value, (guint) s.max_faces);
      break;
    case PROP_MIN_FACE_SIZE:
      g_value_set_uint (value, (guint) s.min_face_size);
      break;
    case PROP_THRESHOLD:
      set_string (s.threshold);
      break;
    case PROP_LANDMARK_SMOOTHING:
      g_value_set_double (value, s.landmark_smoothing);
      break;
    case PROP_AU_SMOOTHING:
      g_value_set_double (value, s.au_smoothing);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, s.post_messages);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* The model path as users know it: the property, or the default it stands for. */
static std::string
describe_model (const std::string & model)
{
  if (!model.empty ())
    return model;
  try {
    return hicomex::default_model_path ();
  } catch (const std::exception &) {
    return "(default model)";
  }
}

static gboolean
gst_hicomex_start (GstBaseTransform * trans)
{
  GstHicomex *self = GST_HICOMEX (trans);
  HicomexPrivate *priv = self->priv;
  hicomex::gst::AnalyzerSettings settings;
  {
    std::lock_guard<std::mutex> lock (priv->lock);
    settings = priv->settings;
    priv->changed = false;
  }
  const std::string model = describe_model (settings.model);

  try {
    priv->analyzer = std::make_unique<hicomex::FaceAnalyzer> (
        hicomex::gst::construction_options (settings));
  } catch (const std::invalid_argument &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid analyzer settings for model \"%s\".", model.c_str ()),
        ("%s", e.what ()));
    return FALSE;
  } catch (const std::exception &e) {
    std::error_code ec;
    const bool missing = settings.model.empty () ||
        !std::filesystem::exists (settings.model, ec);
    if (missing)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Could not find HiCOMEX model \"%s\".", model.c_str ()),
          ("%s", e.what ()));
    else
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("Could not load HiCOMEX model \"%s\": %s", model.c_str (),
              e.what ()), ("%s", e.what ()));
    return FALSE;
  }

  try {
    priv->analyzer->set_options (hicomex::gst::runtime_options (settings,
            priv->analyzer->au_ids (), priv->analyzer->model_thresholds ()));
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid threshold \"%s\" for model \"%s\".",
            settings.threshold.c_str (), model.c_str ()), ("%s", e.what ()));
    priv->analyzer.reset ();
    return FALSE;
  }
  priv->applied = settings;
  priv->frames = 0;
  priv->last_timestamp = 0;
  priv->have_info = false;
  priv->skipped_inferences = 0;
  GST_OBJECT_LOCK (self);
  priv->earliest_time = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "loaded model %s (%s) from %s on %s (%s), %zu AUs",
      priv->analyzer->model_id ().c_str (), settings.detector.c_str (),
      priv->analyzer->model_path ().c_str (),
      priv->analyzer->device ().c_str (), priv->analyzer->precision ().c_str (),
      priv->analyzer->au_ids ().size ());
  return TRUE;
}

static gboolean
gst_hicomex_stop (GstBaseTransform * trans)
{
  GstHicomex *self = GST_HICOMEX (trans);

  if (self->priv->analyzer)
    GST_DEBUG_OBJECT (self, "stopping after %" G_GUINT64_FORMAT " frames, %"
        G_GUINT64_FORMAT " skipped inferences", self->priv->frames,
        self->priv->skipped_inferences.load ());
  self->priv->analyzer.reset ();
  self->priv->have_info = false;
  return TRUE;
}

static gboolean
gst_hicomex_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    G_GNUC_UNUSED GstCaps * outcaps)
{
  GstHicomex *self = GST_HICOMEX (trans);
  HicomexPrivate *priv = self->priv;
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  /* Faces of the old geometry mean nothing in the new one. */
  if (priv->have_info && priv->analyzer &&
      (info.width != priv->info.width || info.height != priv->info.height ||
          info.finfo->format != priv->info.finfo->format)) {
    GST_INFO_OBJECT (self, "frame changed from %dx%d to %dx%d %s: "
        "forgetting the tracked faces", priv->info.width, priv->info.height,
        info.width, info.height, gst_video_format_to_string (info.finfo->format));
    priv->analyzer->reset ();
  }
  priv->info = info;
  priv->have_info = true;
  return TRUE;
}

static gboolean
gst_hicomex_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstHicomex *self = GST_HICOMEX (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    /* A seek: the next frame is not the continuation of the last. */
    GST_OBJECT_LOCK (self);
    self->priv->earliest_time = GST_CLOCK_TIME_NONE;
    GST_OBJECT_UNLOCK (self);
    if (self->priv->analyzer)
      self->priv->analyzer->reset ();
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* QoS events are kept here and sent upstream without going through
 * GstBaseTransform's handler: the base class would drop late buffers, and
 * this element never drops a frame, it skips the AU network instead. */
static gboolean
gst_hicomex_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstHicomex *self = GST_HICOMEX (trans);

  if (GST_EVENT_TYPE (event) != GST_EVENT_QOS)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);

  GstQOSType type;
  gdouble proportion;
  GstClockTimeDiff diff;
  GstClockTime timestamp;
  gst_event_parse_qos (event, &type, &proportion, &diff, &timestamp);
  GST_OBJECT_LOCK (self);
  if (GST_CLOCK_TIME_IS_VALID (timestamp))
    self->priv->earliest_time = (diff < 0 && (GstClockTime) (-diff) > timestamp)
        ? 0 : timestamp + diff;
  GST_OBJECT_UNLOCK (self);
  GST_LOG_OBJECT (self, "QoS: proportion %.3f, diff %" G_GINT64_FORMAT
      ", earliest %" GST_TIME_FORMAT, proportion, (gint64) diff,
      GST_TIME_ARGS (timestamp + diff));
  return gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (trans), event);
}

/* In passthrough the base class hands the input buffer on as it is, possibly
 * shared and so not writable; adding metas needs a writable buffer. A shallow
 * copy shares the memory: the pixels are never copied. */
static GstFlowReturn
gst_hicomex_prepare_output_buffer (GstBaseTransform * trans, GstBuffer * input,
    GstBuffer ** outbuf)
{
  if (!gst_base_transform_is_passthrough (trans))
    return GST_BASE_TRANSFORM_CLASS (parent_class)->prepare_output_buffer
        (trans, input, outbuf);
  if (gst_buffer_is_writable (input)) {
    *outbuf = input;
  } else {
    GST_LOG_OBJECT (trans, "buffer %p shared: shallow copy for the metadata",
        input);
    *outbuf = gst_buffer_copy (input);
  }
  return *outbuf ? GST_FLOW_OK : GST_FLOW_ERROR;
}

static bool
image_view_of (const GstVideoFrame * frame, hicomex::ImageView * view)
{
  using hicomex::PixelFormat;
  switch (GST_VIDEO_FRAME_FORMAT (frame)) {
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
    default:
      return false;
  }
  view->width = GST_VIDEO_FRAME_WIDTH (frame);
  view->height = GST_VIDEO_FRAME_HEIGHT (frame);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (frame) && p < 3; ++p) {
    view->data[p] = static_cast<const std::uint8_t *>(
        GST_VIDEO_FRAME_PLANE_DATA (frame, p));
    view->stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, p);
  }
  return true;
}

/* Hands settings changed since the last frame to the analyzer. */
static void
apply_changed_settings (GstHicomex * self)
{
  HicomexPrivate *priv = self->priv;
  hicomex::gst::AnalyzerSettings settings;
  {
    std::lock_guard<std::mutex> lock (priv->lock);
    if (!priv->changed)
      return;
    priv->changed = false;
    settings = priv->settings;
  }
  try {
    priv->analyzer->set_options (hicomex::gst::runtime_options (settings,
            priv->analyzer->au_ids (), priv->analyzer->model_thresholds ()));
    priv->applied = settings;
    GST_DEBUG_OBJECT (self, "settings applied");
  } catch (const std::exception &e) {
    /* Keep what was in force: a typo must not stop the stream. */
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Ignoring invalid settings; the previous ones stay in force."),
        ("%s", e.what ()));
    priv->applied.post_messages = settings.post_messages;
  }
}

/* Whether `buf` is already late for the sink, per the last QoS event. */
static bool
is_late (GstHicomex * self, GstBaseTransform * trans, GstClockTime running_time)
{
  if (!gst_base_transform_is_qos_enabled (trans) ||
      !GST_CLOCK_TIME_IS_VALID (running_time))
    return false;
  GST_OBJECT_LOCK (self);
  const GstClockTime earliest = self->priv->earliest_time;
  GST_OBJECT_UNLOCK (self);
  return GST_CLOCK_TIME_IS_VALID (earliest) && running_time <= earliest;
}

static GstFlowReturn
gst_hicomex_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstHicomex *self = GST_HICOMEX (trans);
  HicomexPrivate *priv = self->priv;

  if (!priv->analyzer || !priv->have_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("buffer before caps or before start"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  apply_changed_settings (self);

  const GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime running_time = GST_CLOCK_TIME_NONE, stream_time = pts;
  if (trans->segment.format == GST_FORMAT_TIME && GST_CLOCK_TIME_IS_VALID (pts)) {
    running_time = gst_segment_to_running_time (&trans->segment,
        GST_FORMAT_TIME, pts);
    stream_time = gst_segment_to_stream_time (&trans->segment,
        GST_FORMAT_TIME, pts);
  }
  /* Without a time the landmark filter counts the frame as 1/30 s. */
  if (GST_CLOCK_TIME_IS_VALID (running_time))
    priv->last_timestamp = (gint64) running_time;
  const guint64 frame_number = ++priv->frames;

  const bool late = is_late (self, trans, running_time);
  if (late) {
    const guint64 n = ++priv->skipped_inferences;
    GST_INFO_OBJECT (self, "frame %" G_GUINT64_FORMAT " (running time %"
        GST_TIME_FORMAT ") is late: reusing the last AU values (%"
        G_GUINT64_FORMAT " skipped)", frame_number,
        GST_TIME_ARGS (running_time), n);
  }

  GstVideoFrame frame;
  if (!gst_video_frame_map (&frame, &priv->info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not read the video frame."),
        ("gst_video_frame_map failed on buffer %p", buf));
    return GST_FLOW_ERROR;
  }
  hicomex::ImageView view;
  if (!image_view_of (&frame, &view)) {
    gst_video_frame_unmap (&frame);
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("unsupported format %s", GST_VIDEO_INFO_NAME (&priv->info)));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  std::vector<hicomex::FaceResult> faces;
  try {
    /* A late frame keeps the last AU values (new faces still get theirs). */
    faces = priv->analyzer->process (view, priv->last_timestamp, !late);
  } catch (const std::exception &e) {
    gst_video_frame_unmap (&frame);
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Face analysis failed on frame %" G_GUINT64_FORMAT ".", frame_number),
        ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
  gst_video_frame_unmap (&frame);

  const std::string & model_id = priv->analyzer->model_id ();
  const std::vector<int> &au_ids = priv->analyzer->au_ids ();
  try {
    hicomex::gst::attach_results (buf, faces, model_id, au_ids, view.width,
        view.height);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not attach the results of frame %" G_GUINT64_FORMAT ".",
            frame_number), ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
  if (priv->applied.post_messages)
    gst_element_post_message (GST_ELEMENT_CAST (self),
        hicomex::gst::results_message (GST_OBJECT_CAST (self), faces, model_id,
            au_ids, frame_number, pts, stream_time));

  const hicomex::AnalyzerTiming & t = priv->analyzer->last_timing ();
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": %zu faces in %.1f ms "
      "(detector %s, AUs %s)", frame_number, faces.size (), t.total_ms,
      t.detector_ran ? "ran" : "skipped", t.au_ran ? "ran" : "reused");
  return GST_FLOW_OK;
}
