#include "face/blazeface_decode.h"

#include <algorithm>
#include <cmath>

namespace hicomex::blazeface {

std::vector<Anchor> make_anchors() {
  std::vector<Anchor> anchors;
  anchors.reserve(kAnchorCount);
  // (grid size, anchors per cell): the layers that share a stride are merged
  // by the calculator, which is why the second grid carries 3 x 2 anchors.
  const int layout[2][2] = {{16, 2}, {8, 6}};
  for (const auto& [grid, per_cell] : layout) {
    for (int y = 0; y < grid; ++y) {
      for (int x = 0; x < grid; ++x) {
        for (int k = 0; k < per_cell; ++k) {
          anchors.push_back({(x + 0.5f) / grid, (y + 0.5f) / grid});
        }
      }
    }
  }
  return anchors;
}

std::vector<Detection> decode(const float* scores, const float* regressors, const std::vector<Anchor>& anchors,
                              int input_size, float score_threshold) {
  std::vector<Detection> out;
  const float s = static_cast<float>(input_size);
  for (size_t i = 0; i < anchors.size(); ++i) {
    // Clipping as MediaPipe does keeps exp() finite on wild logits.
    const float logit = std::clamp(scores[i], -100.f, 100.f);
    const float score = 1.f / (1.f + std::exp(-logit));
    if (!(score >= score_threshold)) continue;
    const float* r = regressors + i * kRegressorSize;
    // Offsets are in input pixels relative to the anchor centre.
    const float cx = anchors[i].cx * s + r[0];
    const float cy = anchors[i].cy * s + r[1];
    const float w = r[2];
    const float h = r[3];
    if (!(w > 0.f && h > 0.f)) continue;
    Detection d;
    d.box = {cx - w / 2, cy - h / 2, w, h};
    d.score = score;
    for (int k = 0; k < 6; ++k) {
      d.keypoints[k] = {anchors[i].cx * s + r[4 + 2 * k], anchors[i].cy * s + r[5 + 2 * k]};
    }
    d.has_keypoints = true;
    out.push_back(d);
  }
  return out;
}

std::vector<Detection> weighted_blend(std::vector<Detection> detections, float iou_threshold) {
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> out;
  std::vector<bool> used(detections.size(), false);
  for (size_t i = 0; i < detections.size(); ++i) {
    if (used[i]) continue;
    const Detection& best = detections[i];
    double wsum = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::array<double, 12> kp{};
    for (size_t j = i; j < detections.size(); ++j) {
      if (used[j] || (j != i && iou(best.box, detections[j].box) <= iou_threshold)) continue;
      used[j] = true;
      const Detection& d = detections[j];
      const double w = d.score;
      wsum += w;
      x0 += w * d.box.x;
      y0 += w * d.box.y;
      x1 += w * (d.box.x + d.box.width);
      y1 += w * (d.box.y + d.box.height);
      for (int k = 0; k < 6; ++k) {
        kp[2 * k] += w * d.keypoints[k].x;
        kp[2 * k + 1] += w * d.keypoints[k].y;
      }
    }
    Detection merged = best;
    if (wsum > 0) {
      merged.box = {float(x0 / wsum), float(y0 / wsum), float((x1 - x0) / wsum), float((y1 - y0) / wsum)};
      if (best.has_keypoints) {
        for (int k = 0; k < 6; ++k) {
          merged.keypoints[k] = {float(kp[2 * k] / wsum), float(kp[2 * k + 1] / wsum)};
        }
      }
    }
    out.push_back(merged);
  }
  return out;
}

}  // namespace hicomex::blazeface
