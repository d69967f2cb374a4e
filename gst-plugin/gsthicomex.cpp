/* GObject element code in GStreamer's gst-indent layout, as upstream's elements:
 * not clang-formatted. */
/* clang-format off */
/**
 * SECTION:element-hicomex
 * @title: hicomex
 *
 * Finds faces in raw video, tracks 68 facial landmarks per face and runs the
 * HiCOMEX action unit network on each face. The video passes through
 * untouched; every frame gets a #GstHicomexMeta (also when no face was found)
 * and one #GstVideoRegionOfInterestMeta of type "face" per face, whose
 * "hicomex/au" parameter holds the AU probabilities, presences and (for a
 * model with an intensity head) intensities. With #GstHicomex:post-messages
 * the same results go to the bus as a "hicomex" element message per frame.
 *
 * Intensities are on the FACS 0-5 scale. With #GstHicomex:calibration
 * "dynamic" (the default) each tracked face's intensities are calibrated to
 * that person: a running low percentile of the face's own intensities, its
 * neutral level, is subtracted, and an AU counts as present only if its
 * probability reaches the threshold and its calibrated intensity reaches 1
 * (FACS A). "none" keeps the network's intensities. A new track id starts a
 * fresh calibration.
 *
 * The model is loaded when the element starts (READY->PAUSED); a missing or
 * broken model fails that state change with a RESOURCE error naming the
 * file. Thresholds, intervals, smoothing, calibration and face limits may
 * change while PLAYING and apply at the next frame; model, device, detector and threads
 * apply at the next start.
 *
 * The analysis runs on the analyzer's own worker threads, not on the streaming
 * thread: while the AU network works on one frame (or a batch of frames), the
 * next frame's faces and landmarks are already being found. Buffers leave in
 * the order they came, with their timestamps. On a live source each frame is
 * pushed as soon as its own results are ready (no batching, no added latency);
 * on a non-live source (files) up to #GstHicomex:au-batch frames go through
 * the AU network together and the element holds a few frames, which the
 * latency query reports. EOS and every other serialized event wait for the
 * frames before them; a flush drops them.
 *
 * The element honours QoS (#GstBaseTransform:qos, on by default) without
 * dropping frames: a frame that is already late skips the AU network (faces
 * keep their last AU values) and is counted in #GstHicomex:skipped-inferences.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=face.jpg ! jpegdec ! videoconvert ! imagefreeze num-buffers=10 ! hicomex ! hicomexoverlay ! videoconvert ! jpegenc ! multifilesink location=out-%02d.jpg
 * ]|
 */
#include "gsthicomex.h"

#include <gst/video/video.h>

#include <malloc.h>

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "analyzer_settings.h"
#include "error_mapping.h"
#include "hicomex/face_analyzer.h"
#include "hicomex_meta_utils.h"
#include "in_flight_frames.h"
#include "qos_tracker.h"
#include "rgb_converter.h"

GST_DEBUG_CATEGORY_STATIC (gst_hicomex_debug);
#define GST_CAT_DEFAULT gst_hicomex_debug

namespace {

/* The property values. Written by the application thread (set_property),
 * read by get_property, by start() and, when `changed` says so, by the
 * streaming thread at the next frame: always under `lock`. */
struct Settings {
  std::mutex lock;
  hicomex::gst::AnalyzerSettings values;
  /* Set by set_property, cleared by whoever hands `values` to the analyzer. */
  bool changed = false;
  /* An invalid value set before the element had a bus (gst-launch sets
   * properties before the pipeline exists): warned about at start. */
  std::string pending_warning, pending_debug;
};

/* The running analysis: filled in start(), emptied in stop() (both on the
 * state-change thread while no buffer flows). In between it belongs to the
 * streaming thread, apart from the members marked otherwise. */
struct State {
  /* Streaming thread; discard() also from FLUSH_START (any thread), which
   * FaceAnalyzer allows. */
  std::unique_ptr<hicomex::FaceAnalyzer> analyzer;
  /* The settings in force (the analyzer's, plus post-messages). */
  hicomex::gst::AnalyzerSettings applied;
  /* set_caps() (streaming thread): the input frames and their colour path. */
  GstVideoInfo info;
  bool have_info = false;
  hicomex::gst::RgbConverter converter;
  /* Frames submitted since start, and the last frame's running time. */
  guint64 frames = 0;
  gint64 last_timestamp = 0;
  bool intensity_logged = false;    /* whether the model has intensities, said once per start */
  /* Frames handed to the analyzer, oldest first, mapped until their results
   * are back: under the queue's own lock (stop() and flushes clear it). */
  hicomex::gst::InFlightQueue in_flight;
  /* Whether upstream is live: asked once per start, at the first frame. */
  bool live_known = false;
  bool live = false;
  /* Atomic: also read by the latency query (any thread). */
  std::atomic<guint> max_in_flight{1};
  std::atomic<GstClockTime> frame_duration{GST_CLOCK_TIME_NONE};
  /* Between start() and stop(); read by set_property (application thread). */
  std::atomic<bool> started{false};

