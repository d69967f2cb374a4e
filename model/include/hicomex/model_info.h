// What a weights file says about its model: everything needed to rebuild and
// use it, stored as safetensors "__metadata__" strings (docs/model.md lists the keys).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "hicomex/hicomex_options.h"

namespace hicomex {

constexpr const char* kWeightsFormat = "hicomex";
constexpr int kWeightsFormatVersion = 1;

struct ModelInfo {
  std::string model_id = "hicomex-untrained";  ///< shown in metadata and the overlay
  HicomexOptions options;                      ///< rebuilds the network (its aus() are the AU ids)
  std::vector<float> thresholds;               ///< per-AU decision thresholds (default 0.5 each)
  /// Free-form provenance as a JSON object text: dataset, folds, epochs, seed, command, commit...
  std::string provenance_json = "{}";
  /// Thresholds, or 0.5 for every AU when none were stored.
  std::vector<float> thresholds_or_default() const;
};

/// To/from the string map of the weights file. Reading checks the format name
/// and version, parses options, and checks the thresholds match the AU count;
/// errors (std::runtime_error) start with `origin` (the file path).
std::map<std::string, std::string> model_info_to_metadata(const ModelInfo& info);
ModelInfo model_info_from_metadata(const std::map<std::string, std::string>& metadata, const std::string& origin);

}  // namespace hicomex
