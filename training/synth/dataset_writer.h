// Writes a synthetic dataset: images plus a manifest.jsonl in the generic
// manifest format of the training readers (docs/synthetic-faces.md).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "scene.h"

namespace hicomex::synth {

struct DatasetOptions {
  std::string out_dir;
  int count = 0;       ///< images
  int identities = 0;  ///< synthetic people; sample i shows identity i % identities
  std::uint64_t seed = 1;
  int jobs = 1;                ///< worker threads; the output does not depend on it
  std::string format = "jpg";  ///< "jpg" (quality 95) or "png"
  bool overwrite = false;
  SceneOptions scene;
  ExpressionRules rules = default_expression_rules();
};

/// Throws std::invalid_argument naming the option at fault.
void validate(const DatasetOptions& o);

/// The manifest's first line: {"hicomex_manifest": 1, "aus": [...], ...}.
nlohmann::json manifest_header(const DatasetOptions& o);
/// One manifest line for a rendered sample.
nlohmann::json manifest_line(const Sample& s, const SynthIdentity& who, const std::string& image, std::int64_t index,
                             const ExpressionRules& rules);

struct DatasetSummary {
  int written = 0;
  double seconds = 0.0;
  std::string manifest_path;
};

/// Renders and writes the dataset; reports progress (with an ETA) to
/// `progress` when it is not null. Throws std::runtime_error naming the file
/// that cannot be written.
DatasetSummary write_dataset(const DatasetOptions& o, std::ostream* progress);

}  // namespace hicomex::synth
