// AnalyzerOptions: where the default model is, and checks of the settings
// that may change while running (the fixed ones are checked by the components).
#include "analyzer/analyzer_options.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "hicomex_config.h"

namespace hicomex {

namespace {
constexpr const char* kDefaultModelFile = "hicomex-default.safetensors";
}

std::string default_model_path() {
  if (const char* env = std::getenv("HICOMEX_MODEL"); env && *env) {
    if (!std::filesystem::exists(env))
      throw std::runtime_error(std::string("HiCOMEX model not found: ") + env + " (from $HICOMEX_MODEL)");
    return env;
  }
  const std::string candidates[] = {
      std::string(HICOMEX_INSTALL_DATADIR) + "/models/" + kDefaultModelFile,
      std::string(HICOMEX_SOURCE_ROOT) + "/models/" + kDefaultModelFile,
  };
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c)) return c;
  }
  throw std::runtime_error("HiCOMEX model not found: looked at $HICOMEX_MODEL (unset), " + candidates[0] +
                           " and " + candidates[1] + "; train one (docs/training.md) or pass a model path");
}

TrackerOptions tracker_options_of(const AnalyzerOptions& o) {
  TrackerOptions t;
  t.detection_interval = o.detection_interval;
  t.min_confidence = o.min_confidence;
  t.max_faces = o.max_faces;
  t.min_face_size = o.min_face_size;
  t.landmark_min_cutoff_hz = o.landmark_smoothing_hz;
  t.au_smoothing = o.au_smoothing;
  return t;
}

std::vector<float> effective_thresholds(const std::vector<float>& override_thresholds,
                                        const std::vector<float>& model_thresholds) {
  const size_t n = model_thresholds.size();
  for (float v : override_thresholds) {
    if (!(v >= 0.f && v <= 1.f))
      throw std::invalid_argument("analyzer option thresholds: values must be in [0, 1], got " + std::to_string(v));
  }
  if (override_thresholds.empty()) return model_thresholds;
  if (override_thresholds.size() == 1) return std::vector<float>(n, override_thresholds[0]);
  if (override_thresholds.size() == n) return override_thresholds;
  throw std::invalid_argument("analyzer option thresholds: expected none, one, or one per AU (" + std::to_string(n) +
                              "), got " + std::to_string(override_thresholds.size()));
}

void validate_runtime_options(const AnalyzerOptions& o, size_t au_count) {
  auto fail = [](const std::string& field, const std::string& why) {
    throw std::invalid_argument("analyzer option " + field + " " + why);
  };
  if (o.detection_interval < 1)
    fail("detection_interval", "must be >= 1, got " + std::to_string(o.detection_interval));
  if (o.inference_interval < 1)
    fail("inference_interval", "must be >= 1, got " + std::to_string(o.inference_interval));
  tracker_options_of(o).validate();
  // au_count 0: the model is not loaded yet, check the values only.
  effective_thresholds(o.thresholds, std::vector<float>(au_count > 0 ? au_count : std::max<size_t>(o.thresholds.size(), 1), 0.5f));
}

}  // namespace hicomex
