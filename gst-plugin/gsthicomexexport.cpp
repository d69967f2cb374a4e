/**
 * SECTION:element-hicomexexport
 * @title: hicomexexport
 *
 * Writes the results carried by #GstHicomexMeta to a file while the video
 * passes through unchanged: OpenFace-compatible CSV (the columns of OpenFace
 * 2's FeatureExtraction: AUxx_r the intensity 0-5, AUxx_c the presence, and
 * with #GstHicomexExport:probabilities the AUxx_p occurrence probabilities)
 * or JSON lines, one record per face per frame. A model without an intensity
 * head gets no AUxx_r columns but AUxx_p ones (an INFO message on the bus
 * says so), so a probability is never read as an intensity. Frames count from 1 like OpenFace's;
 * timestamps are stream time in seconds. The file is created in the
 * READY->PAUSED transition (an existing file is refused unless
 * #GstHicomexExport:overwrite is set) and flushed at EOS, on flushes, on
 * errors and when the pipeline stops, so an interrupted pipeline leaves every
 * complete row.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=talk.mp4 ! decodebin ! videoconvert ! hicomex ! hicomexexport location=talk.csv ! fakesink
 * ]|
 */
#include "gsthicomexexport.h"

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include "hicomex/result_writer.h"
#include "hicomex_meta_utils.h"

GST_DEBUG_CATEGORY_STATIC (gst_hicomex_export_debug);
#define GST_CAT_DEFAULT gst_hicomex_export_debug

namespace {

struct ExportSettings {
  std::string location;
  GstHicomexExportFormat format = GST_HICOMEX_EXPORT_FORMAT_CSV;
  bool overwrite = false;
  bool probabilities = false;
};

/* Settings under a lock (application thread); the writer and the frame
 * counter belong to the streaming thread between start() and stop(). */
struct ExportPrivate {
  std::mutex lock;
  ExportSettings settings;
  std::unique_ptr<hicomex::ResultWriter> writer;
  std::int64_t frame = 0;
  /* A write failed and was reported: later flushes and the close of the same
   * file fail for the same reason and report nothing more (one failure, one
   * ERROR message). Streaming thread, then stop(). */
  bool failed = false;
  /* The CSV's layout without intensities was announced (once per start). */
  bool told_no_intensity = false;
};

}  // namespace

struct _GstHicomexExport {
  GstBaseTransform parent;
  ExportPrivate *priv;
};

#define gst_hicomex_export_parent_class parent_class
G_DEFINE_TYPE (GstHicomexExport, gst_hicomex_export, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (hicomexexport, "hicomexexport", GST_RANK_NONE,
    GST_TYPE_HICOMEX_EXPORT);

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_FORMAT,
  PROP_OVERWRITE,
  PROP_PROBABILITIES,
};

