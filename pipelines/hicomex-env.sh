# Sourced by the hicomex-* pipeline scripts: finds the plugin and programs and
# offers small helpers. From the source tree (pipelines/ next to meson.build)
# it uses the build dir ($HICOMEX_BUILD_DIR, default build/): its plugin via
# GST_PLUGIN_PATH, its metadata library and typelib via LD_LIBRARY_PATH and
# GI_TYPELIB_PATH, and its programs; installed (bindir), it uses the installed
# plugin and the programs beside the script.
# shellcheck shell=bash

hx_name=$(basename "$0")
hx_here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)

hx_die() { printf '%s: %s\n' "$hx_name" "$*" >&2; exit "${hx_rc:-1}"; }
hx_log() { [ -n "${hx_quiet:-}" ] || printf '[%s] %s\n' "$hx_name" "$*" >&2; }

hx_bin_dir=$hx_here
if [ -f "$hx_here/../meson.build" ] && [ -d "$hx_here/../gst-plugin" ]; then
  hx_root=$(cd "$hx_here/.." && pwd)
  hx_build=${HICOMEX_BUILD_DIR:-$hx_root/build}
  case $hx_build in /*) ;; *) hx_build=$hx_root/$hx_build ;; esac
  if [ -f "$hx_build/gst-plugin/libgsthicomex.so" ]; then
    export GST_PLUGIN_PATH="$hx_build/gst-plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
    # The metadata library and its introspection data (GstHicomex-1.0.typelib),
    # for Python (PyGObject) programs started from here.
    export LD_LIBRARY_PATH="$hx_build/gst-plugin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    if [ -f "$hx_build/gst-plugin/GstHicomex-1.0.typelib" ]; then
      export GI_TYPELIB_PATH="$hx_build/gst-plugin${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}"
    fi
    hx_bin_dir=$hx_build/pipelines
  else
    hx_log "no plugin in $hx_build (run scripts/setup.sh, or set HICOMEX_BUILD_DIR); trying the installed one"
  fi
fi

# The plugin must load; say how to fix it when it does not.
hx_require_plugin() {
  command -v gst-launch-1.0 >/dev/null || hx_die "gst-launch-1.0 not found (apt-get install gstreamer1.0-tools)"
  gst-inspect-1.0 hicomex >/dev/null 2>&1 ||
    hx_die "the GStreamer plugin 'hicomex' is not found: build it (scripts/setup.sh) and run this script from the source tree, or install it (meson install)"
}

hx_have_element() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }

# A program of this project: the build tree's, else one on PATH.
hx_program() {
  if [ -x "$hx_bin_dir/$1" ]; then printf '%s\n' "$hx_bin_dir/$1"
  elif command -v "$1" >/dev/null; then command -v "$1"
  else hx_die "program '$1' not found (build the project: scripts/setup.sh)"; fi
}

# Quotes one word for a shell line only when it needs it.
hx_quote() {
  case $1 in
    *[!A-Za-z0-9_./:=,+@%^!-]*|'') printf "'%s'" "${1//\'/\'\\\'\'}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# Prints the equivalent gst-launch-1.0 line, to copy and adapt.
hx_print_launch() {
  [ -n "${hx_quiet:-}" ] && return 0
  local line="gst-launch-1.0" w
  for w in "$@"; do line+=" $(hx_quote "$w")"; done
  printf '[%s] pipeline:\n  %s\n' "$hx_name" "$line" >&2
}
