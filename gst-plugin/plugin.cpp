/* GObject element code in GStreamer's gst-indent layout, as upstream's elements:
 * not clang-formatted. */
/* clang-format off */
/* The hicomex plugin: facial action unit analysis for GStreamer. */
#include <gst/gst.h>

#include "hicomex_config.h"
#include "gsthicomex.h"
#include "gsthicomexexport.h"
#include "gsthicomexoverlay.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (hicomex, plugin);
  ret |= GST_ELEMENT_REGISTER (hicomexoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (hicomexexport, plugin);
  return ret;
}

#define PACKAGE "hicomex"

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hicomex,
    "Facial action unit detection (HiCOMEX): analyzer, overlay and result export",
    plugin_init, HICOMEX_VERSION, "MIT/X11", "hicomex",
    "HiCOMEX-for-GStreamer")
