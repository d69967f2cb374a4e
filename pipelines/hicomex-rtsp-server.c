/* hicomex-rtsp-server: a local RTSP "camera" that serves a video file in a loop.
 *
 *   hicomex-rtsp-server FILE [--port 8554] [--address 127.0.0.1] [--mount /cam]
 *                            [--codec h264|h265|mjpeg] [--loops N]
 *
 * For demos and the end-to-end tests: the file (any container/codec decodebin
 * handles) is decoded by a reader pipeline of the server's own, and its frames
 * are handed to each RTSP media through an appsrc with continuous timestamps,
 * so the stream runs on at the file's frame rate while the file loops.
 * (A segment seek inside the media pipeline would be the textbook loop, but
 * the media's bus belongs to GstRTSPMedia.) The media is shared: every client
 * sees the same live stream, as with a real camera.
 *
 * Prints one line "hicomex-rtsp-server: serving FILE at rtsp://ADDR:PORT/MOUNT ..."
 * on stdout once it listens (--port 0 picks a free port), and stops cleanly on
 * SIGINT/SIGTERM. */
#include <glib-unix.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  gchar* path;
  gint loops; /* 0: forever */
} ServerConfig;

/* One per media: the decoding pipeline and the restamping state. */
typedef struct {
  const ServerConfig* config;
  GstElement* reader;
  GstAppSink* sink;
  gboolean caps_set;
  guint64 frames; /* pushed so far: the next PTS is frames * duration */
  gint loops_done;
} MediaFeed;

static GstElement* make_reader(const gchar* path, GError** error) {
  GstElement* reader = gst_parse_launch(
      "filesrc name=src ! decodebin ! "
      "videoconvert ! video/x-raw,format=I420 ! "
      "appsink name=sink sync=false max-buffers=8",
      error);
  if (reader == NULL) return NULL;
  GstElement* src = gst_bin_get_by_name(GST_BIN(reader), "src");
  g_object_set(src, "location", path, NULL);
  gst_object_unref(src);
  return reader;
}

/* The first error on the reader's bus, if any (the reader runs without a
 * main loop, so the bus is polled). */
static gchar* reader_error(GstElement* reader) {
  GstBus* bus = gst_element_get_bus(reader);
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  gst_object_unref(bus);
  if (msg == NULL) return NULL;
  GError* err = NULL;
  gchar* dbg = NULL;
  gst_message_parse_error(msg, &err, &dbg);
  gchar* text = g_strdup_printf("%s (%s)", err->message, dbg ? dbg : "");
  g_clear_error(&err);
  g_free(dbg);
  gst_message_unref(msg);
  return text;
}

/* Decodes the first frame: fails with a message naming the file when it is
 * missing or has no video. Fills the caps of the decoded frames. */
static gboolean probe_file(const gchar* path, GstCaps** caps, gchar** why) {
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
    *why = g_strdup_printf("no such file: %s", path);
    return FALSE;
  }
  GError* error = NULL;
  GstElement* reader = make_reader(path, &error);
  if (reader == NULL) {
    *why = g_strdup_printf("cannot build the reader: %s", error->message);
    g_clear_error(&error);
    return FALSE;
  }
  gst_element_set_state(reader, GST_STATE_PLAYING);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(reader), "sink");
  /* Short pulls, so an error (not a video) ends the wait at once. */
  GstSample* sample = NULL;
  gchar* err = NULL;
  for (int i = 0; i < 100 && sample == NULL && err == NULL; ++i) {
    sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), GST_SECOND / 10);
    if (sample == NULL && gst_app_sink_is_eos(GST_APP_SINK(sink))) break;
    if (sample == NULL) err = reader_error(reader);
  }
  gboolean ok = sample != NULL;
  if (ok) {
    *caps = gst_caps_ref(gst_sample_get_caps(sample));
    gst_sample_unref(sample);
  } else {
    if (err == NULL) err = reader_error(reader);
    *why = g_strdup_printf("%s has no decodable video stream%s%s", path, err ? ": " : "", err ? err : "");
    g_free(err);
  }
  gst_object_unref(sink);
  gst_element_set_state(reader, GST_STATE_NULL);
  gst_object_unref(reader);
  return ok;
}

static void media_feed_free(gpointer data) {
  MediaFeed* feed = data;
  if (feed->reader) {
    gst_element_set_state(feed->reader, GST_STATE_NULL);
    gst_object_unref(feed->reader);
  }
  g_free(feed);
}

