// Dataset helpers shared by the readers, layout detection and dispatch by name.
#include "training/dataset.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "hicomex/landmarks.h"

namespace fs = std::filesystem;

namespace hicomex::training {

std::vector<std::string> Dataset::subjects() const {
  std::set<std::string> s;
  for (const auto& x : samples) s.insert(x.subject);
  return {s.begin(), s.end()};
}

int Dataset::au_index(int au) const {
  auto it = std::find(aus.begin(), aus.end(), au);
  return it == aus.end() ? -1 : static_cast<int>(it - aus.begin());
}

bool assign_landmarks(Sample& s, const std::vector<cv::Point2f>& pts) {
  switch (pts.size()) {
    case kLandmarks68:
      s.landmarks_full = pts;
      s.landmarks49 = landmarks68_to_49(pts);
      return true;
    case kLandmarks66:
      s.landmarks_full = pts;
      s.landmarks49 = landmarks66_to_49(pts);
      return true;
    case kLandmarks49:
      s.landmarks_full.clear();
      s.landmarks49 = pts;
      return true;
    default: return false;
  }
}

std::vector<double> occurrence_rates(const Dataset& d, const std::vector<std::size_t>& indices) {
  const std::size_t a = d.aus.size();
  std::vector<double> pos(a, 0.0), coded(a, 0.0);
  auto visit = [&](const Sample& s) {
    for (std::size_t j = 0; j < a; ++j) {
      if (s.labels[j] < 0) continue;
      coded[j] += 1;
      pos[j] += s.labels[j];
    }
  };
  if (indices.empty()) {
    for (const auto& s : d.samples) visit(s);
  } else {
    for (auto i : indices) visit(d.samples.at(i));
  }
  std::vector<double> rates(a, 0.0);
  for (std::size_t j = 0; j < a; ++j) rates[j] = coded[j] > 0 ? pos[j] / coded[j] : 0.0;
  return rates;
}

std::string detect_dataset_kind(const std::string& path) {
  const fs::path p(path);
  if (fs::is_regular_file(p)) {
    const auto ext = p.extension().string();
    if (ext == ".jsonl" || ext == ".csv" || ext == ".json") return "manifest";
  }
  if (fs::is_directory(p)) {
    if (fs::is_directory(p / "AUCoding" / "AU_OCC")) return "bp4d";
    if (fs::is_directory(p / "ActionUnit_Labels")) return "disfa";
    if (fs::exists(p / "manifest.jsonl") || fs::exists(p / "manifest.csv")) return "manifest";
  }
  if (fs::exists(path + "_path.txt") && fs::exists(path + "_AUoccur.txt")) return "jaanet";
  throw std::invalid_argument(
      "cannot tell the dataset kind of '" + path +
      "': expected a BP4D root (AUCoding/AU_OCC/), a DISFA root (ActionUnit_Labels/), a JAA-Net "
      "list prefix (<prefix>_path.txt, <prefix>_AUoccur.txt) or a manifest (.jsonl / .csv, or a "
      "folder with manifest.jsonl / manifest.csv); name the kind with --kind");
}

Dataset read_dataset(const std::string& kind, const std::string& path, const ReadOptions& options, BadDataLog& log) {
  const std::string k = kind.empty() || kind == "auto" ? detect_dataset_kind(path) : kind;
  if (k == "bp4d") return read_bp4d(path, options, log);
  if (k == "disfa") return read_disfa(path, options, log);
  if (k == "jaanet") return read_jaanet(path, options, log);
  if (k == "manifest") return read_manifest(path, options, log);
  throw std::invalid_argument("unknown dataset kind '" + kind + "' (expected auto, bp4d, disfa, jaanet or manifest)");
}

}  // namespace hicomex::training
