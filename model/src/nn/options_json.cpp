// HicomexOptions <-> JSON, and validation. Torch-free: the options header only
// needs torch/arg.h.
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "hicomex/hicomex_options.h"

namespace hicomex {

namespace {
const char* const kVariantNames[] = {"base", "lstm", "attention", "hopfield", "full"};

void require(bool ok, const std::string& field, const std::string& why) {
  if (!ok) throw std::invalid_argument("HicomexOptions." + field + ": " + why);
}
}  // namespace

const char* to_string(Variant v) { return kVariantNames[static_cast<int>(v)]; }

Variant variant_from_string(const std::string& name) {
  for (int i = 0; i < 5; ++i)
    if (name == kVariantNames[i]) return static_cast<Variant>(i);
  throw std::invalid_argument("unknown HiCOMEX variant '" + name +
                              "' (expected base, lstm, attention, hopfield or full)");
}

void HicomexOptions::validate() const {
  require(!aus().empty(), "aus", "at least one AU is needed");
  std::set<int> seen;
  for (int au : aus()) {
    require(au > 0 && au < 100, "aus", "AU id " + std::to_string(au) + " is out of range");
    require(seen.insert(au).second, "aus", "AU " + std::to_string(au) + " is listed twice");
  }
  require(landmarks() == 49, "landmarks", "only the 49-point scheme is supported");
  require(crop_size() >= 64 && crop_size() % 16 == 0, "crop_size",
          "must be a multiple of 16 (8x8 patch grids at half resolution) and >= 64 (got " +
              std::to_string(crop_size()) + ")");
  require(aligned_size() >= crop_size() && aligned_size() <= 4 * crop_size(), "aligned_size",
          "must be >= crop_size (got " + std::to_string(aligned_size()) + ")");
  require(region_channels().size() == 2, "region_channels", "needs exactly two widths");
  for (auto c : region_channels())
    require(c >= 8 && c % 4 == 0, "region_channels", "widths must be multiples of 4, >= 8");
  require(global_channels().size() == 3, "global_channels", "needs exactly three widths");
  require(landmark_channels().size() == 3, "landmark_channels", "needs exactly three widths");
  for (auto c : global_channels()) require(c > 0, "global_channels", "widths must be positive");
  for (auto c : landmark_channels()) require(c > 0, "landmark_channels", "widths must be positive");
  require(feature_dim() > 0, "feature_dim", "must be positive");
  require(local_channels() > 0, "local_channels", "must be positive");
  require(local_window() >= 4 && local_window() % 4 == 0, "local_window", "must be a multiple of 4 (two 2x2 poolings)");
  require(local_dim() > 0 && local_dim() % 2 == 0, "local_dim", "must be positive and even");
  require(attention_layers() >= 1, "attention_layers", "must be >= 1");
  require(attention_heads() >= 1 && local_dim() % attention_heads() == 0, "attention_heads", "must divide local_dim");
  require(attention_ff() > 0, "attention_ff", "must be positive");
  require(attention_dropout() >= 0 && attention_dropout() < 1, "attention_dropout", "must be in [0,1)");
  require(hopfield_heads() >= 1 && local_dim() % hopfield_heads() == 0, "hopfield_heads", "must divide local_dim");
  require(hopfield_beta() >= 0, "hopfield_beta", "must be >= 0 (0 = 1/sqrt(head dim))");
  require(hopfield_update_steps_max() >= 0, "hopfield_update_steps_max", "must be >= 0");
  require(hopfield_update_steps_eps() >= 0, "hopfield_update_steps_eps", "must be >= 0");
  require(head_hidden() > 0, "head_hidden", "must be positive");
  require(head_dropout() >= 0 && head_dropout() < 1, "head_dropout", "must be in [0,1)");
}

std::string options_to_json(const HicomexOptions& o) {
  nlohmann::json j;
  j["aus"] = o.aus();
  j["landmarks"] = o.landmarks();
  j["aligned_size"] = o.aligned_size();
  j["crop_size"] = o.crop_size();
  j["region_channels"] = o.region_channels();
  j["global_channels"] = o.global_channels();
  j["landmark_channels"] = o.landmark_channels();
  j["feature_dim"] = o.feature_dim();
  j["local_channels"] = o.local_channels();
  j["local_window"] = o.local_window();
  j["local_dim"] = o.local_dim();
  j["attention_layers"] = o.attention_layers();
  j["attention_heads"] = o.attention_heads();
  j["attention_ff"] = o.attention_ff();
  j["attention_dropout"] = o.attention_dropout();
  j["hopfield_heads"] = o.hopfield_heads();
  j["hopfield_beta"] = o.hopfield_beta();
  j["hopfield_update_steps_max"] = o.hopfield_update_steps_max();
  j["hopfield_update_steps_eps"] = o.hopfield_update_steps_eps();
  j["head_hidden"] = o.head_hidden();
  j["head_dropout"] = o.head_dropout();
  j["variant"] = to_string(o.variant());
  j["intensity_head"] = o.intensity_head();
  return j.dump();
}

HicomexOptions options_from_json(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("HiCOMEX options are not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw std::invalid_argument("HiCOMEX options must be a JSON object");
  HicomexOptions o;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    try {
      if (k == "aus")
        o.aus(v.get<std::vector<int>>());
      else if (k == "landmarks")
        o.landmarks(v.get<int64_t>());
      else if (k == "aligned_size")
        o.aligned_size(v.get<int64_t>());
      else if (k == "crop_size")
        o.crop_size(v.get<int64_t>());
      else if (k == "region_channels")
        o.region_channels(v.get<std::vector<int64_t>>());
      else if (k == "global_channels")
        o.global_channels(v.get<std::vector<int64_t>>());
      else if (k == "landmark_channels")
        o.landmark_channels(v.get<std::vector<int64_t>>());
      else if (k == "feature_dim")
        o.feature_dim(v.get<int64_t>());
      else if (k == "local_channels")
        o.local_channels(v.get<int64_t>());
      else if (k == "local_window")
        o.local_window(v.get<int64_t>());
      else if (k == "local_dim")
        o.local_dim(v.get<int64_t>());
      else if (k == "attention_layers")
        o.attention_layers(v.get<int64_t>());
      else if (k == "attention_heads")
        o.attention_heads(v.get<int64_t>());
      else if (k == "attention_ff")
        o.attention_ff(v.get<int64_t>());
      else if (k == "attention_dropout")
        o.attention_dropout(v.get<double>());
      else if (k == "hopfield_heads")
        o.hopfield_heads(v.get<int64_t>());
      else if (k == "hopfield_beta")
        o.hopfield_beta(v.get<double>());
      else if (k == "hopfield_update_steps_max")
        o.hopfield_update_steps_max(v.get<int64_t>());
      else if (k == "hopfield_update_steps_eps")
        o.hopfield_update_steps_eps(v.get<double>());
      else if (k == "head_hidden")
        o.head_hidden(v.get<int64_t>());
      else if (k == "head_dropout")
        o.head_dropout(v.get<double>());
      else if (k == "variant")
        o.variant(variant_from_string(v.get<std::string>()));
      else if (k == "intensity_head")
        o.intensity_head(v.get<bool>());
      else
        throw std::invalid_argument("HiCOMEX options: unknown key '" + k + "'");
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument("HiCOMEX options: key '" + k + "' has the wrong type (" + v.dump() + ")");
    }
  }
  o.validate();
  return o;
}

}  // namespace hicomex