#define DEFAULT_LOCATION NULL
#define DEFAULT_FORMAT GST_HICOMEX_EXPORT_FORMAT_CSV
#define DEFAULT_OVERWRITE FALSE
#define DEFAULT_PROBABILITIES FALSE

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GType
gst_hicomex_export_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_HICOMEX_EXPORT_FORMAT_CSV, "OpenFace-compatible CSV", "csv"},
    {GST_HICOMEX_EXPORT_FORMAT_JSONL, "JSON lines, one object per face per frame",
        "jsonl"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstHicomexExportFormat", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void gst_hicomex_export_finalize (GObject * object);
static void gst_hicomex_export_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_hicomex_export_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_hicomex_export_start (GstBaseTransform * trans);
static gboolean gst_hicomex_export_stop (GstBaseTransform * trans);
static gboolean gst_hicomex_export_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static GstFlowReturn gst_hicomex_export_transform_ip (GstBaseTransform * trans,
    GstBuffer * buf);

static void
gst_hicomex_export_class_init (GstHicomexExportClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags flags = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  gobject_class->finalize = gst_hicomex_export_finalize;
  gobject_class->set_property = gst_hicomex_export_set_property;
  gobject_class->get_property = gst_hicomex_export_get_property;

  /**
   * GstHicomexExport:location:
   *
   * Path of the result file, created when the element starts. Default: NULL
   * (starting without a location is an error). Changes apply at the next start.
   */
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "File location",
          "Path of the result file (created when the element starts)",
          DEFAULT_LOCATION, flags));
  /**
   * GstHicomexExport:format:
   *
   * File format: OpenFace-compatible CSV or JSON lines. Default: csv.
   */
  g_object_class_install_property (gobject_class, PROP_FORMAT,
      g_param_spec_enum ("format", "Format",
          "Result file format (csv: OpenFace-compatible, jsonl: JSON lines)",
          GST_TYPE_HICOMEX_EXPORT_FORMAT, DEFAULT_FORMAT, flags));
  /**
   * GstHicomexExport:overwrite:
   *
   * Replace an existing file at #GstHicomexExport:location. Default: FALSE
   * (an existing file makes the state change fail).
   */
  g_object_class_install_property (gobject_class, PROP_OVERWRITE,
      g_param_spec_boolean ("overwrite", "Overwrite",
          "Replace an existing file instead of failing", DEFAULT_OVERWRITE,
          flags));
  /**
   * GstHicomexExport:probabilities:
   *
   * CSV: also write each AU's occurrence probability, as AUxx_p columns after
   * the AUxx_c ones. A model without an intensity head always gets them
   * (and no AUxx_r columns). JSON lines always carry the probability.
   * Default: FALSE.
   */
  g_object_class_install_property (gobject_class, PROP_PROBABILITIES,
      g_param_spec_boolean ("probabilities", "Probabilities",
          "CSV: add AUxx_p occurrence probability columns (always there for a "
          "model without intensity)", DEFAULT_PROBABILITIES, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "HiCOMEX result export", "Filter/File/Video",
      "Writes hicomex face and action unit results to OpenFace-compatible CSV or JSON lines",
      "HiCOMEX-for-GStreamer");

  trans_class->passthrough_on_same_caps = TRUE;
  /* Passthrough, but every buffer must still reach transform_ip. */
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->start = gst_hicomex_export_start;
  trans_class->stop = gst_hicomex_export_stop;
  trans_class->sink_event = gst_hicomex_export_sink_event;
  trans_class->transform_ip = gst_hicomex_export_transform_ip;

  gst_type_mark_as_plugin_api (GST_TYPE_HICOMEX_EXPORT_FORMAT,
      (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_hicomex_export_debug, "hicomexexport", 0,
      "HiCOMEX result export");
}

static void
gst_hicomex_export_init (GstHicomexExport * self)
{
  self->priv = new ExportPrivate ();
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_hicomex_export_finalize (GObject * object)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (object);

  delete self->priv;
  self->priv = NULL;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_hicomex_export_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (object);
  std::lock_guard<std::mutex> lock (self->priv->lock);
  ExportSettings & s = self->priv->settings;

  switch (prop_id) {
    case PROP_LOCATION:{
      const gchar *v = g_value_get_string (value);
      s.location = v ? v : "";
      break;
    }
    case PROP_FORMAT:
      s.format = (GstHicomexExportFormat) g_value_get_enum (value);
      break;
    case PROP_OVERWRITE:
      s.overwrite = g_value_get_boolean (value);
      break;
    case PROP_PROBABILITIES:
      s.probabilities = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_hicomex_export_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (object);
  std::lock_guard<std::mutex> lock (self->priv->lock);
  const ExportSettings & s = self->priv->settings;

  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string (value, s.location.empty ()? NULL : s.location.c_str ());
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, s.format);
      break;
    case PROP_OVERWRITE:
      g_value_set_boolean (value, s.overwrite);
      break;
    case PROP_PROBABILITIES:
      g_value_set_boolean (value, s.probabilities);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_hicomex_export_start (GstBaseTransform * trans)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (trans);
  ExportSettings settings;
  {
    std::lock_guard<std::mutex> lock (self->priv->lock);
    settings = self->priv->settings;
  }
  if (settings.location.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file name specified for writing."),
        ("set the location property"));
    return FALSE;
  }
  try {
    auto writer = std::make_unique<hicomex::ResultWriter> ();
    hicomex::ResultWriter::Options options;
    options.probabilities = settings.probabilities;
    writer->open (settings.location,
        settings.format == GST_HICOMEX_EXPORT_FORMAT_JSONL ?
        hicomex::ResultWriter::Format::JsonLines :
        hicomex::ResultWriter::Format::Csv, settings.overwrite, {}, options);
    self->priv->writer = std::move (writer);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not open file \"%s\" for writing.", settings.location.c_str ()),
        ("%s", e.what ()));
    return FALSE;
  }
  self->priv->frame = 0;
  self->priv->failed = false;
  self->priv->told_no_intensity = false;
  GST_DEBUG_OBJECT (self, "writing %s to %s",
      hicomex::ResultWriter::to_string (self->priv->writer->format ()),
      settings.location.c_str ());
  return TRUE;
}

