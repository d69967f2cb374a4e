// Expression sampling. Prototypes after EMFACS-style emotion predictions
// (Ekman & Friesen); the extra prototypes make AU10, 14, 17 and 24 common
// enough to learn.
#include "expression_sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace hicomex::synth {
namespace {

float round2(double v) { return static_cast<float>(std::round(v * 100.0) / 100.0); }

float draw_intensity(Rng& rng, const ExpressionRules& r, double strength) {
  if (rng.chance(r.trace_probability)) return round2(rng.uniform(0.5, std::max(0.6, r.occurrence_threshold - 0.2)));
  double span = r.max_intensity - r.min_intensity;
  double v = r.min_intensity + span * std::clamp(strength * rng.uniform(0.75, 1.2), 0.0, 1.0);
  return round2(std::clamp(v, 0.0, 5.0));
}

void check_au(int au, const std::string& where) {
  if (!is_rendered_au(au))
    throw std::invalid_argument("expression rules: AU" + std::to_string(au) + " in " + where +
                                " is not rendered by hicomex-synth");
}

}  // namespace

ExpressionRules default_expression_rules() {
  ExpressionRules r;
  r.prototypes = {
      {"happiness", {6, 12}, 1.0},
      {"surprise", {1, 2, 5, 26}, 1.0},
      {"anger", {4, 5, 7, 23}, 1.0},
      {"sadness", {1, 4, 15}, 1.0},
      {"fear", {1, 2, 4, 5, 7, 20, 26}, 1.0},
      {"disgust", {9, 15}, 1.0},
      {"laughter", {6, 12, 25}, 0.7},
      {"contempt", {12, 14}, 0.5},
      {"pain", {4, 6, 7, 9, 10}, 0.5},
      {"lip_press", {17, 24}, 0.6},
      {"doubt", {4, 14, 17}, 0.4},
      {"sneer", {10, 17}, 0.4},
      {"talking", {25}, 0.5},
  };
  r.implications = {{26, 25, 0.8}};
  r.exclusions = {{12, 15, 0.05}, {24, 25, 0.0}, {24, 26, 0.0}, {23, 26, 0.1}};
  return r;
}

void apply_rules(AuIntensities& aus, const ExpressionRules& rules, Rng& rng) {
  for (const auto& imp : rules.implications) {
    float a = au_intensity(aus, imp.a);
    if (a > 0.f) aus[imp.b] = std::max(aus[imp.b], round2(std::min(5.0, a * imp.ratio)));
  }
  for (const auto& ex : rules.exclusions) {
    float a = au_intensity(aus, ex.a), b = au_intensity(aus, ex.b);
    if (a <= 0.f || b <= 0.f) continue;
    if (ex.keep > 0.0 && rng.chance(ex.keep)) continue;
    if (a > b)
      aus[ex.b] = 0.f;
    else
      aus[ex.a] = 0.f;
  }
  // An implication may have been broken by an exclusion (26 kept, 25 removed).
  for (const auto& imp : rules.implications)
    if (au_intensity(aus, imp.a) > 0.f && au_intensity(aus, imp.b) <= 0.f) aus[imp.a] = 0.f;
}

Expression sample_expression(Rng& rng, const ExpressionRules& rules) {
  Expression e;
  for (int au : rendered_aus()) e.aus[au] = 0.f;
  // Fixed number of draws per branch keeps later draws independent of the branch taken.
  Rng branch = rng.fork(1), body = rng.fork(2), rules_rng = rng.fork(3);
  const double u = branch.uniform();
  const double strength = body.uniform(0.15, 1.0);
  if (u < rules.neutral_probability) {
    e.name = "neutral";
    return e;
  }
  if (u < rules.neutral_probability + rules.random_probability || rules.prototypes.empty()) {
    e.name = "random";
    const auto& all = rendered_aus();
    int n = body.integer(rules.random_min_aus, std::max(rules.random_min_aus, rules.random_max_aus));
    for (int k = 0; k < n; ++k) {
      int au = all[body.integer(0, static_cast<int>(all.size()) - 1)];
      e.aus[au] = std::max(e.aus[au], draw_intensity(body, rules, body.uniform(0.1, 1.0)));
    }
  } else {
    double total = 0.0;
    for (const auto& p : rules.prototypes) total += p.weight;
    double pick = body.uniform() * total;
    const ExpressionPrototype* proto = &rules.prototypes.back();
    for (const auto& p : rules.prototypes) {
      if (pick < p.weight) {
        proto = &p;
        break;
      }
      pick -= p.weight;
    }
    e.name = proto->name;
    for (int au : proto->aus) {
      if (body.chance(rules.drop_probability)) continue;
      e.aus[au] = draw_intensity(body, rules, strength);
    }
    for (int au : rendered_aus())
      if (e.aus[au] == 0.f && body.chance(rules.extra_au_probability))
        e.aus[au] = draw_intensity(body, rules, body.uniform(0.1, 0.8));
  }
  apply_rules(e.aus, rules, rules_rng);
  return e;
}

