// Per-person AU intensity calibration, OpenFace style ("dynamic calibration"):
// for every tracked face, a running low percentile of each AU's intensity is
// that person's neutral level; it is subtracted and the result clamped at 0.
// It assumes each person is neutral most of the time (docs/analyzer.md,
// "Intensity and calibration", lists where that fails). Plain C++, no torch.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace hicomex {

enum class AuCalibration {
  None,     ///< intensities as the network gives them
  Dynamic,  ///< per track: minus a running low percentile, clamped at 0
};
const char* to_string(AuCalibration c);
/// "none" or "dynamic"; throws std::invalid_argument naming the value.
AuCalibration au_calibration_from_string(const std::string& name);

struct AuCalibratorOptions {
  /// The percentile of a track's intensities taken as its neutral level.
  double percentile = 10.0;
  /// A track starts with this many virtual observations at intensity 0, so a
  /// face is not "calibrated away" on its first frames: the baseline moves off
  /// 0 only once the track's own low values outweigh them (with 10 and the
  /// 10th percentile, after about 90 AU evaluations, 3 s at 30 frames/s).
  int prior_frames = 10;
  /// Upper end of the intensity scale (FACS E).
  float max_intensity = 5.f;
};

/// Running calibration state for many tracks; one instance per stream.
class AuCalibrator {
 public:
  explicit AuCalibrator(AuCalibratorOptions options = {});

  /// Adds one evaluation of `track_id`'s intensities (one per AU, 0-5) and
  /// returns them calibrated. A track id not seen before starts fresh; a
  /// different AU count restarts the track.
  std::vector<float> update(int track_id, const std::vector<float>& intensities);
  /// The track's current neutral level per AU (empty for an unknown track).
  std::vector<float> baseline(int track_id) const;
  /// Evaluations added for the track (without the prior).
  std::int64_t observations(int track_id) const;
  /// Forgets every track not in `live` (faces that left); a returning face
  /// gets a new id from the tracker and starts fresh.
  void retain(const std::vector<int>& live);
  void clear();

  static constexpr int kBins = 250;  ///< 0.02 wide over 0-5

 private:
  struct Track {
    std::int64_t n = 0;
    std::vector<std::uint32_t> hist;  // A x kBins
    std::vector<float> baseline;      // A
  };
  int bin_of(float v) const;
  AuCalibratorOptions options_;
  std::unordered_map<int, Track> tracks_;
};

}  // namespace hicomex