/* Flushes what was written so far; reports a failure as a write error. */
static gboolean
flush_writer (GstHicomexExport * self)
{
  if (!self->priv->writer)
    return TRUE;
  if (self->priv->failed)
    return FALSE;
  try {
    self->priv->writer->flush ();
  } catch (const std::exception &e) {
    self->priv->failed = true;
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write to file \"%s\".", self->priv->writer->path ().c_str ()),
        ("%s", e.what ()));
    return FALSE;
  }
  return TRUE;
}

/* Always succeeds: a close that fails is reported on the bus, but refusing
 * the state change would leave the pads half deactivated and the pipeline
 * unable to reach NULL. */
static gboolean
gst_hicomex_export_stop (GstBaseTransform * trans)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (trans);
  std::unique_ptr<hicomex::ResultWriter> writer = std::move (self->priv->writer);

  if (writer && writer->frames_written () == 0) {
    /* Not one frame reached the exporter (the analyzer failed to start, a
     * camera gave up before its first frame): leave no empty file behind. */
    GST_INFO_OBJECT (self, "no frame reached %s: removing it",
        writer->path ().c_str ());
    writer->discard ();
  } else if (writer) {
    try {
      writer->close ();
      GST_DEBUG_OBJECT (self, "closed %s after %" G_GINT64_FORMAT " records",
          writer->path ().c_str (), (gint64) writer->rows_written ());
    } catch (const std::exception &e) {
      if (!self->priv->failed)
        GST_ELEMENT_ERROR (self, RESOURCE, CLOSE,
            ("Could not close file \"%s\".", writer->path ().c_str ()),
            ("%s", e.what ()));
      else
        GST_DEBUG_OBJECT (self, "close after a reported failure: %s", e.what ());
    }
  }
  self->priv->failed = false;
  return TRUE;
}

static gboolean
gst_hicomex_export_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
      /* FLUSH_START arrives from another thread while streaming may be busy;
       * the streaming thread owns the writer, so only flush when it is parked
       * (FLUSH_STOP, EOS: both serialised with the buffers). */
      if (GST_EVENT_TYPE (event) != GST_EVENT_FLUSH_START)
        flush_writer (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static double
stream_time_seconds (GstBaseTransform * trans, GstBuffer * buf)
{
  const GstClockTime pts = GST_BUFFER_PTS (buf);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return 0.0;
  if (trans->segment.format == GST_FORMAT_TIME) {
    const guint64 st = gst_segment_to_stream_time (&trans->segment,
        GST_FORMAT_TIME, pts);
    if (GST_CLOCK_TIME_IS_VALID (st))
      return (double) st / GST_SECOND;
  }
  return (double) pts / GST_SECOND;
}

static GstFlowReturn
gst_hicomex_export_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (trans);
  hicomex::ResultWriter *writer = self->priv->writer.get ();
  const std::int64_t frame = ++self->priv->frame;
  GstHicomexMeta *meta = gst_buffer_get_hicomex_meta (buf);

  if (!writer || !meta)
    return GST_FLOW_OK;
  if (self->priv->failed)
    return GST_FLOW_ERROR;
  try {
    /* The meta names the model's AUs even on frames without faces, which
     * fixes the CSV columns early; an empty meta says nothing. */
    if (meta->n_aus > 0 || meta->n_faces > 0)
      writer->set_au_ids (std::vector<int> (meta->au_ids,
              meta->au_ids + meta->n_aus));
    writer->write_frame (frame, stream_time_seconds (trans, buf),
        hicomex::gst::faces_from_meta (meta));
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write results of frame %" G_GINT64_FORMAT " to \"%s\".",
            (gint64) frame, writer->path ().c_str ()), ("%s", e.what ()));
    self->priv->failed = true;
    return GST_FLOW_ERROR;
  }
  if (!self->priv->told_no_intensity && writer->intensity ().has_value () &&
      !*writer->intensity () &&
      writer->format () == hicomex::ResultWriter::Format::Csv) {
    /* Once per file: the CSV differs from OpenFace's here. */
    self->priv->told_no_intensity = true;
    GST_ELEMENT_INFO (self, STREAM, FORMAT,
        ("The model predicts AU occurrence only (no intensity head): \"%s\" "
            "has no AUxx_r intensity columns; the probabilities are in the "
            "AUxx_p columns.", writer->path ().c_str ()),
        ("model %s", meta->model_id ? meta->model_id : "(unknown)"));
  }
  GST_LOG_OBJECT (self, "frame %" G_GINT64_FORMAT ": %u faces", (gint64) frame,
      meta->n_faces);
  return GST_FLOW_OK;
}
