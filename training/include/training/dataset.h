// Labelled face samples from the datasets HiCOMEX trains on, and the readers that
// load them from their original layouts (BP4D, DISFA, JAA-Net list files, the
// project's generic manifest). Readers only parse labels and check that files
// exist; images are decoded by the preparation step (prepare.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/types.hpp>

#include "training/bad_data.h"

namespace hicomex::training {

constexpr std::int8_t kNotCoded = -1;

struct Sample {
  std::string image;                        ///< image file, or the video file when video_frame >= 0
  int video_frame = -1;                     ///< 0-based frame to decode from `image` (DISFA); -1 = still image
  int frame = -1;                           ///< the dataset's own frame number (-1 if none)
  std::string subject;                      ///< unit of subject-exclusive folds
  std::vector<std::int8_t> labels;          ///< per Dataset::aus: 1, 0 or kNotCoded
  std::vector<float> intensities;           ///< empty, or per AU (NaN = not coded)
  std::vector<cv::Point2f> landmarks49;     ///< empty, or 49 points in image (or aligned) pixels
  std::vector<cv::Point2f> landmarks_full;  ///< the 68 / 66 points when the dataset gave them
  bool aligned = false;  ///< image already aligned to 200x200, landmarks in that frame (JAA-Net lists)
  std::string origin;    ///< "labelfile:line", for error messages
};

struct Dataset {
  std::vector<int> aus;  ///< AU ids, the column order of every Sample::labels
  std::vector<Sample> samples;
  std::string kind;                 ///< "bp4d", "disfa", "jaanet", "manifest"
  std::string source;               ///< what was read (root / file), for provenance
  std::vector<float> list_weights;  ///< JAA-Net's _weight.txt when read (else empty)
  /// Where separate intensity codes were read from (BP4D's per-AU folders); empty when
  /// there were none or the intensities come with the labels (DISFA, manifests).
  std::string intensity_source;

  std::vector<std::string> subjects() const;  ///< sorted, unique
  int au_index(int au) const;                 ///< column of `au`, -1 if absent
};

struct ReadOptions {
  std::vector<int> aus;  ///< AUs to keep; empty = the dataset's standard set (BP4D 12, DISFA 8, all of a manifest)
  float disfa_threshold = 2.f;  ///< DISFA: occurrence = intensity >= threshold
  /// BP4D: frames folder (default: the first of <root>, <root>/Sequences, <root>/BP4D-training
  /// holding a sequence's <Subject>/<Task> folder); JAA-Net: base of relative paths
  std::string image_root;
  bool check_files = true;  ///< check that every image / video exists (missing file = bad data)
};

/// "bp4d", "disfa", "jaanet" or "manifest" from the layout at `path`; throws if none fits.
std::string detect_dataset_kind(const std::string& path);

/// Reads a dataset of `kind` ("auto" = detect_dataset_kind). Problems go through `log`.
Dataset read_dataset(const std::string& kind, const std::string& path, const ReadOptions& options, BadDataLog& log);

// The readers (`root` = dataset root; JAA-Net: the list prefix, e.g. "list/BP4D_part1";
// manifest: the .jsonl / .csv file, or a folder holding manifest.jsonl / manifest.csv).
Dataset read_bp4d(const std::string& root, const ReadOptions& options, BadDataLog& log);
Dataset read_disfa(const std::string& root, const ReadOptions& options, BadDataLog& log);
Dataset read_jaanet(const std::string& prefix, const ReadOptions& options, BadDataLog& log);
Dataset read_manifest(const std::string& path, const ReadOptions& options, BadDataLog& log);

/// Keeps 49 points (and the original 68 / 66) from a landmark list of any supported
/// count; returns false for other counts.
bool assign_landmarks(Sample& s, const std::vector<cv::Point2f>& pts);

/// Fraction of coded labels that are 1, per AU, over `indices` (all samples if empty).
std::vector<double> occurrence_rates(const Dataset& d, const std::vector<std::size_t>& indices = {});

}  // namespace hicomex::training