  /* The analyzer's workers read the frames in flight: they stop first. */
  ~State () { analyzer.reset (); }
};

}  // namespace

struct _GstHicomex {
  GstBaseTransform parent;
  Settings *settings;
  State *state;
  /* QoS deadline (src pad's event thread) and skipped inferences: under the
   * tracker's own lock. */
  hicomex::gst::QosTracker *qos;
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
  PROP_VERIFY_INTERVAL,
  PROP_INFERENCE_INTERVAL,
  PROP_MAX_FACES,
  PROP_MIN_FACE_SIZE,
  PROP_THRESHOLD,
  PROP_LANDMARK_SMOOTHING,
  PROP_AU_SMOOTHING,
  PROP_POST_MESSAGES,
  PROP_SKIPPED_INFERENCES,
  PROP_AU_BATCH,
  PROP_CALIBRATION,
};

/* The properties' defaults: those of a default AnalyzerSettings, i.e. the
 * analyzer's own (hicomex::AnalyzerOptions) plus the element-only ones. */
static const hicomex::gst::AnalyzerSettings &
defaults (void)
{
  static const hicomex::gst::AnalyzerSettings d;
  return d;
}

/* NULL for an empty default text. */
static const gchar *
default_string (const std::string & v)
{
  return v.empty ()? NULL : v.c_str ();
}

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
  return GST_HICOMEX_DETECTOR_BLAZEFACE;
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
static GstFlowReturn gst_hicomex_submit_input_buffer (GstBaseTransform *
    trans, gboolean is_discont, GstBuffer * input);
static GstFlowReturn gst_hicomex_generate_output (GstBaseTransform * trans,
    GstBuffer ** outbuf);
