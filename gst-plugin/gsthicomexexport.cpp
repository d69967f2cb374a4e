/* GObject element code in GStreamer's gst-indent layout, as upstream's elements:
 * not clang-formatted. */
/* clang-format off */
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
 * With a location `mqtt://[user[:password]@]HOST[:PORT]/TOPIC` (or `mqtts://`
 * for TLS) the element publishes one JSON message per frame to an MQTT broker
 * instead: the frame's stamp and all its faces, in the layout of the JSON
 * lines records (docs/schema/hicomex-results-1.schema.json). Messages wait in
 * a bounded queue while the broker is away (#GstHicomexExport:queue-size,
 * #GstHicomexExport:queue-max-age) and are sent in order after a reconnect;
 * what had to be dropped is counted in #GstHicomexExport:stats and reported
 * with a warning on the bus.
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
#include "mqtt_publisher.h"

GST_DEBUG_CATEGORY_STATIC (gst_hicomex_export_debug);
#define GST_CAT_DEFAULT gst_hicomex_export_debug

namespace {

struct ExportSettings {
  std::string location;
  GstHicomexExportFormat format = GST_HICOMEX_EXPORT_FORMAT_CSV;
  bool overwrite = false;
  bool probabilities = false;
  /* MQTT (location mqtt://...). */
  hicomex::gst::MqttOptions mqtt;
  double connect_timeout_s = 10.0;
  double drain_timeout_s = 10.0;
  bool per_face_topics = false;
};

/* Settings under a lock (application thread); the writer and the frame
 * counter belong to the streaming thread between start() and stop(). */
struct ExportPrivate {
  std::mutex lock;
  ExportSettings settings;
  std::unique_ptr<hicomex::ResultWriter> writer;
  /* Instead of the writer, for an mqtt:// location. */
  std::unique_ptr<hicomex::gst::MqttPublisher> mqtt;
  std::string mqtt_topic;
  bool per_face_topics = false;
  double drain_timeout_s = 10.0;
  std::string mqtt_url;  /* redacted, for messages */
  /* The counters when the last publisher closed (stats after stop). */
  hicomex::gst::MqttStats last_stats;
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
  PROP_QOS,
  PROP_CLIENT_ID,
  PROP_KEEP_ALIVE,
  PROP_USERNAME,
  PROP_PASSWORD,
  PROP_CA_FILE,
  PROP_QUEUE_SIZE,
  PROP_QUEUE_MAX_AGE,
  PROP_CONNECT_TIMEOUT,
  PROP_DRAIN_TIMEOUT,
  PROP_PER_FACE_TOPICS,
  PROP_STATS,
};

#define DEFAULT_LOCATION NULL
#define DEFAULT_FORMAT GST_HICOMEX_EXPORT_FORMAT_CSV
#define DEFAULT_OVERWRITE FALSE
#define DEFAULT_PROBABILITIES FALSE
#define DEFAULT_QOS 1
#define DEFAULT_KEEP_ALIVE 30
#define DEFAULT_QUEUE_SIZE 10000
#define DEFAULT_QUEUE_MAX_AGE 0.0
#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_DRAIN_TIMEOUT 10.0
#define DEFAULT_PER_FACE_TOPICS FALSE

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
static GstStructure *mqtt_stats_structure (GstHicomexExport * self);
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

  /**
   * GstHicomexExport:qos:
   *
   * MQTT quality of service: 0 (at most once) or 1 (at least once: the
   * broker confirms every message; unconfirmed ones are sent again after a
   * reconnect). Default: 1.
   */
  g_object_class_install_property (gobject_class, PROP_QOS,
      g_param_spec_int ("qos", "MQTT QoS",
          "MQTT quality of service: 0 at most once, 1 at least once", 0, 1,
          DEFAULT_QOS, flags));
  g_object_class_install_property (gobject_class, PROP_CLIENT_ID,
      g_param_spec_string ("client-id", "MQTT client id",
          "MQTT client identifier (NULL: a random one)", NULL, flags));
  g_object_class_install_property (gobject_class, PROP_KEEP_ALIVE,
      g_param_spec_uint ("keep-alive", "MQTT keep-alive",
          "Seconds between MQTT keep-alive pings", 5, 3600, DEFAULT_KEEP_ALIVE,
          flags));
  g_object_class_install_property (gobject_class, PROP_USERNAME,
      g_param_spec_string ("username", "MQTT user name",
          "MQTT user name (overrides one in the location URL)", NULL, flags));
  /**
   * GstHicomexExport:password:
   *
   * MQTT password (overrides one in the location URL). Write-only, and never
   * written to logs or messages.
   */
  g_object_class_install_property (gobject_class, PROP_PASSWORD,
      g_param_spec_string ("password", "MQTT password",
          "MQTT password (write-only; never logged)", NULL,
          (GParamFlags) (G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_CA_FILE,
      g_param_spec_string ("ca-file", "TLS CA file",
          "PEM file of the certificate authorities to trust; turns TLS on "
          "(mqtts:// without it uses the system's)", NULL, flags));
  /**
   * GstHicomexExport:queue-size:
   *
   * MQTT: messages kept while the broker is away (or slower than the video).
   * When full, the oldest message not yet sent is dropped; drops are counted
   * in #GstHicomexExport:stats and reported with a warning. Default: 10000.
   */
  g_object_class_install_property (gobject_class, PROP_QUEUE_SIZE,
      g_param_spec_uint ("queue-size", "Queue size",
          "MQTT: messages kept while the broker is away (oldest dropped beyond)",
          1, G_MAXINT, DEFAULT_QUEUE_SIZE, flags));
  g_object_class_install_property (gobject_class, PROP_QUEUE_MAX_AGE,
      g_param_spec_double ("queue-max-age", "Queue max age",
          "MQTT: seconds a message may wait for the broker before it is dropped "
          "(0: no limit)", 0.0, 1e7, DEFAULT_QUEUE_MAX_AGE, flags));
  /**
   * GstHicomexExport:connect-timeout:
   *
   * MQTT: seconds to wait for the broker when the element starts; if it does
   * not answer, the state change fails with an error naming the URL. 0: do
   * not wait (live use: start at once, queue, and keep reconnecting).
   * Default: 10.
   */
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_double ("connect-timeout", "Connect timeout",
          "MQTT: seconds to wait for the broker at start (0: do not wait, "
          "keep reconnecting)", 0.0, 3600.0, DEFAULT_CONNECT_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_DRAIN_TIMEOUT,
      g_param_spec_double ("drain-timeout", "Drain timeout",
          "MQTT: seconds to wait at EOS and stop for queued messages to reach "
          "the broker", 0.0, 3600.0, DEFAULT_DRAIN_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_PER_FACE_TOPICS,
      g_param_spec_boolean ("per-face-topics", "Per-face topics",
          "MQTT: also publish each face's record to TOPIC/face/<id>",
          DEFAULT_PER_FACE_TOPICS, flags));
  /**
   * GstHicomexExport:stats:
   *
   * MQTT delivery counters: published, dropped, queued, reconnects (guint64)
   * and connected (boolean). Also posted as the element message
   * "hicomex-mqtt-stats" at EOS and at stop.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics", "MQTT delivery counters",
          GST_TYPE_STRUCTURE,
          (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

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
    case PROP_QOS:
      s.mqtt.qos = g_value_get_int (value);
      break;
    case PROP_CLIENT_ID:{
      const gchar *v = g_value_get_string (value);
      s.mqtt.client_id = v ? v : "";
      break;
    }
    case PROP_KEEP_ALIVE:
      s.mqtt.keep_alive_s = (int) g_value_get_uint (value);
      break;
    case PROP_USERNAME:{
      const gchar *v = g_value_get_string (value);
      s.mqtt.username = v ? v : "";
      break;
    }
    case PROP_PASSWORD:{
      const gchar *v = g_value_get_string (value);
      s.mqtt.password = v ? v : "";
      break;
    }
    case PROP_CA_FILE:{
      const gchar *v = g_value_get_string (value);
      s.mqtt.ca_file = v ? v : "";
      break;
    }
    case PROP_QUEUE_SIZE:
      s.mqtt.queue_limit = g_value_get_uint (value);
      break;
    case PROP_QUEUE_MAX_AGE:
      s.mqtt.queue_max_age_s = g_value_get_double (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      s.connect_timeout_s = g_value_get_double (value);
      break;
    case PROP_DRAIN_TIMEOUT:
      s.drain_timeout_s = g_value_get_double (value);
      break;
    case PROP_PER_FACE_TOPICS:
      s.per_face_topics = g_value_get_boolean (value);
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
    case PROP_QOS:
      g_value_set_int (value, s.mqtt.qos);
      break;
    case PROP_CLIENT_ID:
      g_value_set_string (value,
          s.mqtt.client_id.empty ()? NULL : s.mqtt.client_id.c_str ());
      break;
    case PROP_KEEP_ALIVE:
      g_value_set_uint (value, (guint) s.mqtt.keep_alive_s);
      break;
    case PROP_USERNAME:
      g_value_set_string (value,
          s.mqtt.username.empty ()? NULL : s.mqtt.username.c_str ());
      break;
    case PROP_CA_FILE:
      g_value_set_string (value,
          s.mqtt.ca_file.empty ()? NULL : s.mqtt.ca_file.c_str ());
      break;
    case PROP_QUEUE_SIZE:
      g_value_set_uint (value, (guint) s.mqtt.queue_limit);
      break;
    case PROP_QUEUE_MAX_AGE:
      g_value_set_double (value, s.mqtt.queue_max_age_s);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_double (value, s.connect_timeout_s);
      break;
    case PROP_DRAIN_TIMEOUT:
      g_value_set_double (value, s.drain_timeout_s);
      break;
    case PROP_PER_FACE_TOPICS:
      g_value_set_boolean (value, s.per_face_topics);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, mqtt_stats_structure (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

/* The MQTT counters as a structure; priv->lock held. */
static GstStructure *
mqtt_stats_structure (GstHicomexExport * self)
{
  ExportPrivate *priv = self->priv;
  const hicomex::gst::MqttStats st =
      priv->mqtt ? priv->mqtt->stats () : priv->last_stats;

  return gst_structure_new ("hicomex-mqtt-stats",
      "url", G_TYPE_STRING, priv->mqtt_url.c_str (),
      "published", G_TYPE_UINT64, (guint64) st.published,
      "dropped", G_TYPE_UINT64, (guint64) st.dropped,
      "queued", G_TYPE_UINT64, (guint64) st.queued,
      "reconnects", G_TYPE_UINT64, (guint64) st.reconnects,
      "connected", G_TYPE_BOOLEAN, (gboolean) st.connected, NULL);
}

static void
post_mqtt_stats (GstHicomexExport * self)
{
  GstStructure *st;
  {
    std::lock_guard<std::mutex> lock (self->priv->lock);
    st = mqtt_stats_structure (self);
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), st));
}

/* Called by the publisher's network thread (and by close()). */
static void
on_mqtt_event (GstHicomexExport * self, const std::string & url,
    std::size_t queue_size, const hicomex::gst::MqttPublisher::Event & e)
{
  using Kind = hicomex::gst::MqttPublisher::EventKind;
  switch (e.kind) {
    case Kind::Connected:
      GST_INFO_OBJECT (self, "connected to %s", url.c_str ());
      break;
    case Kind::Reconnected:
      GST_ELEMENT_INFO (self, RESOURCE, WRITE,
          ("Reconnected to MQTT broker %s; sending the %" G_GUINT64_FORMAT
              " results queued meanwhile.", url.c_str (), (guint64) e.count),
          (NULL));
      break;
    case Kind::Disconnected:
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("Lost the connection to MQTT broker %s; queueing results (up to %"
              G_GSIZE_FORMAT " messages) and reconnecting.", url.c_str (),
              queue_size), ("%s", e.text.c_str ()));
      break;
    case Kind::Dropped:
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
          ("MQTT broker %s: %" G_GUINT64_FORMAT " result messages dropped "
              "(queue-size / queue-max-age reached%s).", url.c_str (),
              (guint64) e.count, e.text == "closed" ?
              ", or still queued when the element stopped" : ""),
          ("the stats property and the hicomex-mqtt-stats message count all drops"));
      break;
    case Kind::Refused:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
          ("MQTT broker %s refused the connection (check username/password).",
              url.c_str ()), ("%s", e.text.c_str ()));
      break;
  }
}

