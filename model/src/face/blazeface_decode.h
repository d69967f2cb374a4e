// BlazeFace post-processing: SSD anchors, regressor decoding and MediaPipe's
// weighted blending of overlapping detections. Pure maths, no OpenCV DNN.
#pragma once
#include <vector>

#include "hicomex/face_detector.h"

namespace hicomex::blazeface {

struct Anchor {
  float cx = 0.f;  ///< normalised [0, 1] centre of the anchor
  float cy = 0.f;
};

/// MediaPipe's SsdAnchorsCalculator with fixed_anchor_size for both BlazeFace
/// models: a 16x16 grid with 2 anchors per cell, then an 8x8 grid with 6
/// (front 128: strides 8,16,16,16; back 256: strides 16,32,32,32). 896 in all.
std::vector<Anchor> make_anchors();

constexpr int kAnchorCount = 896;
constexpr int kRegressorSize = 16;  ///< box (cx, cy, w, h) + 6 keypoints (x, y)

/// Decodes raw outputs into detections in input-tensor pixels (0..input_size).
/// `scores`: kAnchorCount raw logits; `regressors`: kAnchorCount x 16.
std::vector<Detection> decode(const float* scores, const float* regressors, const std::vector<Anchor>& anchors,
                              int input_size, float score_threshold);

/// MediaPipe's "weighted" non-maximum suppression: the best detection absorbs
/// every other with IoU above `iou_threshold`; the merged box and keypoints are
/// the score-weighted mean of the group, the score that of the best.
std::vector<Detection> weighted_blend(std::vector<Detection> detections, float iou_threshold);

}  // namespace hicomex::blazeface
