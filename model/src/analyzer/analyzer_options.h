// Helpers of FaceAnalyzer around its options (internal).
#pragma once
#include <string>
#include <vector>

#include "hicomex/face_analyzer.h"

namespace hicomex {

/// The thresholds in force: the model's, one value for all, or one per AU.
/// Throws OptionError naming "thresholds" for a wrong count or value.
std::vector<float> effective_thresholds(const std::vector<float>& override_thresholds,
                                        const std::vector<float>& model_thresholds);

/// Throws OptionError naming the first runtime setting that cannot work;
/// au_count 0 skips the check of the threshold count.
void validate_runtime_options(const AnalyzerOptions& options, size_t au_count);

/// Checks the settings fixed at construction that no component checks before
/// loading a model: the device (DeviceError: not a device, or not on this
/// machine), the precision (OptionError; fp16 needs CUDA), threads and
/// batch_timeout_us. Returns the device resolved ("cpu", "cuda:N").
std::string validate_fixed_options(const AnalyzerOptions& options);

}  // namespace hicomex
