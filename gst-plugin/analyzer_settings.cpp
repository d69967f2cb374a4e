#include "analyzer_settings.h"

#include <glib.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

namespace hicomex::gst {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// g_ascii_strtod: "0.5" means one half whatever the process locale says.
float parse_probability(const std::string& text, const std::string& whole) {
  const std::string t = trim(text);
  gchar* end = nullptr;
  const double v = t.empty() ? 0.0 : g_ascii_strtod(t.c_str(), &end);
  if (t.empty() || end == nullptr || *end != '\0')
    throw std::invalid_argument("threshold \"" + whole + "\": \"" + t + "\" is not a number");
  if (!(v >= 0.0 && v <= 1.0))
    throw std::invalid_argument("threshold \"" + whole + "\": " + t + " is outside [0, 1]");
  return static_cast<float>(v);
}

int parse_au_id(const std::string& text, const std::string& whole) {
  std::string t = trim(text);
  if (t.size() > 2 && (t[0] == 'A' || t[0] == 'a') && (t[1] == 'U' || t[1] == 'u')) t = t.substr(2);
  if (t.empty() || t.size() > 3 || !std::all_of(t.begin(), t.end(), [](unsigned char c) { return std::isdigit(c); }))
    throw std::invalid_argument("threshold \"" + whole + "\": \"" + trim(text) +
                                "\" is not an action unit (write AU12)");
  return std::stoi(t);
}

std::string join_ids(const std::vector<int>& ids) {
  std::ostringstream out;
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? ", " : "") << "AU" << ids[i];
  return out.str();
}

}  // namespace

ThresholdSpec parse_threshold_spec(const std::string& text) {
  ThresholdSpec spec;
  const std::string whole = trim(text);
  if (whole.empty()) return spec;
  if (whole.find('=') == std::string::npos) {
    spec.all = parse_probability(whole, whole);
    return spec;
  }
  std::istringstream parts(whole);
  for (std::string part; std::getline(parts, part, ',');) {
    const auto eq = part.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("threshold \"" + whole + "\": \"" + trim(part) + "\" is not AUnn=value");
    const int id = parse_au_id(part.substr(0, eq), whole);
    const float value = parse_probability(part.substr(eq + 1), whole);
    for (auto& [known, v] : spec.per_au)
      if (known == id) throw std::invalid_argument("threshold \"" + whole + "\": AU" + std::to_string(id) + " given twice");
    spec.per_au.emplace_back(id, value);
  }
  return spec;
}

std::vector<float> resolve_thresholds(const ThresholdSpec& spec, const std::vector<int>& au_ids,
                                      const std::vector<float>& model_thresholds) {
  if (spec.all) return {*spec.all};
  if (spec.per_au.empty()) return {};
  std::vector<float> out = model_thresholds;
  for (const auto& [id, value] : spec.per_au) {
    const auto it = std::find(au_ids.begin(), au_ids.end(), id);
    if (it == au_ids.end())
      throw std::invalid_argument("threshold: the model has no AU" + std::to_string(id) + " (it has " +
                                  join_ids(au_ids) + ")");
    out[static_cast<size_t>(it - au_ids.begin())] = value;
  }
  return out;
}

AnalyzerOptions construction_options(const AnalyzerSettings& s) {
  AnalyzerOptions o;
  o.model_path = s.model;
  o.device = s.device;
  o.precision = s.precision;
  o.batch_timeout_us = s.batch_timeout_us;
  o.detector = s.detector;
  o.threads = s.threads;
  o.au_batch_frames = s.au_batch;
  o.detection_interval = s.detection_interval;
  o.inference_interval = s.inference_interval;
  o.max_faces = s.max_faces;
  o.min_face_size = s.min_face_size;
  o.landmark_smoothing_hz = static_cast<float>(s.landmark_smoothing);
  o.au_smoothing = static_cast<float>(s.au_smoothing);
  o.calibration = s.calibration;
  return o;
}

AnalyzerOptions runtime_options(const AnalyzerSettings& s, const std::vector<int>& au_ids,
                                const std::vector<float>& model_thresholds) {
  AnalyzerOptions o = construction_options(s);
  o.thresholds = resolve_thresholds(parse_threshold_spec(s.threshold), au_ids, model_thresholds);
  return o;
}

}  // namespace hicomex::gst