/* Starts publishing to an mqtt:// location; FALSE with an ERROR posted. */
static gboolean
start_mqtt (GstHicomexExport * self, const ExportSettings & settings)
{
  hicomex::gst::MqttOptions options = settings.mqtt;
  try {
    options.url = hicomex::gst::MqttUrl::parse (settings.location);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid MQTT location: %s", e.what ()), ("property location"));
    return FALSE;
  }
  const std::string url = options.url.redacted ();
  const std::size_t queue_size = options.queue_limit;
  std::unique_ptr<hicomex::gst::MqttPublisher> publisher;
  try {
    publisher = std::make_unique<hicomex::gst::MqttPublisher> (options,
        [self, url, queue_size] (const hicomex::gst::MqttPublisher::Event & e) {
          on_mqtt_event (self, url, queue_size, e);
        });
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Cannot publish to MQTT broker %s: %s", url.c_str (), e.what ()),
        (NULL));
    return FALSE;
  }
  if (settings.connect_timeout_s > 0.0) {
    std::string why;
    if (!publisher->wait_connected (settings.connect_timeout_s, &why)) {
      publisher->close (0.0);
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Could not connect to MQTT broker %s within %g s: %s", url.c_str (),
              settings.connect_timeout_s, why.c_str ()),
          ("set connect-timeout=0 to start anyway and keep reconnecting"));
      return FALSE;
    }
  }
  GST_DEBUG_OBJECT (self, "publishing to %s (QoS %d)", url.c_str (),
      options.qos);
  std::lock_guard<std::mutex> lock (self->priv->lock);
  self->priv->mqtt = std::move (publisher);
  self->priv->mqtt_topic = options.url.topic;
  self->priv->mqtt_url = url;
  self->priv->per_face_topics = settings.per_face_topics;
  self->priv->drain_timeout_s = settings.drain_timeout_s;
  return TRUE;
}

