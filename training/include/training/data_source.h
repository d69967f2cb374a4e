// What the tools' --data names, turned into a prepared cache and subject-exclusive
// splits of its records. --data may be a raw dataset (BP4D, DISFA, JAA-Net lists,
// a manifest: read, landmarks detected where missing, aligned, cached once under a
// cache folder and reused while its inputs are unchanged) or a prepared cache file.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "training/bad_data.h"
#include "training/cache.h"
#include "training/dataset.h"
#include "training/folds.h"
#include "training/prepare.h"

namespace hicomex::training {

struct DataSpec {
  std::string path;                    ///< dataset root / list prefix / manifest / .cache file
  std::string kind = "auto";           ///< auto, bp4d, disfa, jaanet, manifest (ignored for a cache)
  ReadOptions read;                    ///< AU set, DISFA threshold, image root
  bool skip_bad = false;               ///< count bad samples instead of stopping at the first
  bool force_detect = false;           ///< detect landmarks even where the dataset has them
  std::string detector = "blazeface";  ///< face detector in front of the 68-point landmarker
};

/// The valid --kind values, for messages and CLI checks.
const std::vector<std::string>& data_kind_names();

/// True if `path` is a file that starts with the cache magic.
bool is_cache_file(const std::string& path);

/// The project's face pipeline as a LandmarkDetector: `detector_name` (BlazeFace by
/// default) finds the largest face, Landmarker68 places 68 points. Loads the models
/// on the first call, so a dataset with landmarks never pays for them.
LandmarkDetector make_pipeline_landmark_detector(const std::string& detector_name = "blazeface");

struct PreparedData {
  std::string cache_path;
  std::string kind;           ///< dataset kind the cache was made from
  std::string source;         ///< what was read
  bool prepared_now = false;  ///< false: an existing cache was used as is
};

/// A cache for `spec`: the file itself when spec.path is a cache; else
/// `<cache_dir>/<kind>-<hash of the inputs>.cache`, prepared now unless a finished
/// one with the same inputs exists. Bad data goes to `log` (strict unless spec.skip_bad).
/// `say` receives progress and status lines.
PreparedData ensure_cache(const DataSpec& spec, const std::string& cache_dir, BadDataLog& log,
                          const std::function<void(const std::string&)>& say);

/// The file ensure_cache() would use for a raw dataset `spec` in `cache_dir`
/// (empty when spec.path is a cache file itself).
std::string cache_path_for(const DataSpec& spec, const std::string& cache_dir);

/// Prepares `spec` into exactly `cache_path` (written as .partial, renamed when done).
PreparedData prepare_to_cache(const DataSpec& spec, const std::string& cache_path, BadDataLog& log,
                              const std::function<void(const std::string&)>& say);

struct SplitSpec {
  std::string test_folds = "1";  ///< 1-based list ("1", "1,2"), or "none" (train on every fold)
  std::string train_folds;       ///< empty = every fold that is not a test fold
  int k = 0;                     ///< folds (0: 3; BP4D / DISFA use the standard partitions)
  double val_fraction = 0.0;     ///< of the training subjects, kept out for calibration
  std::uint64_t seed = 0;        ///< hashed folds and the validation pick
};

struct CacheSplit {
  FoldPlan plan;
  std::vector<int> test_folds, train_folds;          ///< 0-based, as used
  std::vector<std::size_t> train, validation, test;  ///< cache records
};

/// Dataset of subjects only (one sample per record, no images), for the fold code.
Dataset subjects_of(const CacheReader& cache, const std::string& kind);
/// Subject-exclusive split of a cache's records (checked on every side).
CacheSplit split_cache(const CacheReader& cache, const std::string& kind, const SplitSpec& spec);

/// The dataset kind written into a cache's description by prepare_to_cache ("" if unknown).
std::string cache_kind(const CacheReader& cache);

}  // namespace hicomex::training
