// Box helpers (hicomex/geometry.h).
#include "hicomex/geometry.h"

#include <algorithm>

namespace hicomex {

float area(const Box& b) { return std::max(0.f, b.width) * std::max(0.f, b.height); }

float iou(const Box& a, const Box& b) {
  const float x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  const float x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
  const float inter = std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0);
  const float uni = area(a) + area(b) - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

}  // namespace hicomex
