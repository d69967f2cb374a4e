// AU statistics of the synthetic data: expression prototypes mixed with
// random combinations, plus co-occurrence and exclusion rules. The defaults
// are documented in docs/synthetic-faces.md and can be overridden from JSON.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "au_model.h"
#include "synth_rng.h"

namespace hicomex::synth {

struct ExpressionPrototype {
  std::string name;
  std::vector<int> aus;
  double weight = 1.0;  ///< relative frequency among prototypes
};

/// When both AUs are active, keep both with probability `keep`; otherwise the
/// weaker one is removed (ties: `b`).
struct AuExclusion {
  int a = 0, b = 0;
  double keep = 0.0;
};

/// `a` active implies `b` active, at least at `a`'s intensity times `ratio`.
struct AuImplication {
  int a = 0, b = 0;
  double ratio = 1.0;
};

struct ExpressionRules {
  /// Occurrence label: intensity >= threshold (FACS B = 2, as DISFA codes occurrence).
  double occurrence_threshold = 2.0;
  double neutral_probability = 0.12;   ///< all AUs 0
  double random_probability = 0.3;     ///< a random AU combination instead of a prototype
  double drop_probability = 0.15;      ///< each prototype AU left out
  double extra_au_probability = 0.05;  ///< each other AU added on top of a prototype
  int random_min_aus = 1, random_max_aus = 4;
  double trace_probability = 0.12;                  ///< an active AU drawn at a sub-threshold (trace) intensity
  double min_intensity = 2.0, max_intensity = 5.0;  ///< range of a clearly active AU
  std::vector<ExpressionPrototype> prototypes;
  std::vector<AuImplication> implications;
  std::vector<AuExclusion> exclusions;
};

/// The documented defaults: the six basic-emotion prototypes of the issue plus
/// a few common non-emotional ones, 26 -> 25, 12 x 15 rare, 24 x 25/26 never.
ExpressionRules default_expression_rules();

/// Reads rules from JSON; keys left out keep their defaults. Throws
/// std::invalid_argument naming the key at fault.
ExpressionRules expression_rules_from_json(const nlohmann::json& j);
nlohmann::json to_json(const ExpressionRules& rules);

struct Expression {
  std::string name;   ///< prototype name, "random" or "neutral"
  AuIntensities aus;  ///< every rendered AU, 0 when absent; rounded to 0.01
};

/// Draws one expression. Same generator state -> same expression.
Expression sample_expression(Rng& rng, const ExpressionRules& rules);

/// Applies the implication and exclusion rules to `aus` (in place).
void apply_rules(AuIntensities& aus, const ExpressionRules& rules, Rng& rng);

/// Occurrence label of an intensity.
inline int occurrence(float intensity, const ExpressionRules& rules) {
  return intensity >= rules.occurrence_threshold - 1e-6 ? 1 : 0;
}

}  // namespace hicomex::synth