static gboolean gst_hicomex_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static GstFlowReturn drain (GstHicomex * self);

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
  const hicomex::gst::AnalyzerSettings & d = defaults ();
  const hicomex::AnalyzerOptions & o = d.options;

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
          "HiCOMEX weights file (.safetensors); NULL: the installed default "
          "model or $HICOMEX_MODEL (READY or below to change)",
          default_string (o.engine.weights), ready));
  /**
   * GstHicomex:device:
   *
   * Where the landmark and AU networks run: "auto" (CUDA when available),
   * "cpu", "cuda" or "cuda:N". The detector always runs on the CPU.
   * Default: "auto".
   */
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "Where the networks run: auto, cpu, cuda or cuda:N "
          "(READY or below to change)", o.engine.device.c_str (), ready));
  /**
   * GstHicomex:precision:
   *
   * Arithmetic of the AU network's convolutions and matrix products:
   * "auto" (bf16 on CUDA and on CPUs with AVX512-BF16, where it is about 1.5x
   * faster; fp32 elsewhere), "fp32", "bf16" or "fp16" (CUDA only). Mixed
   * precision: sensitive parts and every output stay fp32. Default: "auto".
   */
  g_object_class_install_property (gobject_class, PROP_PRECISION,
      g_param_spec_string ("precision", "Precision",
          "AU network arithmetic: auto (bf16 where the CPU has AVX512-BF16 or "
          "on CUDA, else fp32), fp32, bf16 or fp16 (CUDA) "
          "(READY or below to change)",
          o.engine.precision.c_str (), ready));
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
          "streams sharing the model; 0: off (READY or below to change)",
          0, 1000000, (guint) o.engine.batch_timeout_us, ready));
  /**
   * GstHicomex:threads:
   *
   * Worker threads of this element's analyzer; each runs the networks with
   * one LibTorch thread, and they work on different frames at once. More
   * than the machine's cores are not used. Default: 0 (one per core).
   */
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "Analyzer worker threads (at most the cores); 0: one per core "
          "(READY or below to change)", 0, 1024, (guint) o.threads, ready));
  /**
   * GstHicomex:au-batch:
   *
   * On a non-live source (a file), the faces of this many consecutive frames
   * go through the AU network as one batch (faster per face; the element
   * then holds about twice as many frames). Live sources always run every
   * frame on its own. Default: 0 (automatic: 8).
   */
  g_object_class_install_property (gobject_class, PROP_AU_BATCH,
      g_param_spec_uint ("au-batch", "AU batch",
          "Frames per AU network batch on non-live sources (live sources: 1); "
          "0: automatic (READY or below to change)", 0, 64,
          (guint) o.au_batch_frames, ready));
  /**
   * GstHicomex:detector:
   *
   * Face detector. Default: blazeface.
   */
  g_object_class_install_property (gobject_class, PROP_DETECTOR,
      g_param_spec_enum ("detector", "Detector",
          "Face detector (READY or below to change)",
          GST_TYPE_HICOMEX_DETECTOR, detector_from_name (o.detector.name),
          ready));
  /**
   * GstHicomex:detection-interval:
   *
   * Run the face detector every N frames; in between, faces are followed by
   * their landmarks (a lost face triggers detection earlier). Default: 5.
   */
  g_object_class_install_property (gobject_class, PROP_DETECTION_INTERVAL,
      g_param_spec_uint ("detection-interval", "Detection interval",
          "Run the face detector every N frames, follow faces by their "
          "landmarks in between", 1, G_MAXINT,
          (guint) o.tracker.detection_interval, playing));
  /**
   * GstHicomex:verify-interval:
   *
   * Between detector runs, each face's landmarks are checked by running the
   * face detector on the landmark crop; that check is the costliest part of
   * following a face. It runs at least every N frames per face, and in
   * between only when the crop's picture changed (the face moved within it,
   * turned, left it or was covered); otherwise the last check is reused with
   * the current landmarks. 1 checks every frame. Default: 5.
   */
  g_object_class_install_property (gobject_class, PROP_VERIFY_INTERVAL,
      g_param_spec_uint ("verify-interval", "Verify interval",
          "Check that the landmarks sit on a face at least every N frames; in "
          "between only when the face's crop changed (1 = every frame)", 1,
          G_MAXINT, (guint) o.tracker.verify_interval, playing));
  /**
   * GstHicomex:inference-interval:
   *
   * Run the AU network every N frames; in between each face keeps its last
   * AU values (a new face gets them on its first frame). Default: 1.
   */
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Run the AU network every N frames, faces keep their last AUs in "
          "between", 1, G_MAXINT, (guint) o.inference_interval,
          playing));
  /**
   * GstHicomex:max-faces:
   *
   * Analyse at most this many faces per frame, the largest first.
   * Default: 0 (no limit).
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FACES,
      g_param_spec_uint ("max-faces", "Maximum faces",
          "Analyse at most this many faces, largest first; 0: no limit",
          0, G_MAXINT, (guint) o.tracker.max_faces, playing));
  /**
   * GstHicomex:min-face-size:
   *
   * Ignore faces whose box is smaller than this (larger side, pixels).
   * Default: 0 (keep all).
   */
  g_object_class_install_property (gobject_class, PROP_MIN_FACE_SIZE,
      g_param_spec_uint ("min-face-size", "Minimum face size",
          "Ignore faces smaller than this (larger box side, pixels)",
          0, G_MAXINT, (guint) o.tracker.min_face_size, playing));
  /**
   * GstHicomex:threshold:
   *
   * AU decision thresholds overriding the model's: NULL or "" keeps the
   * model's, "0.4" sets every AU, "AU12=0.3,AU4=0.6" sets those AUs (the
   * others keep the model's; "12=0.3" works too), "0.3,0.5,..." gives one
   * value per AU in the model's order. The grammar is the library's
   * (hicomex/option_parsers.h), shared with hicomex-analyze --threshold. A text
   * the model cannot use fails the start, or, while playing, is reported as
   * a warning and ignored. Default: NULL.
   */
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_string ("threshold", "Threshold",
          "AU occurrence thresholds: \"0.4\" for every AU, \"AU12=0.3,AU4=0.6\" "
          "per AU, or one value per AU in the model's order; NULL: the "
          "model's", default_string (d.threshold), playing));
  /**
   * GstHicomex:landmark-smoothing:
   *
   * Landmark smoothing: the One Euro filter's minimum cutoff frequency in Hz;
   * lower is smoother (1-3 is smooth but responsive). Default: 0 (raw).
   */
  g_object_class_install_property (gobject_class, PROP_LANDMARK_SMOOTHING,
      g_param_spec_double ("landmark-smoothing", "Landmark smoothing",
          "One Euro filter minimum cutoff for the landmarks in Hz (lower is "
          "smoother, 1-3 typical); 0: off", 0.0, 1000.0,
          d.landmark_smoothing, playing));
  /**
   * GstHicomex:au-smoothing:
   *
   * AU probability smoothing: weight of the past in an exponential moving
   * average per face (0.5 halves a jump per frame). Default: 0 (raw).
   */
  g_object_class_install_property (gobject_class, PROP_AU_SMOOTHING,
      g_param_spec_double ("au-smoothing", "AU smoothing",
          "Weight of the past in the per-face moving average of AU "
          "probabilities; 0: off", 0.0, 0.99, d.au_smoothing,
          playing));
  /**
   * GstHicomex:calibration:
   *
   * Per-person calibration of the AU intensities (models with an intensity
   * head; others are not affected): "dynamic" subtracts each tracked face's
   * running 10th percentile of its own intensities (its neutral level) and
   * reports an AU present only when its calibrated intensity reaches 1 as
   * well; "none" reports the network's intensities and decides presence by
   * the probability alone. Assumes each person is mostly neutral: use "none"
   * for unrelated single images. May change while PLAYING (next frame); an
   * unknown value is reported as a warning and ignored. Default: "dynamic".
   */
  g_object_class_install_property (gobject_class, PROP_CALIBRATION,
      g_param_spec_string ("calibration", "Calibration",
          "Per-person AU intensity calibration: dynamic (subtract each face's "
          "running neutral level) or none",
          hicomex::to_string (o.calibration), playing));
  /**
   * GstHicomex:post-messages:
   *
   * Post a "hicomex" element message with the results of every frame.
   * Default: FALSE.
   */
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages",
          "Post a \"hicomex\" element message with each frame's results",
          d.post_messages, playing));
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
  /* Buffers pass unchanged (metas added): submit_input_buffer() hands them to
   * the analyzer, generate_output() hands them on with their results. */
  trans_class->start = gst_hicomex_start;
  trans_class->stop = gst_hicomex_stop;
  trans_class->set_caps = gst_hicomex_set_caps;
  trans_class->sink_event = gst_hicomex_sink_event;
  trans_class->src_event = gst_hicomex_src_event;
  trans_class->submit_input_buffer = gst_hicomex_submit_input_buffer;
  trans_class->generate_output = gst_hicomex_generate_output;
  trans_class->query = gst_hicomex_query;

  gst_type_mark_as_plugin_api (GST_TYPE_HICOMEX_DETECTOR,
      (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_hicomex_debug, "hicomex", 0,
      "HiCOMEX facial action unit analyzer");
}

