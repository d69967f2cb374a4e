/* Reads GstHicomexMeta from an appsink and prints each face's present AUs
 * with their probability and, for a model with an intensity head, their
 * intensity (0-5, calibrated when the analyzer calibrates) and raw intensity.
 * Shows the public metadata API from plain C:
 *
 *   cc hicomex-meta-reader.c -o hicomex-meta-reader \
 *     $(pkg-config --cflags --libs gst-hicomex-meta-1.0 gstreamer-app-1.0)
 *   ./hicomex-meta-reader "v4l2src num-buffers=100 ! videoconvert ! hicomex ! appsink name=sink"
 *
 * The pipeline must end in an appsink named "sink". Prints one line per face,
 * " AU12(p=0.91 i=2.31 raw=2.80)" per present AU ("AU12(p=0.91)" without
 * intensity), and a summary line "frames=N with-meta=M faces=F". */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "gsthicomexmeta.h"

static void
print_faces (guint64 frame, const GstHicomexMeta * meta)
{
  for (guint i = 0; i < meta->n_faces; i++) {
    const GstHicomexFace *face = &meta->faces[i];

    g_print ("frame %" G_GUINT64_FORMAT " face %d box %.0f,%.0f %.0fx%.0f:",
        frame, face->track_id, face->x, face->y, face->width, face->height);
    for (guint a = 0; a < meta->n_aus; a++) {
      gfloat intensity, raw;

      if (!face->au_occurrence[a])
        continue;
      g_print (" AU%02d(p=%.2f", meta->au_ids[a], face->au_probability[a]);
      /* FALSE for a model without an intensity head. */
      if (gst_hicomex_meta_get_au_intensity (meta, i, meta->au_ids[a],
              &intensity, &raw))
        g_print (" i=%.2f raw=%.2f", intensity, raw);
      g_print (")");
    }
    g_print ("\n");
  }
}

int
main (int argc, char **argv)
{
  GstElement *pipeline, *sink;
  GError *error = NULL;
  guint64 frames = 0, with_meta = 0, faces = 0;
  GstSample *sample;

  gst_init (&argc, &argv);
  if (argc != 2) {
    g_printerr ("usage: %s \"PIPELINE ! appsink name=sink\"\n", argv[0]);
    return 2;
  }
  pipeline = gst_parse_launch (argv[1], &error);
  if (!pipeline) {
    g_printerr ("bad pipeline: %s\n", error->message);
    g_error_free (error);
    return 2;
  }
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (!sink || !GST_IS_APP_SINK (sink)) {
    g_printerr ("the pipeline has no appsink named \"sink\"\n");
    return 2;
  }
  if (gst_element_set_state (pipeline,
          GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("the pipeline does not start\n");
    return 1;
  }
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstHicomexMeta *meta =
        gst_buffer_get_hicomex_meta (gst_sample_get_buffer (sample));

    frames++;
    if (meta) {
      with_meta++;
      faces += meta->n_faces;
      print_faces (frames, meta);
    }
    gst_sample_unref (sample);
  }
  g_print ("frames=%" G_GUINT64_FORMAT " with-meta=%" G_GUINT64_FORMAT
      " faces=%" G_GUINT64_FORMAT "\n", frames, with_meta, faces);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return 0;
}