/* appsrc wants a frame: the next decoded one, the file rewound at its end. */
static void on_need_data(GstAppSrc* src, guint length, gpointer user_data) {
  (void)length;
  MediaFeed* feed = user_data;
  GstSample* sample = NULL;
  for (int attempt = 0; attempt < 2 && sample == NULL; ++attempt) {
    sample = gst_app_sink_try_pull_sample(feed->sink, 10 * GST_SECOND);
    if (sample != NULL || !gst_app_sink_is_eos(feed->sink)) break;
    feed->loops_done++;
    if (feed->config->loops > 0 && feed->loops_done >= feed->config->loops) break;
    gst_element_seek_simple(feed->reader, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0);
  }
  if (sample == NULL) {
    gchar* err = reader_error(feed->reader);
    if (err != NULL) {
      g_printerr("hicomex-rtsp-server: reading %s failed: %s\n", feed->config->path, err);
      g_free(err);
    }
    gst_app_src_end_of_stream(src);
    return;
  }

  GstCaps* caps = gst_sample_get_caps(sample);
  gint fps_n = 25, fps_d = 1;
  GstStructure* s = gst_caps_get_structure(caps, 0);
  if (!gst_structure_get_fraction(s, "framerate", &fps_n, &fps_d) || fps_n <= 0) {
    fps_n = 25;
    fps_d = 1;
  }
  if (!feed->caps_set) {
    gst_app_src_set_caps(src, caps);
    feed->caps_set = TRUE;
  }
  /* A new buffer header sharing the frame's memory, stamped on the stream's
   * own continuous clock rather than the file's, which restarts every loop. */
  GstBuffer* buf = gst_buffer_copy(gst_sample_get_buffer(sample));
  GST_BUFFER_PTS(buf) = gst_util_uint64_scale(feed->frames, GST_SECOND * fps_d, fps_n);
  GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND * fps_d, fps_n);
  feed->frames++;
  gst_sample_unref(sample);
  gst_app_src_push_buffer(src, buf);
}

static void on_media_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media, gpointer user_data) {
  (void)factory;
  const ServerConfig* config = user_data;
  GstElement* bin = gst_rtsp_media_get_element(media);
  GstElement* src = gst_bin_get_by_name_recurse_up(GST_BIN(bin), "src");
  MediaFeed* feed = g_new0(MediaFeed, 1);
  feed->config = config;
  GError* error = NULL;
  feed->reader = make_reader(config->path, &error);
  if (feed->reader == NULL) {
    g_printerr("hicomex-rtsp-server: %s\n", error->message);
    g_clear_error(&error);
  } else {
    GstElement* sink = gst_bin_get_by_name(GST_BIN(feed->reader), "sink");
    feed->sink = GST_APP_SINK(sink);
    gst_object_unref(sink); /* the reader keeps it alive */
    gst_element_set_state(feed->reader, GST_STATE_PLAYING);
  }
  g_object_set(src, "format", GST_FORMAT_TIME, "is-live", FALSE, NULL);
  GstAppSrcCallbacks callbacks = {0};
  callbacks.need_data = on_need_data;
  gst_app_src_set_callbacks(GST_APP_SRC(src), &callbacks, feed, NULL);
  /* Freed with the media's pipeline bin. */
  g_object_set_data_full(G_OBJECT(bin), "hicomex-feed", feed, media_feed_free);
  gst_object_unref(src);
  gst_object_unref(bin);
}

static gchar* media_launch(const gchar* codec, gint key_interval) {
  if (g_strcmp0(codec, "h264") == 0)
    return g_strdup_printf(
        "( appsrc name=src ! videoconvert ! x264enc tune=zerolatency "
        "speed-preset=ultrafast key-int-max=%d ! rtph264pay name=pay0 pt=96 "
        "config-interval=-1 )",
        key_interval);
  if (g_strcmp0(codec, "h265") == 0)
    return g_strdup_printf(
        "( appsrc name=src ! videoconvert ! x265enc tune=zerolatency "
        "speed-preset=ultrafast key-int-max=%d ! rtph265pay name=pay0 pt=96 "
        "config-interval=-1 )",
        key_interval);
  if (g_strcmp0(codec, "mjpeg") == 0)
    return g_strdup(
        "( appsrc name=src ! videoconvert ! jpegenc quality=85 ! "
        "rtpjpegpay name=pay0 pt=26 )");
  return NULL;
}

