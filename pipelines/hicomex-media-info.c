/* hicomex-media-info: what a media file or URI holds, as one JSON line.
 *
 *   hicomex-media-info [--timeout S] FILE|URI
 *   {"uri":"file:///...","video":true,"audio":false,"width":640,"height":480,
 *    "framerate":"25/1","duration_s":4.000,"seekable":true}
 *
 * The pipeline scripts ask it before building a launch line (an audio branch
 * only when there is audio; a clear message for a missing file or one without
 * video), the way gst-discoverer-1.0 would, which Debian packages separately.
 * Exit status: 0 with a video stream, 1 otherwise (reason on stderr), 2 on
 * bad arguments. */
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <stdio.h>

int main(int argc, char** argv) {
  gint timeout_s = 10;
  GOptionEntry entries[] = {
      {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s, "give up after S seconds (default 10)", "S"}, {NULL}};
  GOptionContext* ctx = g_option_context_new("FILE|URI - print the streams of a media file as JSON");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  GError* error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2 || timeout_s <= 0) {
    g_printerr("hicomex-media-info: %s (see --help)\n",
               error ? error->message : "expected one FILE or URI and a positive --timeout");
    return 2;
  }
  g_option_context_free(ctx);

  const gchar* arg = argv[1];
  gchar* uri = NULL;
  if (gst_uri_is_valid(arg)) {
    uri = g_strdup(arg);
  } else {
    if (!g_file_test(arg, G_FILE_TEST_EXISTS)) {
      g_printerr("hicomex-media-info: no such file: %s\n", arg);
      return 1;
    }
    if (g_file_test(arg, G_FILE_TEST_IS_DIR)) {
      g_printerr("hicomex-media-info: %s is a directory, not a media file\n", arg);
      return 1;
    }
    uri = gst_filename_to_uri(arg, &error);
    if (uri == NULL) {
      g_printerr("hicomex-media-info: %s: %s\n", arg, error->message);
      return 1;
    }
  }

  GstDiscoverer* discoverer = gst_discoverer_new((GstClockTime)timeout_s * GST_SECOND, &error);
  if (discoverer == NULL) {
    g_printerr("hicomex-media-info: %s\n", error->message);
    return 1;
  }
  GstDiscovererInfo* info = gst_discoverer_discover_uri(discoverer, uri, &error);
  GstDiscovererResult result = info ? gst_discoverer_info_get_result(info) : GST_DISCOVERER_ERROR;
  if (result != GST_DISCOVERER_OK) {
    const gchar* why = error ? error->message : "unknown error";
    if (result == GST_DISCOVERER_TIMEOUT)
      why = "timed out";
    else if (result == GST_DISCOVERER_MISSING_PLUGINS)
      why = "a GStreamer plugin needed to decode it is missing";
    g_printerr("hicomex-media-info: %s is not a media file GStreamer can read (%s)\n", arg, why);
    return 1;
  }

  GList* videos = gst_discoverer_info_get_video_streams(info);
  GList* audios = gst_discoverer_info_get_audio_streams(info);
  GstClockTime duration = gst_discoverer_info_get_duration(info);
  gint width = 0, height = 0;
  guint fps_n = 0, fps_d = 1;
  gboolean image = FALSE;
  if (videos) {
    GstDiscovererVideoInfo* v = videos->data;
    width = gst_discoverer_video_info_get_width(v);
    height = gst_discoverer_video_info_get_height(v);
    fps_n = gst_discoverer_video_info_get_framerate_num(v);
    fps_d = gst_discoverer_video_info_get_framerate_denom(v);
    image = gst_discoverer_video_info_is_image(v);
  }
  gchar* escaped = g_strescape(uri, NULL);
  printf(
      "{\"uri\":\"%s\",\"video\":%s,\"image\":%s,\"audio\":%s,\"width\":%d,\"height\":%d,"
      "\"framerate\":\"%u/%u\",\"duration_s\":%.3f,\"seekable\":%s}\n",
      escaped, videos ? "true" : "false", image ? "true" : "false", audios ? "true" : "false", width, height, fps_n,
      fps_d, GST_CLOCK_TIME_IS_VALID(duration) ? (double)duration / GST_SECOND : 0.0,
      gst_discoverer_info_get_seekable(info) ? "true" : "false");
  int rc = 0;
  if (videos == NULL) {
    g_printerr("hicomex-media-info: %s has no video stream\n", arg);
    rc = 1;
  }
  g_free(escaped);
  gst_discoverer_stream_info_list_free(videos);
  gst_discoverer_stream_info_list_free(audios);
  gst_discoverer_info_unref(info);
  g_object_unref(discoverer);
  g_free(uri);
  return rc;
}