static void
gst_hicomex_init (GstHicomex * self)
{
  self->settings = new Settings ();
  self->state = new State ();
  self->qos = new hicomex::gst::QosTracker ();
  gst_video_info_init (&self->state->info);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  /* QoS on: late frames skip the AU network (see src_event). */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_hicomex_finalize (GObject * object)
{
  GstHicomex *self = GST_HICOMEX (object);

  delete self->state;
  delete self->settings;
  delete self->qos;
  self->state = NULL;
  self->settings = NULL;
  self->qos = NULL;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* Reports an invalid calibration text: a warning on the bus, or, before the
 * element has one, at the next start. Outside the settings lock: the bus may
 * call back into the element. */
static void
warn_invalid_calibration (GstHicomex * self, const gchar * value,
    const std::exception & e)
{
  gchar *text;
  {
    std::lock_guard<std::mutex> lock (self->settings->lock);
    text = g_strdup_printf ("Invalid value \"%s\" for property "
        "'calibration' (expected none or dynamic); keeping \"%s\".", value,
        hicomex::to_string (self->settings->values.options.calibration));
  }
  GstBus *bus = gst_element_get_bus (GST_ELEMENT_CAST (self));
  if (bus) {
    gst_object_unref (bus);
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("%s", text),
        ("%s", e.what ()));
  } else {
    GST_WARNING_OBJECT (self, "%s", text);
    std::lock_guard<std::mutex> lock (self->settings->lock);
    self->settings->pending_warning = text;
    self->settings->pending_debug = e.what ();
  }
  g_free (text);
}

static void
gst_hicomex_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHicomex *self = GST_HICOMEX (object);
  /* The model, device, threads...: in use until the next start. Taking the
   * value now would read back a setting that is not the one in force. */
  if ((pspec->flags & GST_PARAM_MUTABLE_READY) && self->state->started) {
    gchar *text = g_strdup_value_contents (value);
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("Property '%s' can only change in the READY or NULL state; "
            "ignoring %s while running.", pspec->name, text),
        ("set %s in READY or NULL, or stop the pipeline first", pspec->name));
    g_free (text);
    return;
  }
  hicomex::AuCalibration calibration = hicomex::AuCalibration::Dynamic;
  if (prop_id == PROP_CALIBRATION) {
    const gchar *v = g_value_get_string (value);
    try {
      calibration = v && *v ? hicomex::au_calibration_from_string (v) :
          defaults ().options.calibration;
    } catch (const std::exception &e) {
      warn_invalid_calibration (self, v, e);
      return;
    }
  }
  std::lock_guard<std::mutex> lock (self->settings->lock);
  hicomex::gst::AnalyzerSettings & s = self->settings->values;
  hicomex::AnalyzerOptions & o = s.options;
  const hicomex::AnalyzerOptions & d = defaults ().options;
  auto string_of = [value] () {
    const gchar *v = g_value_get_string (value);
    return std::string (v ? v : "");
  };
  /* NULL or "": the default. */
  auto string_or = [&string_of] (const std::string & fallback) {
    const std::string v = string_of ();
    return v.empty ()? fallback : v;
  };

  switch (prop_id) {
    case PROP_MODEL:
      o.engine.weights = string_of ();
      break;
    case PROP_DEVICE:
      o.engine.device = string_or (d.engine.device);
      break;
    case PROP_PRECISION:
      o.engine.precision = string_or (d.engine.precision);
      break;
    case PROP_BATCH_TIMEOUT:
      o.engine.batch_timeout_us = (int) g_value_get_uint (value);
      break;
    case PROP_THREADS:
      o.threads = (int) g_value_get_uint (value);
      break;
    case PROP_AU_BATCH:
      o.au_batch_frames = (int) g_value_get_uint (value);
      break;
    case PROP_DETECTOR:
      o.detector.name = detector_values[g_value_get_enum (value)].value_nick;
      break;
    case PROP_DETECTION_INTERVAL:
      o.tracker.detection_interval = (int) g_value_get_uint (value);
      break;
    case PROP_VERIFY_INTERVAL:
      o.tracker.verify_interval = (int) g_value_get_uint (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      o.inference_interval = (int) g_value_get_uint (value);
      break;
    case PROP_MAX_FACES:
      o.tracker.max_faces = (int) g_value_get_uint (value);
      break;
    case PROP_MIN_FACE_SIZE:
      o.tracker.min_face_size = (int) g_value_get_uint (value);
      break;
    case PROP_THRESHOLD:
      s.threshold = string_of ();
      break;
    case PROP_LANDMARK_SMOOTHING:
      s.landmark_smoothing = g_value_get_double (value);
      o.tracker.landmark_min_cutoff_hz = (float) s.landmark_smoothing;
      break;
    case PROP_AU_SMOOTHING:
      s.au_smoothing = g_value_get_double (value);
      o.tracker.au_smoothing = (float) s.au_smoothing;
      break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean (value);
      break;
    case PROP_CALIBRATION:
      o.calibration = calibration;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
  }
  self->settings->changed = true;
}

