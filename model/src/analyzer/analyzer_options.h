// Helpers of FaceAnalyzer around its options (internal).
#pragma once
#include <vector>

#include "hicomex/face_analyzer.h"
#include "hicomex/face_tracker.h"

namespace hicomex {

/// The tracker settings carried by the analyzer's options.
TrackerOptions tracker_options_of(const AnalyzerOptions& options);

/// The thresholds in force: the model's, one value for all, or one per AU.
/// Throws std::invalid_argument naming "thresholds" for a wrong count or value.
std::vector<float> effective_thresholds(const std::vector<float>& override_thresholds,
                                        const std::vector<float>& model_thresholds);

/// Throws std::invalid_argument naming the first runtime setting that cannot
/// work; au_count 0 skips the check of the threshold count.
void validate_runtime_options(const AnalyzerOptions& options, size_t au_count);

}  // namespace hicomex
