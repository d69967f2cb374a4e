// Statistics shared by the benchmark tools (hicomex-bench, hicomex-landmark-bench).
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

namespace hicomex::tools {

/// The q-quantile (0..1) of `v`, linear between neighbouring samples; `v` non-empty.
inline double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(pos), hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace hicomex::tools