static void
gst_hicomex_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHicomex *self = GST_HICOMEX (object);

  if (prop_id == PROP_SKIPPED_INFERENCES) {
    g_value_set_uint64 (value, self->qos->skipped ());
    return;
  }
  std::lock_guard<std::mutex> lock (self->settings->lock);
  const hicomex::gst::AnalyzerSettings & s = self->settings->values;
  const hicomex::AnalyzerOptions & o = s.options;
  auto set_string = [value] (const std::string & v) {
    g_value_set_string (value, v.empty ()? NULL : v.c_str ());
  };

  switch (prop_id) {
    case PROP_MODEL:
      set_string (o.engine.weights);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, o.engine.device.c_str ());
      break;
    case PROP_PRECISION:
      g_value_set_string (value, o.engine.precision.c_str ());
      break;
    case PROP_BATCH_TIMEOUT:
      g_value_set_uint (value, (guint) o.engine.batch_timeout_us);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, (guint) o.threads);
      break;
    case PROP_AU_BATCH:
      g_value_set_uint (value, (guint) o.au_batch_frames);
      break;
    case PROP_DETECTOR:
      g_value_set_enum (value, detector_from_name (o.detector.name));
      break;
    case PROP_DETECTION_INTERVAL:
      g_value_set_uint (value, (guint) o.tracker.detection_interval);
      break;
    case PROP_VERIFY_INTERVAL:
      g_value_set_uint (value, (guint) o.tracker.verify_interval);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, (guint) o.inference_interval);
      break;
    case PROP_MAX_FACES:
      g_value_set_uint (value, (guint) o.tracker.max_faces);
      break;
    case PROP_MIN_FACE_SIZE:
      g_value_set_uint (value, (guint) o.tracker.min_face_size);
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
    case PROP_CALIBRATION:
      g_value_set_string (value, hicomex::to_string (o.calibration));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_hicomex_start (GstBaseTransform * trans)
{
  GstHicomex *self = GST_HICOMEX (trans);
  State *state = self->state;
  hicomex::gst::AnalyzerSettings settings;
  std::string warning, warning_debug;
  {
    std::lock_guard<std::mutex> lock (self->settings->lock);
    settings = self->settings->values;
    self->settings->changed = false;
    std::swap (warning, self->settings->pending_warning);
    std::swap (warning_debug, self->settings->pending_debug);
  }
  if (!warning.empty ())
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("%s", warning.c_str ()),
        ("%s", warning_debug.c_str ()));
  const std::string model =
      hicomex::gst::describe_model (settings.options.engine.weights);

  try {
    state->analyzer = std::make_unique<hicomex::FaceAnalyzer> (
        hicomex::gst::construction_options (settings));
  } catch (const std::exception &e) {
    /* The code comes from the error's type (error_mapping.h). */
    HICOMEX_POST_ERROR (self, GST_MESSAGE_ERROR, e,
        hicomex::gst::ErrorStage::Start,
        hicomex::gst::start_failure_text (e, model));
    return FALSE;
  }

  try {
    state->analyzer->set_options (hicomex::gst::runtime_options (settings,
            state->analyzer->au_ids (), state->analyzer->model_thresholds ()));
  } catch (const std::exception &e) {
    HICOMEX_POST_ERROR (self, GST_MESSAGE_ERROR, e,
        hicomex::gst::ErrorStage::Start, "Invalid threshold \"" +
        settings.threshold + "\" for model \"" + model + "\": " + e.what ());
    state->analyzer.reset ();
    return FALSE;
  }
  if (!state->analyzer->model_checksummed ())
    GST_ELEMENT_WARNING (self, RESOURCE, READ,
        ("HiCOMEX model \"%s\" has no tensor checksum: a damaged copy cannot be "
            "told from a good one.", state->analyzer->model_path ().c_str ()),
        ("written before checksums existed; saving it again with hicomex-train adds one"));
  state->applied = settings;
  state->frames = 0;
  state->last_timestamp = 0;
  state->have_info = false;
  state->live_known = false;
  state->max_in_flight = 1;
  state->intensity_logged = false;
  state->started = true;
  self->qos->reset_skipped ();
  self->qos->reset ();
  GST_INFO_OBJECT (self, "loaded model %s (%s) from %s on %s (%s), %zu AUs, "
      "calibration %s", state->analyzer->model_id ().c_str (),
      settings.options.detector.name.c_str (),
      state->analyzer->model_path ().c_str (),
      state->analyzer->device ().c_str (), state->analyzer->precision ().c_str (),
      state->analyzer->au_ids ().size (),
      hicomex::to_string (settings.options.calibration));
  return TRUE;
}

