// The hicomex element's settings as plain C++: what its properties hold, and
// how they become the core's AnalyzerOptions. The analyzer's fields and their
// defaults live once, in hicomex::AnalyzerOptions; the element adds only what
// it alone has. Kept out of the element so it can be tested without GStreamer.
#pragma once
#include <string>
#include <vector>

#include "hicomex/face_analyzer.h"

namespace hicomex::gst {

/// Everything the element's properties hold.
struct AnalyzerSettings {
  /// The analyzer's settings (thresholds left empty: `threshold` below needs
  /// the loaded model). A default AnalyzerSettings holds AnalyzerOptions'
  /// defaults, which are the properties' defaults.
  AnalyzerOptions options;
  /// The `threshold` property: a threshold text (hicomex/option_parsers.h).
  std::string threshold;
  /// landmark-smoothing and au-smoothing as set (double properties read back
  /// exactly); options.tracker holds them as the analyzer's floats.
  double landmark_smoothing = options.tracker.landmark_min_cutoff_hz;
  double au_smoothing = options.tracker.au_smoothing;
  bool post_messages = false;
};

/// The options to construct a FaceAnalyzer with (thresholds left empty: they
/// need the loaded model, see runtime_options()).
AnalyzerOptions construction_options(const AnalyzerSettings& s);

/// The runtime block of AnalyzerOptions for a loaded model (for set_options).
/// Throws OptionError for a threshold text that does not fit it.
AnalyzerOptions runtime_options(const AnalyzerSettings& s, const std::vector<int>& au_ids,
                                const std::vector<float>& model_thresholds);

}  // namespace hicomex::gst
