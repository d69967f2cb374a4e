#include "analyzer_settings.h"

#include "hicomex/option_parsers.h"

namespace hicomex::gst {

AnalyzerOptions construction_options(const AnalyzerSettings& s) {
  AnalyzerOptions o = s.options;
  o.thresholds.clear();
  return o;
}

AnalyzerOptions runtime_options(const AnalyzerSettings& s, const std::vector<int>& au_ids,
                                const std::vector<float>& model_thresholds) {
  AnalyzerOptions o = construction_options(s);
  o.thresholds = resolve_thresholds(parse_threshold_spec(s.threshold), au_ids, model_thresholds);
  return o;
}

}  // namespace hicomex::gst