/* Closes the publisher (waiting drain-timeout for the queue), keeping its
 * final counters for the stats property. */
static void
stop_mqtt (GstHicomexExport * self)
{
  std::unique_ptr<hicomex::gst::MqttPublisher> publisher;
  double drain = 0.0;
  {
    std::lock_guard<std::mutex> lock (self->priv->lock);
    publisher = std::move (self->priv->mqtt);
    drain = self->priv->drain_timeout_s;
  }
  if (!publisher)
    return;
  publisher->close (drain);
  {
    std::lock_guard<std::mutex> lock (self->priv->lock);
    self->priv->last_stats = publisher->stats ();
  }
  post_mqtt_stats (self);
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
  self->priv->frame = 0;
  self->priv->failed = false;
  self->priv->told_no_intensity = false;
  if (hicomex::gst::MqttUrl::is_mqtt (settings.location))
    return start_mqtt (self, settings);
  if (g_str_has_prefix (settings.location.c_str (), "file:")) {
    GError *err = NULL;
    gchar *path = g_filename_from_uri (settings.location.c_str (), NULL, &err);
    if (!path) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid file URI \"%s\".", settings.location.c_str ()),
          ("%s", err->message));
      g_error_free (err);
      return FALSE;
    }
    settings.location = path;
    g_free (path);
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

  stop_mqtt (self);

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