/* Forgets the frames handed to the analyzer (a flush, a stop): the
 * analyzer drops them, their buffers are released unpushed. */
static void
drop_in_flight (GstHicomex * self)
{
  if (self->state->analyzer)
    self->state->analyzer->discard ();
  self->state->in_flight.clear ();
}

static gboolean
gst_hicomex_stop (GstBaseTransform * trans)
{
  GstHicomex *self = GST_HICOMEX (trans);
  State *state = self->state;

  if (state->analyzer)
    GST_DEBUG_OBJECT (self, "stopping after %" G_GUINT64_FORMAT " frames, %"
        G_GUINT64_FORMAT " skipped inferences", state->frames,
        self->qos->skipped ());
  drop_in_flight (self);
  state->analyzer.reset ();
  /* The analyzer's worker threads each had a malloc arena; give what they
   * freed back to the system, or a process that starts and stops pipelines
   * keeps every arena's peak (docs/reliability.md). */
  malloc_trim (0);
  state->converter.reset ();
  state->have_info = false;
  state->started = false;
  return TRUE;
}

static gboolean
gst_hicomex_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    G_GNUC_UNUSED GstCaps * outcaps)
{
  GstHicomex *self = GST_HICOMEX (trans);
  State *state = self->state;
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_ERROR_OBJECT (self, "invalid caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  /* Faces of the old geometry mean nothing in the new one. */
  if (state->have_info && state->analyzer &&
      (info.width != state->info.width || info.height != state->info.height ||
          info.finfo->format != state->info.finfo->format)) {
    GST_INFO_OBJECT (self, "frame changed from %dx%d to %dx%d %s: "
        "forgetting the tracked faces", state->info.width, state->info.height,
        info.width, info.height, gst_video_format_to_string (info.finfo->format));
    state->analyzer->reset ();
  }
  state->info = info;
  state->have_info = true;
  if (!state->converter.configure (info)) {
    GST_ERROR_OBJECT (self, "no colour converter from %s to RGB",
        GST_VIDEO_INFO_NAME (&info));
    return FALSE;
  }
  state->frame_duration = (info.fps_n > 0 && info.fps_d > 0) ?
      gst_util_uint64_scale_int (GST_SECOND, info.fps_d, info.fps_n) :
      GST_CLOCK_TIME_NONE;
  return TRUE;
}

static gboolean
gst_hicomex_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstHicomex *self = GST_HICOMEX (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      /* Wakes a streaming thread waiting for results; the frames are dropped. */
      if (self->state->analyzer)
        self->state->analyzer->discard ();
      break;
    case GST_EVENT_FLUSH_STOP:
      /* A seek: the next frame is not the continuation of the last. */
      drop_in_flight (self);
      self->qos->reset ();
      if (self->state->analyzer)
        self->state->analyzer->reset ();
      break;
    default:
      /* EOS, segments, caps, gaps, tags...: after the frames before them. */
      if (GST_EVENT_IS_SERIALIZED (event)) {
        const GstFlowReturn ret = drain (self);
        if (ret != GST_FLOW_OK && ret != GST_FLOW_FLUSHING &&
            GST_EVENT_TYPE (event) != GST_EVENT_EOS)
          GST_DEBUG_OBJECT (self, "drained with %s", gst_flow_get_name (ret));
      }
      break;
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
  self->qos->update (timestamp, diff);
  GST_LOG_OBJECT (self, "QoS: proportion %.3f, diff %" G_GINT64_FORMAT
      ", earliest %" GST_TIME_FORMAT, proportion, (gint64) diff,
      GST_TIME_ARGS (timestamp + diff));
  return gst_pad_push_event (GST_BASE_TRANSFORM_SINK_PAD (trans), event);
}

/* Hands settings changed since the last frame to the analyzer. */
static void
apply_changed_settings (GstHicomex * self)
{
  State *state = self->state;
  hicomex::gst::AnalyzerSettings settings;
  {
    std::lock_guard<std::mutex> lock (self->settings->lock);
    if (!self->settings->changed)
      return;
    self->settings->changed = false;
    settings = self->settings->values;
  }
  try {
    state->analyzer->set_options (hicomex::gst::runtime_options (settings,
            state->analyzer->au_ids (), state->analyzer->model_thresholds ()));
    state->applied = settings;
    GST_DEBUG_OBJECT (self, "settings applied");
  } catch (const std::exception &e) {
    /* Keep what was in force: a typo must not stop the stream. */
    HICOMEX_POST_ERROR (self, GST_MESSAGE_WARNING, e,
        hicomex::gst::ErrorStage::Start, std::string ("Ignoring invalid "
            "settings (") + e.what () + "); the previous ones stay in force.");
    state->applied.post_messages = settings.post_messages;
  }
}

/* Whether upstream is live, asked once per start: a live stream runs every
 * frame on its own and pushes it as soon as its results are ready; a file is
 * analysed in batches of frames with a few frames in flight. */
static void
configure_liveness (GstHicomex * self, GstBaseTransform * trans)
{
  State *state = self->state;
  if (state->live_known)
    return;
  state->live_known = true;
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;
  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (trans), query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);
  state->live = live;
  int batch;
  {
    std::lock_guard<std::mutex> lock (self->settings->lock);
    batch = self->settings->values.options.au_batch_frames;
  }
  state->analyzer->set_au_batch_frames (live ? 1 : batch);
  state->max_in_flight = live ? 1u : (guint) state->analyzer->max_pending ();
  GST_INFO_OBJECT (self, "%s source: AU batches of %d frame(s), up to %u "
      "frame(s) in flight, %d worker thread(s)", live ? "live" : "non-live",
      state->analyzer->au_batch_frames (), state->max_in_flight.load (),
      state->analyzer->worker_threads ());
  /* The frames held change the latency a live pipeline must allow for. */
  if (state->max_in_flight > 1)
    gst_element_post_message (GST_ELEMENT_CAST (self),
        gst_message_new_latency (GST_OBJECT_CAST (self)));
}

