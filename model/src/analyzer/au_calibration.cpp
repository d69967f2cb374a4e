#include "hicomex/au_calibration.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hicomex {

const char* to_string(AuCalibration c) { return c == AuCalibration::Dynamic ? "dynamic" : "none"; }

AuCalibration au_calibration_from_string(const std::string& name) {
  if (name == "none") return AuCalibration::None;
  if (name == "dynamic") return AuCalibration::Dynamic;
  throw std::invalid_argument("unknown calibration '" + name + "' (expected none or dynamic)");
}

AuCalibrator::AuCalibrator(AuCalibratorOptions options) : options_(options) {
  if (!(options_.percentile >= 0.0 && options_.percentile <= 100.0))
    throw std::invalid_argument("calibration percentile must be in [0, 100], got " +
                                std::to_string(options_.percentile));
  if (options_.prior_frames < 0)
    throw std::invalid_argument("calibration prior_frames must be >= 0, got " + std::to_string(options_.prior_frames));
  if (!(options_.max_intensity > 0.f)) throw std::invalid_argument("calibration max_intensity must be positive");
}

int AuCalibrator::bin_of(float v) const {
  if (!std::isfinite(v)) return 0;
  const float x = std::clamp(v / options_.max_intensity, 0.f, 1.f);
  return std::min(kBins - 1, static_cast<int>(x * kBins));
}

std::vector<float> AuCalibrator::update(int track_id, const std::vector<float>& intensities) {
  const size_t a = intensities.size();
  Track& t = tracks_[track_id];
  if (t.baseline.size() != a) {
    t = Track{};
    t.hist.assign(a * kBins, 0);
    t.baseline.assign(a, 0.f);
    // The prior: virtual neutral observations in the lowest bin.
    for (size_t k = 0; k < a; ++k) t.hist[k * kBins] = static_cast<std::uint32_t>(options_.prior_frames);
  }
  t.n += 1;
  const double total = static_cast<double>(t.n + options_.prior_frames);
  // The percentile is the lowest value with at least `rank` observations at or below it.
  const double rank = std::max(1.0, std::ceil(options_.percentile / 100.0 * total));
  const float width = options_.max_intensity / kBins;
  std::vector<float> out(a);
  for (size_t k = 0; k < a; ++k) {
    std::uint32_t* h = t.hist.data() + k * kBins;
    h[bin_of(intensities[k])] += 1;
    double seen = 0;
    int b = 0;
    for (; b < kBins; ++b) {
      seen += h[b];
      if (seen >= rank) break;
    }
    // Bin 0 reads as 0 (the prior's level); others as their lower edge, so a
    // constant value is removed to within one bin.
    t.baseline[k] = b == 0 ? 0.f : static_cast<float>(b) * width;
    const float v = std::isfinite(intensities[k]) ? intensities[k] : 0.f;
    out[k] = std::clamp(v - t.baseline[k], 0.f, options_.max_intensity);
  }
  return out;
}

std::vector<float> AuCalibrator::baseline(int track_id) const {
  auto it = tracks_.find(track_id);
  return it == tracks_.end() ? std::vector<float>{} : it->second.baseline;
}

std::int64_t AuCalibrator::observations(int track_id) const {
  auto it = tracks_.find(track_id);
  return it == tracks_.end() ? 0 : it->second.n;
}

void AuCalibrator::retain(const std::vector<int>& live) {
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    if (std::find(live.begin(), live.end(), it->first) == live.end())
      it = tracks_.erase(it);
    else
      ++it;
  }
}

void AuCalibrator::clear() { tracks_.clear(); }

}  // namespace hicomex
