// Options and helpers shared by hicomex-train, hicomex-eval and hicomex-prepare:
// what --data names and how it is split, so the three tools read it the same way.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "training/data_source.h"

namespace hicomex::training::tools {

struct DataArgs {
  DataSpec spec;
  SplitSpec split;
  std::string aus;  ///< "1,2,4" or empty (the dataset's standard set)
};

/// --data, --kind, --aus, --disfa-threshold, --image-root, --skip-bad, --detector, --force-detect.
void add_data_options(CLI::App& app, DataArgs& a);
/// --test-fold, --train-folds, --folds (and --val-fraction when `with_validation`).
void add_split_options(CLI::App& app, DataArgs& a, bool with_validation);
/// Parses --aus into a.spec.read.aus; throws std::invalid_argument naming the bad entry.
void finish_data_args(DataArgs& a);

/// "1,2,4" -> {1, 2, 4}; throws std::invalid_argument naming the bad entry.
std::vector<int> parse_au_list(const std::string& text);
/// The command line as one shell-like string, for provenance.
std::string command_line(int argc, char** argv);
/// A status line to stderr (progress and messages; results go to stdout).
void say(const std::string& line);

/// Where prepared datasets go when no --cache-dir is given and the tool has no
/// output folder of its own: $XDG_CACHE_HOME/hicomex, else ~/.cache/hicomex,
/// else (no HOME) hicomex-cache in the current folder. Never beside the model:
/// a model folder may be read-only, and data does not belong with weights.
std::string user_cache_dir();

}  // namespace hicomex::training::tools