static GstFlowReturn
gst_hicomex_submit_input_buffer (GstBaseTransform * trans,
    G_GNUC_UNUSED gboolean is_discont, GstBuffer * buf)
{
  GstHicomex *self = GST_HICOMEX (trans);
  State *state = self->state;

  if (!state->analyzer || !state->have_info) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("buffer before caps or before start"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  configure_liveness (self, trans);
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
    state->last_timestamp = (gint64) running_time;
  const guint64 frame_number = ++state->frames;

  const bool late = gst_base_transform_is_qos_enabled (trans) &&
      self->qos->is_late (running_time);
  if (late) {
    const guint64 n = self->qos->count_skipped ();
    GST_INFO_OBJECT (self, "frame %" G_GUINT64_FORMAT " (running time %"
        GST_TIME_FORMAT ") is late: reusing the last AU values (%"
        G_GUINT64_FORMAT " skipped)", frame_number,
        GST_TIME_ARGS (running_time), n);
  }

  hicomex::gst::InFlightFrame f;
  f.buf = buf;
  f.number = frame_number;
  f.pts = pts;
  f.stream_time = stream_time;
  hicomex::ImageView view;
  switch (hicomex::gst::map_for_analysis (buf, &state->info, state->converter,
          &f, &view)) {
    case hicomex::gst::MapResult::Ok:
      break;
    case hicomex::gst::MapResult::MapFailed:
      gst_buffer_unref (buf);
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not read the video frame."),
          ("gst_video_frame_map failed on buffer %p", buf));
      return GST_FLOW_ERROR;
    case hicomex::gst::MapResult::ConvertFailed:
      gst_buffer_unref (buf);
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not convert the video frame."),
          ("mapping a %dx%d RGB frame failed",
              state->converter.rgb_info ().width,
              state->converter.rgb_info ().height));
      return GST_FLOW_ERROR;
    case hicomex::gst::MapResult::Unsupported:
      gst_buffer_unref (buf);
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
          ("unsupported format %s", GST_VIDEO_INFO_NAME (&state->info)));
      return GST_FLOW_NOT_NEGOTIATED;
  }
  try {
    /* A late frame keeps the last AU values (new faces still get theirs). */
    state->analyzer->submit (view, state->last_timestamp, !late, frame_number);
  } catch (const std::exception &e) {
    hicomex::gst::release (f);
    HICOMEX_POST_ERROR (self, GST_MESSAGE_ERROR, e,
        hicomex::gst::ErrorStage::Frame, "Face analysis failed on frame " +
        std::to_string (frame_number) + ".");
    return GST_FLOW_ERROR;
  }
  state->in_flight.push (f);
  return GST_FLOW_OK;
}

/* Logs, once per start, whether the model gives intensities. */
static void
log_intensity_once (GstHicomex * self, const hicomex::AnalyzedFrame & done,
    const std::string & model_id)
{
  State *state = self->state;
  if (state->intensity_logged || done.faces.empty ())
    return;
  state->intensity_logged = true;
  if (done.faces.front ().au_intensity.empty ())
    GST_INFO_OBJECT (self, "model %s predicts occurrence only (no intensity "
        "head): no intensities, calibration has no effect", model_id.c_str ());
  else
    GST_INFO_OBJECT (self, "model %s predicts AU intensities",
        model_id.c_str ());
}

