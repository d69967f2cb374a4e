#!/usr/bin/env bash
# The embedded default model, end to end on video: renders the fixed synthetic
# video named in the "video" part of models/hicomex-default.check.json (seed not
# used for training), runs hicomex-analyze on it (the project's face detector,
# 68-point landmarker, tracker, alignment and the default weights: the deployed
# path), scores the CSV against the video's ground truth with score_video.py, and
# compares the mean F1 with the model card's figure within the recorded tolerance.
# It also requires the recorded share of faces to be found.
#   check_default_model_video.sh HICOMEX_SYNTH HICOMEX_ANALYZE WEIGHTS CHECK_JSON
set -euo pipefail
synth=$1 analyze=$2 weights=$3 check=$4
here=$(cd "$(dirname "$0")" && pwd)
for f in "$synth" "$analyze" "$weights" "$check"; do
  [ -e "$f" ] || { echo "missing: $f" >&2; exit 1; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
read -r faces seconds fps size seed < <(python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["video"]
print(v["faces"], v["seconds"], v["fps"], v["size"], v["seed"])' "$check")
"$synth" video --out "$tmp/check.mp4" --csv "$tmp/truth.csv" --faces "$faces" --seconds "$seconds" \
  --fps "$fps" --size "$size" --seed "$seed" >/dev/null
"$analyze" "$tmp/check.mp4" --model "$weights" -o "$tmp/analyzer.csv" --threads 2 --quiet
python3 "$here/score_video.py" "$tmp/analyzer.csv" "$tmp/truth.csv" --json "$tmp/score.json"
python3 - "$check" "$tmp/score.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))["video"]
s = json.load(open(sys.argv[2]))
got, want, tol = s["avg_f1"], float(v["avg_f1"]), float(v["tolerance"])
print(f"video mean F1 {got:.4f}, model card {want:.4f} +- {tol}; faces found {s['face_recall']:.3f} "
      f"(at least {v['min_face_recall']})")
ok = abs(got - want) <= tol and s["face_recall"] >= float(v["min_face_recall"])
sys.exit(0 if ok else 1)
PY