nlohmann::json to_json(const ExpressionRules& r) {
  nlohmann::json j;
  j["occurrence_threshold"] = r.occurrence_threshold;
  j["neutral_probability"] = r.neutral_probability;
  j["random_probability"] = r.random_probability;
  j["drop_probability"] = r.drop_probability;
  j["extra_au_probability"] = r.extra_au_probability;
  j["random_min_aus"] = r.random_min_aus;
  j["random_max_aus"] = r.random_max_aus;
  j["trace_probability"] = r.trace_probability;
  j["min_intensity"] = r.min_intensity;
  j["max_intensity"] = r.max_intensity;
  j["prototypes"] = nlohmann::json::array();
  for (const auto& p : r.prototypes)
    j["prototypes"].push_back({{"name", p.name}, {"aus", p.aus}, {"weight", p.weight}});
  j["implications"] = nlohmann::json::array();
  for (const auto& i : r.implications) j["implications"].push_back({{"if", i.a}, {"then", i.b}, {"ratio", i.ratio}});
  j["exclusions"] = nlohmann::json::array();
  for (const auto& x : r.exclusions) j["exclusions"].push_back({{"a", x.a}, {"b", x.b}, {"keep", x.keep}});
  return j;
}

ExpressionRules expression_rules_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("expression rules: expected a JSON object");
  ExpressionRules r = default_expression_rules();
  auto num = [&](const char* key, double& out, double lo, double hi) {
    if (!j.contains(key)) return;
    if (!j[key].is_number())
      throw std::invalid_argument(std::string("expression rules: '") + key + "' must be a number");
    out = j[key].get<double>();
    if (out < lo || out > hi)
      throw std::invalid_argument(std::string("expression rules: '") + key + "' = " + std::to_string(out) +
                                  " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  num("occurrence_threshold", r.occurrence_threshold, 0.01, 5.0);
  num("neutral_probability", r.neutral_probability, 0.0, 1.0);
  num("random_probability", r.random_probability, 0.0, 1.0);
  num("drop_probability", r.drop_probability, 0.0, 1.0);
  num("extra_au_probability", r.extra_au_probability, 0.0, 1.0);
  num("trace_probability", r.trace_probability, 0.0, 1.0);
  num("min_intensity", r.min_intensity, 0.0, 5.0);
  num("max_intensity", r.max_intensity, 0.0, 5.0);
  double lo = r.random_min_aus, hi = r.random_max_aus;
  num("random_min_aus", lo, 1, 17);
  num("random_max_aus", hi, 1, 17);
  r.random_min_aus = static_cast<int>(lo);
  r.random_max_aus = static_cast<int>(hi);
  if (r.min_intensity > r.max_intensity)
    throw std::invalid_argument("expression rules: min_intensity is above max_intensity");
  try {
    if (j.contains("prototypes")) {
      r.prototypes.clear();
      for (const auto& p : j.at("prototypes")) {
        ExpressionPrototype ep{p.at("name").get<std::string>(), p.at("aus").get<std::vector<int>>(),
                               p.value("weight", 1.0)};
        for (int au : ep.aus) check_au(au, "prototype '" + ep.name + "'");
        r.prototypes.push_back(ep);
      }
    }
    if (j.contains("implications")) {
      r.implications.clear();
      for (const auto& p : j.at("implications")) {
        AuImplication i{p.at("if").get<int>(), p.at("then").get<int>(), p.value("ratio", 1.0)};
        check_au(i.a, "implications");
        check_au(i.b, "implications");
        r.implications.push_back(i);
      }
    }
    if (j.contains("exclusions")) {
      r.exclusions.clear();
      for (const auto& p : j.at("exclusions")) {
        AuExclusion x{p.at("a").get<int>(), p.at("b").get<int>(), p.value("keep", 0.0)};
        check_au(x.a, "exclusions");
        check_au(x.b, "exclusions");
        r.exclusions.push_back(x);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("expression rules: ") + e.what());
  }
  return r;
}

}  // namespace hicomex::synth
