#!/usr/bin/env bash
# The README's main job: set up (installs what is missing, builds), render the
# synthetic demo video once, and annotate it with the default model: ends with
# an annotated MP4 and its CSV under out/demo/, and says what to do next.
#   scripts/demo.sh            (HICOMEX_BUILD_DIR: build dir, default build/;
#                               HICOMEX_MODEL: another model than the default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HICOMEX_BUILD_DIR:-$root/build}
log() { printf '[demo] %s\n' "$*" >&2; }

"$root/scripts/setup.sh" "$build"
export HICOMEX_BUILD_DIR=$build

out=$root/out/demo
video=$out/demo.mp4
annotated=$out/demo-annotated.mp4
csv=$out/demo-annotated.csv
mkdir -p "$out"

# The bundled demo video: two synthetic faces changing expression, 10 s, with
# their ground truth (landmarks, AUs) in demo-truth.csv.
if [ ! -s "$video" ]; then
  log "rendering the synthetic demo video (hicomex-synth, a few seconds)"
  "$build/training/synth/hicomex-synth" video --out "$video" --csv "$out/demo-truth.csv" \
    --faces 2 --seconds 10 --fps 25 --size 640x480 --seed 1 >/dev/null
fi

# The default model, found by the hicomex element itself: $HICOMEX_MODEL, else
# models/hicomex-default.safetensors of the installation or of this tree.
model=${HICOMEX_MODEL:-$root/models/hicomex-default.safetensors}
[ -f "$model" ] || log "no $(basename "$model") here: trying the installed default model"

log "annotating $(basename "$video") with $(basename "$model")"
"$root/pipelines/hicomex-annotate" "$video" -o "$annotated" --csv "$csv" --overwrite

rows=$(($(wc -l <"$csv") - 1))
rel() { printf '%s\n' "${1#"$root"/}"; }
cat <<EOF

Done. On disk:
  $(rel "$annotated")   the demo video with faces, landmarks and action units drawn
  $(rel "$csv")   $rows face records (OpenFace-style CSV: frame, face_id, landmarks, AUxx_r intensity 0-5, AUxx_c presence)
  $(rel "$out/demo-truth.csv")   the ground truth the video was rendered from

Open them:
  xdg-open $(rel "$annotated")        # or: vlc / mpv / gst-play-1.0 $(rel "$annotated")
  python3 -c "import pandas as pd; print(pd.read_csv('$(rel "$csv")', skipinitialspace=True).filter(like='_c').mean())"

Next:
  pipelines/hicomex-annotate my-video.mkv -o my-video-annotated.mp4 --csv my-video.csv
  pipelines/hicomex-rtsp rtsp://CAMERA/stream --jsonl cam.jsonl --record cam.mp4
  pipelines/hicomex-webcam --device /dev/video0
  # a local RTSP "camera" serving the demo video, to try the RTSP pipeline:
  pipelines/hicomex-rtsp-server $(rel "$video") --port 8554 &
  pipelines/hicomex-rtsp rtsp://127.0.0.1:8554/cam --jsonl cam.jsonl --duration 20
More: docs/pipelines.md
EOF
