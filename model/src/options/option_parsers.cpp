// The one parser of each option text (device, precision, AU thresholds); see
// hicomex/option_parsers.h for the grammars.
#include "hicomex/option_parsers.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

namespace hicomex {

const char* const kDeviceForms = "auto, cpu, cuda or cuda:N";
const char* const kThresholdForms =
    "0.4 (every AU), AU12=0.3,AU4=0.6 (those AUs; also au12= or 12=; the others keep the model's), or one value "
    "per AU in the model's order (0.3,0.5,...); numbers in [0, 1] written with a '.'";

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// ---- thresholds ----

[[noreturn]] void threshold_error(const std::string& whole, const std::string& token, const std::string& why) {
  throw OptionError("threshold", token, "threshold \"" + whole + "\": " + why + " (valid: " + kThresholdForms + ")");
}

// A number in [0, 1], '.' as decimal point whatever the process locale says
// (std::from_chars does not look at the locale).
float parse_probability(const std::string& token, const std::string& whole) {
  const std::string t = trim(token);
  double v = 0.0;
  const char* end = t.data() + t.size();
  const auto r = std::from_chars(t.data(), end, v);
  if (t.empty() || r.ec != std::errc() || r.ptr != end) threshold_error(whole, t, "\"" + t + "\" is not a number");
  if (!(v >= 0.0 && v <= 1.0)) threshold_error(whole, t, t + " is outside [0, 1]");
  return static_cast<float>(v);
}

int parse_au_id(const std::string& token, const std::string& whole) {
  const std::string given = trim(token);
  std::string t = given;
  if (t.size() > 2 && std::tolower(static_cast<unsigned char>(t[0])) == 'a' &&
      std::tolower(static_cast<unsigned char>(t[1])) == 'u')
    t = t.substr(2);
  if (!all_digits(t) || t.size() > 3)
    threshold_error(whole, given, "\"" + given + "\" is not an action unit (write AU12)");
  return std::stoi(t);
}

std::string join_ids(const std::vector<int>& ids) {
  std::ostringstream out;
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? ", " : "") << "AU" << ids[i];
  return out.str();
}

}  // namespace

// ---- device ----

DeviceSpec parse_device(const std::string& text) {
  DeviceSpec d;
  if (text == "auto") return d;
  if (text == "cpu") {
    d.kind = DeviceSpec::Kind::Cpu;
    return d;
  }
  if (text == "cuda") {
    d.kind = DeviceSpec::Kind::Cuda;
    return d;
  }
  if (text.rfind("cuda:", 0) == 0) {
    const std::string n = text.substr(5);
    if (all_digits(n) && n.size() <= 3) {
      d.kind = DeviceSpec::Kind::Cuda;
      d.index = std::stoi(n);
      return d;
    }
  }
  throw DeviceError(text, false, "unknown device '" + text + "' (expected " + kDeviceForms + ", N a GPU number)");
}

std::string to_string(const DeviceSpec& device) {
  switch (device.kind) {
    case DeviceSpec::Kind::Auto: return "auto";
    case DeviceSpec::Kind::Cpu: return "cpu";
    case DeviceSpec::Kind::Cuda: return device.index < 0 ? "cuda" : "cuda:" + std::to_string(device.index);
  }
  return "auto";
}

// ---- precision ----

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names = {"auto", "fp32", "bf16", "fp16"};
  return names;
}

Precision parse_precision(const std::string& text) {
  const auto& names = precision_names();
  const auto it = std::find(names.begin(), names.end(), text);
  if (it == names.end())
    throw OptionError("precision", text, "unknown precision '" + text + "' (expected auto, fp32, bf16 or fp16)");
  return static_cast<Precision>(it - names.begin());
}

const char* to_string(Precision precision) { return precision_names().at(static_cast<size_t>(precision)).c_str(); }

// ---- thresholds ----

ThresholdSpec parse_threshold_spec(const std::string& text) {
  ThresholdSpec spec;
  const std::string whole = trim(text);
  spec.text = whole;
  if (whole.empty()) return spec;
  std::vector<std::string> parts;
  {
    std::string part;
    std::istringstream in(whole);
    while (std::getline(in, part, ',')) parts.push_back(part);
    if (whole.back() == ',') parts.emplace_back();
  }
  const bool named = whole.find('=') != std::string::npos;
  for (const std::string& raw : parts) {
    const std::string part = trim(raw);
    if (part.empty()) threshold_error(whole, part, "an empty entry between commas");
    const auto eq = part.find('=');
    if (named != (eq != std::string::npos))
      threshold_error(
          whole, part,
          "\"" + part + "\": AU=value pairs and plain values do not mix" + (named ? " (write AU12=0.3)" : ""));
    if (!named) {
      spec.in_model_order.push_back(parse_probability(part, whole));
      continue;
    }
    const int id = parse_au_id(part.substr(0, eq), whole);
    const float value = parse_probability(part.substr(eq + 1), whole);
    for (const auto& [known, v] : spec.per_au)
      if (known == id) threshold_error(whole, part, "AU" + std::to_string(id) + " is given twice");
    spec.per_au.emplace_back(id, value);
  }
  if (spec.in_model_order.size() == 1) {
    spec.all = spec.in_model_order.front();
    spec.in_model_order.clear();
  }
  return spec;
}

std::vector<float> resolve_thresholds(const ThresholdSpec& spec, const std::vector<int>& au_ids,
                                      const std::vector<float>& model_thresholds) {
  if (spec.all) return {*spec.all};
  if (!spec.in_model_order.empty()) {
    if (spec.in_model_order.size() != au_ids.size())
      throw OptionError("threshold", spec.text,
                        "threshold \"" + spec.text + "\": " + std::to_string(spec.in_model_order.size()) +
                            " values for a model with " + std::to_string(au_ids.size()) + " AUs (" + join_ids(au_ids) +
                            "); a list of plain values needs one per AU in that order (a " +
                            "decimal comma? write 0.4) (valid: " + kThresholdForms + ")");
    return spec.in_model_order;
  }
  if (spec.per_au.empty()) return {};
  std::vector<float> out = model_thresholds;
  out.resize(au_ids.size(), 0.5f);
  for (const auto& [id, value] : spec.per_au) {
    const auto it = std::find(au_ids.begin(), au_ids.end(), id);
    if (it == au_ids.end())
      throw OptionError("threshold", "AU" + std::to_string(id),
                        "threshold \"" + spec.text + "\": the model has no AU" + std::to_string(id) + " (it has " +
                            join_ids(au_ids) + ")");
    out[static_cast<size_t>(it - au_ids.begin())] = value;
  }
  return out;
}

}  // namespace hicomex
