// What the analyzer returns for one face in one frame: plain data, no OpenCV,
// no torch, so the glue can turn it into GStreamer metadata without either.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "hicomex/geometry.h"

namespace hicomex {

struct FaceResult {
  int track_id = -1;                    ///< stable across frames while the face is tracked
  Box box;                              ///< face box in image pixels
  float detection_score = 0.f;          ///< score of the detection that started/refreshed the track
  float confidence = 0.f;               ///< landmark/track confidence in [0,1] (OpenFace's "confidence")
  bool success = false;                 ///< OpenFace's "success": landmarks and AUs are valid
  std::array<Point2f, 68> landmarks{};  ///< iBUG 68 points, image pixels
  HeadPose pose;
  std::vector<int> au_ids;                  ///< FACS ids, same order as the two vectors below
  std::vector<float> au_probability;        ///< per-AU occurrence probability in [0,1]
  std::vector<std::uint8_t> au_occurrence;  ///< presence: 1 where probability >= threshold (and, with
                                            ///< calibration, calibrated intensity >= kPresenceMinIntensity)
  /// Per-AU intensity on the FACS 0-5 scale (OpenFace's AUxx_r), calibrated for
  /// this track when calibration is on. Empty when the model has no intensity head.
  std::vector<float> au_intensity;
  /// The network's intensity before calibration (empty likewise).
  std::vector<float> au_intensity_raw;

  /// With calibration on, an AU is present only if its calibrated intensity
  /// reaches FACS A (trace) as well: a person's constant, neutral-face
  /// activation is not reported as presence.
  static constexpr float kPresenceMinIntensity = 1.0f;
};

}  // namespace hicomex
