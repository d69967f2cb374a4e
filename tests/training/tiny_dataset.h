// A tiny learnable dataset for the training-loop tests: faces drawn around known
// landmarks, with a bright square at an AU's region when that AU is on, written
// as a manifest (images + 68 landmarks) and prepared into a cache.
#pragma once
#include <string>

#include "hicomex/hicomex_options.h"

namespace hicomex::training::test {

/// Writes `<dir>/manifest.jsonl` and `<dir>/img/*.png`: `subjects` x `per_subject`
/// faces of 128x128, AUs 1 and 12, labels from `seed`, intensities 3 / 4 when
/// on and 0 / 0.5 when off. Returns the manifest path.
std::string write_tiny_manifest(const std::string& dir, int subjects = 8, int per_subject = 4, unsigned seed = 1);

/// The manifest prepared into `<dir>/tiny.cache` (landmarks from the manifest, no detector).
std::string prepare_tiny_cache(const std::string& manifest, const std::string& dir);

/// The "tiny" preset with the test's AUs (1, 12): trains in seconds.
HicomexOptions tiny_model();

}  // namespace hicomex::training::test