static gboolean on_signal(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char** argv) {
  gint port = 8554, loops = 0;
  gchar *address = NULL, *mount = NULL, *codec = NULL;
  GOptionEntry entries[] = {{"port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port (0: a free one, printed)", "8554"},
                            {"address", 'a', 0, G_OPTION_ARG_STRING, &address,
                             "address to listen on (default 127.0.0.1; 0.0.0.0 for the network)", "ADDR"},
                            {"mount", 'm', 0, G_OPTION_ARG_STRING, &mount, "mount point (default /cam)", "PATH"},
                            {"codec", 'c', 0, G_OPTION_ARG_STRING, &codec, "h264 (default), h265 or mjpeg", "CODEC"},
                            {"loops", 'n', 0, G_OPTION_ARG_INT, &loops,
                             "play the file N times, then end the stream (default 0: forever)", "N"},
                            {NULL}};
  GOptionContext* ctx = g_option_context_new("FILE - serve a video file as a looping RTSP camera");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  GError* error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    g_printerr("hicomex-rtsp-server: %s (see --help)\n", error->message);
    return 2;
  }
  g_option_context_free(ctx);
  if (argc != 2) {
    g_printerr("hicomex-rtsp-server: expected one video FILE (see --help)\n");
    return 2;
  }
  if (port < 0 || port > 65535 || loops < 0) {
    g_printerr("hicomex-rtsp-server: --port must be 0..65535 and --loops >= 0\n");
    return 2;
  }
  if (!address) address = g_strdup("127.0.0.1");
  if (!mount) mount = g_strdup("/cam");
  if (!codec) codec = g_strdup("h264");
  if (mount[0] != '/') {
    g_printerr("hicomex-rtsp-server: --mount must start with '/', got '%s'\n", mount);
    return 2;
  }

  ServerConfig config = {g_strdup(argv[1]), loops};
  GstCaps* caps = NULL;
  gchar* why = NULL;
  if (!probe_file(config.path, &caps, &why)) {
    g_printerr("hicomex-rtsp-server: %s\n", why);
    return 1;
  }
  GstStructure* s = gst_caps_get_structure(caps, 0);
  gint width = 0, height = 0, fps_n = 25, fps_d = 1;
  gst_structure_get_int(s, "width", &width);
  gst_structure_get_int(s, "height", &height);
  if (!gst_structure_get_fraction(s, "framerate", &fps_n, &fps_d) || fps_n <= 0) {
    fps_n = 25;
    fps_d = 1;
  }
  gst_caps_unref(caps);
  /* A key frame every second: a client that (re)connects decodes at once. */
  gchar* launch = media_launch(codec, MAX(1, fps_n / fps_d));
  if (launch == NULL) {
    g_printerr("hicomex-rtsp-server: unknown --codec '%s' (h264, h265, mjpeg)\n", codec);
    return 2;
  }

  GstRTSPServer* server = gst_rtsp_server_new();
  gchar* service = g_strdup_printf("%d", port);
  gst_rtsp_server_set_address(server, address);
  gst_rtsp_server_set_service(server, service);
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch);
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  g_signal_connect(factory, "media-configure", G_CALLBACK(on_media_configure), &config);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  gst_rtsp_mount_points_add_factory(mounts, mount, factory);
  g_object_unref(mounts);

  GMainLoop* loop = g_main_loop_new(NULL, FALSE);
  if (gst_rtsp_server_attach(server, NULL) == 0) {
    g_printerr("hicomex-rtsp-server: cannot listen on %s:%d (port in use?)\n", address, port);
    return 1;
  }
  printf("hicomex-rtsp-server: serving %s at rtsp://%s:%d%s (%s, %dx%d @ %d/%d fps, %s)\n", config.path, address,
         gst_rtsp_server_get_bound_port(server), mount, codec, width, height, fps_n, fps_d,
         loops == 0 ? "looping" : "finite");
  fflush(stdout);
  g_unix_signal_add(SIGINT, on_signal, loop);
  g_unix_signal_add(SIGTERM, on_signal, loop);
  g_main_loop_run(loop);

  g_main_loop_unref(loop);
  g_object_unref(server);
  g_free(launch);
  g_free(service);
  g_free(config.path);
  g_free(address);
  g_free(mount);
  g_free(codec);
  return 0;
}