/* EOS: the results reach the broker before EOS goes on downstream. */
static void
drain_mqtt (GstHicomexExport * self)
{
  const std::size_t left = self->priv->mqtt->drain (self->priv->drain_timeout_s);
  if (left > 0)
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("%" G_GSIZE_FORMAT " results had not reached MQTT broker %s %g s "
            "after EOS.", left, self->priv->mqtt_url.c_str (),
            self->priv->drain_timeout_s),
        ("they are counted as dropped when the element stops"));
  post_mqtt_stats (self);
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
      if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->priv->mqtt)
        drain_mqtt (self);
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

/* The frame's wall-clock time: a unix reference timestamp meta when the
 * source attached one (a camera's capture time), else now. */
static std::string
frame_utc (GstBuffer * buf)
{
  static GstCaps *unix_caps = gst_caps_new_empty_simple ("timestamp/x-unix");
  GstReferenceTimestampMeta *ref =
      gst_buffer_get_reference_timestamp_meta (buf, unix_caps);
  if (ref && GST_CLOCK_TIME_IS_VALID (ref->timestamp))
    return hicomex::ResultWriter::utc_iso8601 ((std::int64_t) (ref->timestamp /
            GST_USECOND));
  return hicomex::ResultWriter::utc_iso8601 (g_get_real_time ());
}

static GstFlowReturn
publish_frame (GstHicomexExport * self, GstBaseTransform * trans,
    GstBuffer * buf, GstHicomexMeta * meta, std::int64_t frame)
{
  ExportPrivate *priv = self->priv;
  hicomex::ResultWriter::FrameStamp stamp;
  stamp.frame = frame;
  stamp.timestamp_s = stream_time_seconds (trans, buf);
  stamp.utc = frame_utc (buf);
  stamp.model_id = meta->model_id ? meta->model_id : "";
  const std::vector<int> au_ids (meta->au_ids, meta->au_ids + meta->n_aus);
  try {
    const std::vector<hicomex::FaceResult> faces =
        hicomex::gst::faces_from_meta (meta);
    priv->mqtt->publish (priv->mqtt_topic,
        hicomex::ResultWriter::frame_record_json (stamp, faces, au_ids));
    if (priv->per_face_topics)
      for (const hicomex::FaceResult & f : faces)
        priv->mqtt->publish (priv->mqtt_topic + "/face/" +
            std::to_string (f.track_id),
            hicomex::ResultWriter::face_record_json (stamp, f, au_ids));
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not publish the results of frame %" G_GINT64_FORMAT " to %s.",
            (gint64) frame, priv->mqtt_url.c_str ()), ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_hicomex_export_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstHicomexExport *self = GST_HICOMEX_EXPORT (trans);
  hicomex::ResultWriter *writer = self->priv->writer.get ();
  const std::int64_t frame = ++self->priv->frame;
  GstHicomexMeta *meta = gst_buffer_get_hicomex_meta (buf);

  if (meta && self->priv->mqtt)
    return publish_frame (self, trans, buf, meta, frame);
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
        hicomex::gst::faces_from_meta (meta), frame_utc (buf));
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
