// The hicomex element's settings as plain C++: what its properties hold, and
// how they become the core's AnalyzerOptions. Kept out of the element so the
// threshold syntax can be parsed (and tested) without GStreamer.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hicomex/face_analyzer.h"

namespace hicomex::gst {

/// The `threshold` property, parsed but not yet tied to a model:
///   ""                   the model's own thresholds
///   "0.4"                one threshold for every AU
///   "AU12=0.3,AU4=0.6"   per AU (others keep the model's); "au12" and "12" work too
struct ThresholdSpec {
  std::optional<float> all;
  std::vector<std::pair<int, float>> per_au;  ///< (FACS id, threshold), in the order given
  bool empty() const { return !all && per_au.empty(); }
};

/// Parses the property text (locale-independent decimal point). Throws
/// std::invalid_argument naming the offending part of `text`.
ThresholdSpec parse_threshold_spec(const std::string& text);

/// The AnalyzerOptions::thresholds for a model with `au_ids` and
/// `model_thresholds`: empty, one value, or one per AU. Throws
/// std::invalid_argument naming an AU the model does not have.
std::vector<float> resolve_thresholds(const ThresholdSpec& spec, const std::vector<int>& au_ids,
                                      const std::vector<float>& model_thresholds);

/// Everything the element's properties hold.
struct AnalyzerSettings {
  // Fixed while running (READY or below): a change needs a new FaceAnalyzer.
  std::string model;  ///< empty = default_model_path()
  std::string device = "auto";
  std::string precision = "auto";
  int batch_timeout_us = 0;
  std::string detector = "blazeface";
  int threads = 0;
  int au_batch = 0;  ///< frames per AU batch on non-live sources; 0 = automatic
  // Applied at the next frame.
  int detection_interval = 5;
  int inference_interval = 1;
  int max_faces = 0;
  int min_face_size = 0;
  std::string threshold;
  double landmark_smoothing = 0.0;  ///< One Euro minimum cutoff, Hz; 0 = off
  double au_smoothing = 0.0;        ///< weight of the past in [0, 1); 0 = off
  /// Per-person intensity calibration (models with an intensity head).
  AuCalibration calibration = AuCalibration::Dynamic;
  bool post_messages = false;
};

/// The options to construct a FaceAnalyzer with (thresholds left empty: they
/// need the loaded model, see runtime_options()).
AnalyzerOptions construction_options(const AnalyzerSettings& s);

/// The runtime block of AnalyzerOptions for a loaded model (for set_options).
/// Throws std::invalid_argument for a threshold text that does not fit it.
AnalyzerOptions runtime_options(const AnalyzerSettings& s, const std::vector<int>& au_ids,
                                const std::vector<float>& model_thresholds);

}  // namespace hicomex::gst
