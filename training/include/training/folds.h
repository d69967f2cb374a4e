// Subject-exclusive k-fold splits: the standard 3-fold partitions of BP4D and DISFA
// (docs/training.md, "Folds") or, for other data, a seeded hash of the subject names.
// Exclusivity is checked, not assumed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "training/dataset.h"

namespace hicomex::training {

struct FoldPlan {
  std::vector<std::vector<std::string>> folds;  ///< subjects of each fold
  std::string description;                      ///< "bp4d-standard-3", "hash-5-seed-7", ...
  int size() const { return static_cast<int>(folds.size()); }
  /// Fold index of `subject`, -1 if it is in none.
  int fold_of(const std::string& subject) const;
};

const FoldPlan& bp4d_standard_folds();
const FoldPlan& disfa_standard_folds();

/// Deterministic, balanced split: subjects ordered by a seeded 64-bit hash of their
/// names, then dealt round-robin into k folds. Throws if there are fewer subjects than k.
FoldPlan hashed_folds(std::vector<std::string> subjects, int k, std::uint64_t seed);

/// The standard partition for BP4D / DISFA (k must be 3 or 0), else hashed_folds
/// (k = 0 means 3). Throws if a standard plan leaves a dataset subject in no fold.
FoldPlan default_folds(const Dataset& d, int k, std::uint64_t seed);

struct Split {
  std::vector<std::size_t> train;  ///< sample indices
  std::vector<std::size_t> test;
};

/// Test = samples of `test_folds` (0-based); train = samples of `train_folds`, or of
/// every other fold when train_folds is empty. Throws on an out-of-range fold, on a
/// fold in both lists, or (check_subject_exclusive) if a subject lands on both sides.
Split split_folds(const Dataset& d, const FoldPlan& plan, const std::vector<int>& test_folds,
                  const std::vector<int>& train_folds = {});

/// Throws std::runtime_error naming the first subject found in both index sets.
void check_subject_exclusive(const Dataset& d, const std::vector<std::size_t>& a, const std::vector<std::size_t>& b);

/// Moves whole subjects (about `fraction` of them, at least one, never all) from
/// split.train into a validation set for threshold calibration. Seeded, deterministic.
struct TrainValidation {
  std::vector<std::size_t> train;
  std::vector<std::size_t> validation;
};
TrainValidation carve_validation(const Dataset& d, const std::vector<std::size_t>& train, double fraction,
                                 std::uint64_t seed);

/// Parses "1,2" or "1-3" (1-based, as users write folds) to 0-based indices.
std::vector<int> parse_fold_list(const std::string& text);

}  // namespace hicomex::training
