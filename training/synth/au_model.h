// Action units as deformations of the face model, after the appearance changes
// FACS describes (Ekman, Friesen & Hager, FACS Manual 2002). Intensities are
// FACS-like 0-5 floats (0 = absent, 1 = A trace ... 5 = E maximum).
#pragma once
#include <map>
#include <vector>

#include <opencv2/core/types.hpp>

namespace hicomex::synth {

/// AU id (FACS number) -> intensity in [0, 5]. A missing AU is intensity 0.
using AuIntensities = std::map<int, float>;

/// The AUs the generator renders, ascending: hicomex::kSyntheticAus from the AU
/// catalogue (hicomex/au_catalog.h), 1 2 4 5 6 7 9 10 12 14 15 17 20 23 24 25 26.
const std::vector<int>& rendered_aus();
bool is_rendered_au(int au);
/// Intensity of `au` (0 when missing), clamped to [0, 5].
float au_intensity(const AuIntensities& aus, int au);
/// Throws std::invalid_argument naming the AU for an unknown id or an
/// intensity outside [0, 5].
void validate_aus(const AuIntensities& aus);

/// Landmarks (0-based iBUG indices) that an AU moves at any intensity > 0.
std::vector<int> au_moved_landmarks(int au);

/// The face after the AUs act on a neutral face (landmarks + extra vertices,
/// model units). AUs at intensity 0 leave the face unchanged; several AUs add
/// up, then the lips are kept from crossing.
std::vector<cv::Point3f> apply_aus(const std::vector<cv::Point3f>& neutral, const AuIntensities& aus);

}  // namespace hicomex::synth
