// AnalyzerOptions: where the default model is, and checks of the settings
// (the components check the rest of theirs when they are built).
#include "analyzer/analyzer_options.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "hicomex/errors.h"
#include "hicomex/model_paths.h"
#include "hicomex/option_parsers.h"
#include "hicomex_config.h"

namespace hicomex {

namespace {
constexpr const char* kDefaultModelFile = "hicomex-default.safetensors";

[[noreturn]] void fail(const std::string& field, const std::string& value, const std::string& why) {
  throw OptionError(field, value, "analyzer option " + field + " " + why);
}
}  // namespace

std::string default_model_path() {
  if (const char* env = std::getenv("HICOMEX_MODEL"); env && *env) {
    if (!std::filesystem::exists(env))
      throw ModelFileError(ModelFileError::Kind::NotFound, env,
                           std::string("HiCOMEX model not found: ") + env + " (from $HICOMEX_MODEL)");
    return env;
  }
  // The source tree's model first when this library runs from its build tree
  // (so a tree run never picks an older installed model), else the installed one.
  const std::vector<std::string> candidates = bundled_search_order(
      std::string(HICOMEX_INSTALL_DATADIR) + "/models/" + kDefaultModelFile,
      std::string(HICOMEX_SOURCE_ROOT) + "/models/" + kDefaultModelFile, running_from_build_tree());
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c)) return c;
  }
  throw ModelFileError(ModelFileError::Kind::NotFound, "",
                       "HiCOMEX model not found: looked at $HICOMEX_MODEL (unset), " + candidates[0] + " and " +
                           candidates[1] + "; train one (docs/training.md) or pass a model path");
}

std::vector<float> effective_thresholds(const std::vector<float>& override_thresholds,
                                        const std::vector<float>& model_thresholds) {
  const size_t n = model_thresholds.size();
  for (float v : override_thresholds) {
    if (!(v >= 0.f && v <= 1.f))
      throw OptionError("thresholds", std::to_string(v),
                        "analyzer option thresholds: values must be in [0, 1], got " + std::to_string(v));
  }
  if (override_thresholds.empty()) return model_thresholds;
  if (override_thresholds.size() == 1) return std::vector<float>(n, override_thresholds[0]);
  if (override_thresholds.size() == n) return override_thresholds;
  throw OptionError("thresholds", std::to_string(override_thresholds.size()) + " values",
                    "analyzer option thresholds: expected none, one, or one per AU (" + std::to_string(n) + "), got " +
                        std::to_string(override_thresholds.size()));
}

void validate_runtime_options(const AnalyzerOptions& o, size_t au_count) {
  if (o.inference_interval < 1)
    fail("inference_interval", std::to_string(o.inference_interval),
         "must be >= 1, got " + std::to_string(o.inference_interval));
  o.tracker.validate();
  // au_count 0: the model is not loaded yet, check the values only.
  effective_thresholds(o.thresholds,
                       std::vector<float>(au_count > 0 ? au_count : std::max<size_t>(o.thresholds.size(), 1), 0.5f));
}

std::string validate_fixed_options(const AnalyzerOptions& o) {
  if (o.threads < 0) fail("threads", std::to_string(o.threads), "must be >= 0, got " + std::to_string(o.threads));
  if (o.engine.batch_timeout_us < 0)
    fail("batch_timeout_us", std::to_string(o.engine.batch_timeout_us),
         "must be >= 0, got " + std::to_string(o.engine.batch_timeout_us));
  const Precision precision = parse_precision(o.engine.precision);
  const std::string device = resolve_device(o.engine.device);
  if (precision == Precision::Fp16 && device.rfind("cuda", 0) != 0)
    throw OptionError("precision", o.engine.precision,
                      "precision 'fp16' needs a CUDA device (device is " + device + "); use bf16 on the CPU");
  return device;
}

}  // namespace hicomex
