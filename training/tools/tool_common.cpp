// Shared options of the training tools (see tool_common.h).
#include "tool_common.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace hicomex::training::tools {

void add_data_options(CLI::App& app, DataArgs& a) {
  app.add_option("--data", a.spec.path,
                 "dataset: BP4D or DISFA root, JAA-Net list prefix, manifest (.jsonl/.csv or its folder), "
                 "or a prepared .cache file")
      ->required();
  app.add_option("--kind", a.spec.kind, "dataset kind (auto detects it from the layout)")
      ->check(CLI::IsMember(data_kind_names()))
      ->capture_default_str();
  app.add_option("--aus", a.aus, "AUs to use, e.g. 1,2,4 (default: BP4D's 12, DISFA's 8, all of a manifest)");
  app.add_option("--disfa-threshold", a.spec.read.disfa_threshold, "DISFA: occurrence = intensity >= this")
      ->capture_default_str();
  app.add_option("--image-root", a.spec.read.image_root,
                 "BP4D: folder holding the frames (default: the dataset root); JAA-Net: base of relative paths");
  app.add_flag("--skip-bad", a.spec.skip_bad,
               "skip bad samples (missing / unreadable files, bad label rows, no face) and report counts at the end, "
               "instead of stopping at the first one");
  app.add_option("--detector", a.spec.detector,
                 "face detector in front of the 68-point landmarker where a dataset has no landmarks")
      ->capture_default_str();
  app.add_flag("--force-detect", a.spec.force_detect, "detect landmarks even where the dataset has them");
}

void add_split_options(CLI::App& app, DataArgs& a, bool with_validation) {
  app.add_option("--test-fold", a.split.test_folds,
                 "test fold(s), 1-based (\"1\", \"2,3\"), or none to train on every fold; subject-exclusive")
      ->capture_default_str();
  app.add_option("--train-folds", a.split.train_folds, "training folds (default: every fold that is not a test fold)");
  app.add_option("--folds", a.split.k,
                 "number of folds (0 = 3; BP4D and DISFA use the standard 3-fold partitions, other data a seeded "
                 "hash of subject names)")
      ->capture_default_str();
  if (with_validation)
    app.add_option("--val-fraction", a.split.val_fraction,
                   "fraction of the training subjects kept out for threshold calibration (0 = none, thresholds 0.5)")
        ->check(CLI::Range(0.0, 0.9))
        ->capture_default_str();
}

std::vector<int> parse_au_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    std::size_t used = 0;
    int au = 0;
    try {
      au = std::stoi(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || au <= 0 || au >= 100)
      throw std::invalid_argument("--aus '" + text + "': '" + part + "' is not an AU number");
    out.push_back(au);
  }
  return out;
}

void finish_data_args(DataArgs& a) {
  if (!a.aus.empty()) a.spec.read.aus = parse_au_list(a.aus);
  if (a.split.test_folds != "none") (void)parse_fold_list(a.split.test_folds);  // fail before any work
  if (!a.split.train_folds.empty()) (void)parse_fold_list(a.split.train_folds);
  if (a.split.k < 0) throw std::invalid_argument("--folds must be >= 0");
}

std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.find_first_of(" \t\"'") != std::string::npos) arg = "'" + arg + "'";
    out += (i ? " " : "") + arg;
  }
  return out;
}

void say(const std::string& line) { std::cerr << line << std::endl; }

std::string user_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return (std::filesystem::path(xdg) / "hicomex").string();
  const char* home = std::getenv("HOME");
  if (home && *home) return (std::filesystem::path(home) / ".cache" / "hicomex").string();
  return "hicomex-cache";
}

}  // namespace hicomex::training::tools