/* The oldest frame in flight with its results attached, or NULL when it is
 * not ready and `wait` is false. *ret says why there is none. */
static GstBuffer *
take_analyzed (GstHicomex * self, bool wait, GstFlowReturn * ret)
{
  State *state = self->state;
  *ret = GST_FLOW_OK;
  if (state->in_flight.empty ())
    return NULL;
  hicomex::AnalyzedFrame done;
  hicomex::gst::InFlightFrame f;
  try {
    /* Not ready, or dropped by a flush running on another thread. */
    if (!state->analyzer->next (&done, wait) || !state->in_flight.pop (&f)) {
      if (wait)
        *ret = GST_FLOW_FLUSHING;
      return NULL;
    }
  } catch (const std::exception &e) {
    if (state->in_flight.pop (&f)) {
      hicomex::gst::release (f);
    }
    HICOMEX_POST_ERROR (self, GST_MESSAGE_ERROR, e,
        hicomex::gst::ErrorStage::Frame, "Face analysis failed on frame " +
        std::to_string (f.number) + ".");
    *ret = GST_FLOW_ERROR;
    return NULL;
  }
  const int width = GST_VIDEO_FRAME_WIDTH (&f.frame);
  const int height = GST_VIDEO_FRAME_HEIGHT (&f.frame);
  gst_video_frame_unmap (&f.frame);
  /* The frame's mapping held a reference; the metas need a writable buffer
   * (a shallow copy when shared: the pixels are never copied). */
  GstBuffer *buf = gst_buffer_make_writable (f.buf);

  const std::string & model_id = state->analyzer->model_id ();
  const std::vector<int> &au_ids = state->analyzer->au_ids ();
  try {
    hicomex::gst::attach_results (buf, done.faces, model_id, au_ids, width,
        height);
    if (state->applied.post_messages)
      gst_element_post_message (GST_ELEMENT_CAST (self),
          hicomex::gst::results_message (GST_OBJECT_CAST (self), done.faces,
              model_id, au_ids, f.number, f.pts, f.stream_time));
  } catch (const std::exception &e) {
    gst_buffer_unref (buf);
    HICOMEX_POST_ERROR (self, GST_MESSAGE_ERROR, e,
        hicomex::gst::ErrorStage::Frame, "Could not attach the results of "
        "frame " + std::to_string (f.number) + ".");
    *ret = GST_FLOW_ERROR;
    return NULL;
  }
  log_intensity_once (self, done, model_id);
  const hicomex::AnalyzerTiming & t = done.timing;
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT ": %zu faces, %.1f ms of "
      "work (detector %s, AUs %s)", f.number, done.faces.size (), t.total_ms,
      t.detector_ran ? "ran" : "skipped", t.au_ran ? "ran" : "reused");
  return buf;
}

/* Called by the base class after each submitted buffer, again and again
 * while it returns a buffer: hands on every frame whose results are ready,
 * and waits for the oldest one while the frames in flight are at the limit. */
static GstFlowReturn
gst_hicomex_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstHicomex *self = GST_HICOMEX (trans);
  State *state = self->state;
  *outbuf = NULL;
  if (!state->analyzer)
    return GST_FLOW_OK;
  const bool full = state->in_flight.size () >= state->max_in_flight;
  GstFlowReturn ret;
  *outbuf = take_analyzed (self, full, &ret);
  return ret;
}

/* Pushes every frame in flight (EOS, or a serialized event that must not
 * overtake them). */
static GstFlowReturn
drain (GstHicomex * self)
{
  State *state = self->state;
  if (!state->analyzer)
    return GST_FLOW_OK;
  state->analyzer->flush ();
  GstFlowReturn ret = GST_FLOW_OK;
  while (GstBuffer *buf = take_analyzed (self, true, &ret)) {
    ret = gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (self), buf);
    if (ret != GST_FLOW_OK) {
      GST_DEBUG_OBJECT (self, "downstream returned %s while draining: "
          "dropping the frames left", gst_flow_get_name (ret));
      drop_in_flight (self);
      break;
    }
  }
  return ret;
}

static gboolean
gst_hicomex_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstHicomex *self = GST_HICOMEX (trans);
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE (query) != GST_QUERY_LATENCY)
    return GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
        query);
  if (!gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (trans), query))
    return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency (query, &live, &min, &max);
  /* Frames held beyond the one being analysed wait that many frame periods. */
  const guint max_in_flight = self->state->max_in_flight;
  const guint held = max_in_flight > 0 ? max_in_flight - 1 : 0;
  const GstClockTime period = self->state->frame_duration;
  if (held > 0 && GST_CLOCK_TIME_IS_VALID (period)) {
    const GstClockTime extra = held * period;
    min += extra;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += extra;
    GST_DEBUG_OBJECT (self, "adding %" GST_TIME_FORMAT " of latency (%u "
        "frames held)", GST_TIME_ARGS (extra), held);
  }
  gst_query_set_latency (query, live, min, max);
  return TRUE;
}
