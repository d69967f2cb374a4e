#include "hicomex/model_info.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "hicomex/align.h"
#include "hicomex/au_catalog.h"

namespace hicomex {

using nlohmann::json;

std::vector<float> ModelInfo::thresholds_or_default() const {
  if (!thresholds.empty()) return thresholds;
  return std::vector<float>(options.aus().size(), 0.5f);
}

std::map<std::string, std::string> model_info_to_metadata(const ModelInfo& info) {
  std::map<std::string, std::string> m;
  m["format"] = kWeightsFormat;
  m["format_version"] = std::to_string(kWeightsFormatVersion);
  m["model_id"] = info.model_id;
  m["options"] = options_to_json(info.options);
  m["aus"] = json(info.options.aus()).dump();
  json names = json::array();
  for (int au : info.options.aus()) names.push_back(is_known_au(au) ? au_info(au).name : "");
  m["au_names"] = names.dump();
  m["thresholds"] = json(info.thresholds_or_default()).dump();
  m["landmark_scheme"] = "ibug49-jaanet";
  m["input"] = json{{"aligned_size", info.options.aligned_size()},
                    {"crop_size", info.options.crop_size()},
                    {"alignment", "jaanet49: eye line horizontal, 5-point box, half size 0.5*2.9*max(w,h)"},
                    {"channel_order", "RGB"},
                    {"normalisation", {{"scale", 1.0 / 255.0}, {"mean", {0.5, 0.5, 0.5}}, {"std", {0.5, 0.5, 0.5}}}}}
                   .dump();
  m["provenance"] = info.provenance_json.empty() ? "{}" : info.provenance_json;
  return m;
}

ModelInfo model_info_from_metadata(const std::map<std::string, std::string>& metadata, const std::string& origin) {
  auto get = [&](const char* key) -> const std::string& {
    auto it = metadata.find(key);
    if (it == metadata.end())
      throw std::runtime_error(origin + ": metadata key '" + key + "' is missing (not a HiCOMEX weights file?)");
    return it->second;
  };
  if (get("format") != kWeightsFormat)
    throw std::runtime_error(origin + ": metadata format is '" + get("format") + "', expected '" + kWeightsFormat +
                             "'");
  if (get("format_version") != std::to_string(kWeightsFormatVersion))
    throw std::runtime_error(origin + ": weights format version " + get("format_version") +
                             " is not supported (this build reads version " + std::to_string(kWeightsFormatVersion) +
                             ")");
  ModelInfo info;
  auto mid = metadata.find("model_id");
  if (mid != metadata.end()) info.model_id = mid->second;
  try {
    info.options = options_from_json(get("options"));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(origin + ": " + e.what());
  }
  auto th = metadata.find("thresholds");
  if (th != metadata.end()) {
    try {
      info.thresholds = json::parse(th->second).get<std::vector<float>>();
    } catch (const json::exception&) {
      throw std::runtime_error(origin + ": metadata 'thresholds' is not a JSON array of numbers");
    }
    if (info.thresholds.size() != info.options.aus().size())
      throw std::runtime_error(origin + ": " + std::to_string(info.thresholds.size()) + " thresholds for " +
                               std::to_string(info.options.aus().size()) + " AUs");
    for (float t : info.thresholds)
      if (!(t > 0.f && t < 1.f))
        throw std::runtime_error(origin + ": threshold " + std::to_string(t) + " is not in (0,1)");
  }
  auto pv = metadata.find("provenance");
  if (pv != metadata.end()) info.provenance_json = pv->second;
  return info;
}

}  // namespace hicomex
