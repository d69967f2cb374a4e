// Results tables: the paper's Markdown layout and a JSON report.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "hicomex/au_catalog.h"
#include "training/metrics.h"

namespace hicomex::training {
namespace {
std::string pct(double v) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << 100.0 * v;
  return os.str();
}

/// Two decimals, as intensity agreement is usually reported; "n/a" for an AU without coded frames.
std::string dec2(double v) {
  if (std::isnan(v)) return "n/a";
  std::ostringstream os;
  os << std::fixed << std::setprecision(2) << v;
  return os.str();
}

/// NaN (no coded frames) becomes null: JSON has no NaN.
nlohmann::json number_or_null(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

std::string au_list(const std::vector<int>& aus) {
  std::string s;
  for (int au : aus) s += (s.empty() ? "" : " ") + au_label(au);
  return s;
}
}  // namespace

std::string markdown_f1_table(const std::vector<MetricsRow>& rows) {
  if (rows.empty()) return {};
  const auto& aus = rows.front().metrics.aus();
  for (const auto& r : rows)
    if (r.metrics.aus() != aus) throw std::invalid_argument("table rows '" + r.name + "' use other AUs");
  std::ostringstream os;
  os << "| F1 (%) |";
  for (int au : aus) os << ' ' << au_label(au) << " |";
  os << " Avg |\n|---|";
  for (std::size_t j = 0; j < aus.size(); ++j) os << "---:|";
  os << "---:|\n";
  for (const auto& r : rows) {
    os << "| " << r.name << " |";
    for (std::size_t j = 0; j < aus.size(); ++j) os << ' ' << pct(r.metrics.confusion(j).f1()) << " |";
    os << " **" << pct(r.metrics.mean_f1()) << "** |\n";
  }
  return os.str();
}

std::string markdown_detail_table(const MetricsRow& row) {
  std::ostringstream os;
  os << "| " << row.name << " | F1 (%) | Precision (%) | Recall (%) | Accuracy (%) | TP | FP | FN | TN |\n"
     << "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  const auto& aus = row.metrics.aus();
  for (std::size_t j = 0; j < aus.size(); ++j) {
    const auto& c = row.metrics.confusion(j);
    os << "| " << au_label(aus[j]) << " | " << pct(c.f1()) << " | " << pct(c.precision()) << " | " << pct(c.recall())
       << " | " << pct(c.accuracy()) << " | " << c.tp << " | " << c.fp << " | " << c.fn << " | " << c.tn << " |\n";
  }
  os << "| Avg | " << pct(row.metrics.mean_f1()) << " | | | " << pct(row.metrics.mean_accuracy()) << " | | | | |\n";
  return os.str();
}

std::string markdown_intensity_table(const MetricsRow& row) {
  if (!row.intensity) throw std::invalid_argument("row '" + row.name + "' has no intensity metrics");
  const IntensityMetrics& m = *row.intensity;
  const auto& aus = m.aus();
  std::ostringstream os;
  os << "| " << row.name << " intensity |";
  for (int au : aus) os << ' ' << au_label(au) << " |";
  os << " Avg |\n|---|";
  for (std::size_t j = 0; j <= aus.size(); ++j) os << "---:|";
  os << '\n';
  auto line = [&](const char* label, double (IntensityMetrics::*metric)(std::size_t) const, double avg) {
    os << "| " << label << " |";
    for (std::size_t j = 0; j < aus.size(); ++j) os << ' ' << dec2((m.*metric)(j)) << " |";
    os << " **" << dec2(avg) << "** |\n";
  };
  line("ICC(3,1)", &IntensityMetrics::icc, m.mean_icc());
  line("Pearson r", &IntensityMetrics::pearson, m.mean_pearson());
  line("MAE", &IntensityMetrics::mae, m.mean_mae());
  os << "| Coded frames |";
  for (std::size_t j = 0; j < aus.size(); ++j) os << ' ' << m.frames(j) << " |";
  os << " |\n";
  return os.str();
}

std::string markdown_coverage(const AuCoverage& c) {
  std::ostringstream os;
  os << "Scored AUs: " << au_list(c.scored);
  if (c.left_out.empty()) {
    os << " (all " << c.model_aus.size() << " of the model's AUs).";
    return os.str();
  }
  os << " (" << c.scored.size() << " of the model's " << c.model_aus.size() << "). Left out:";
  // One group per reason, in the order the reasons first occur.
  std::vector<std::string> reasons;
  for (const auto& l : c.left_out)
    if (std::find(reasons.begin(), reasons.end(), l.reason) == reasons.end()) reasons.push_back(l.reason);
  for (std::size_t r = 0; r < reasons.size(); ++r) {
    std::vector<int> aus;
    for (const auto& l : c.left_out)
      if (l.reason == reasons[r]) aus.push_back(l.au);
    os << (r ? ";" : "") << ' ' << au_list(aus) << " (" << reasons[r] << ")";
  }
  os << '.';
  return os.str();
}

std::string json_report(const std::vector<MetricsRow>& rows, const std::vector<float>& thresholds,
                        const AuCoverage* coverage) {
  nlohmann::json j;
  j["aus"] = rows.empty() ? std::vector<int>{} : rows.front().metrics.aus();
  j["zero_division"] = 0;
  if (!thresholds.empty()) j["thresholds"] = thresholds;
  if (coverage) {
    j["model_aus"] = coverage->model_aus;
    j["scored_aus"] = coverage->scored;
    j["left_out"] = nlohmann::json::array();
    for (const auto& l : coverage->left_out) j["left_out"].push_back({{"au", l.au}, {"reason", l.reason}});
  }
  j["rows"] = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json row;
    row["name"] = r.name;
    const auto& aus = r.metrics.aus();
    for (std::size_t i = 0; i < aus.size(); ++i) {
      const auto& c = r.metrics.confusion(i);
      const std::string k = au_label(aus[i]);
      row["f1"][k] = c.f1();
      row["precision"][k] = c.precision();
      row["recall"][k] = c.recall();
      row["accuracy"][k] = c.accuracy();
      row["counts"][k] = {{"tp", c.tp}, {"fp", c.fp}, {"fn", c.fn}, {"tn", c.tn}};
    }
    row["avg_f1"] = r.metrics.mean_f1();
    row["avg_accuracy"] = r.metrics.mean_accuracy();
    if (r.intensity) {
      const IntensityMetrics& m = *r.intensity;
      nlohmann::json in;
      in["aus"] = m.aus();
      for (const char* k : {"icc", "pearson", "mae", "frames"}) in[k] = nlohmann::json::object();
      for (std::size_t i = 0; i < m.aus().size(); ++i) {
        const std::string k = au_label(m.aus()[i]);
        in["icc"][k] = number_or_null(m.icc(i));
        in["pearson"][k] = number_or_null(m.pearson(i));
        in["mae"][k] = number_or_null(m.mae(i));
        in["frames"][k] = m.frames(i);
      }
      in["avg_icc"] = number_or_null(m.mean_icc());
      in["avg_pearson"] = number_or_null(m.mean_pearson());
      in["avg_mae"] = number_or_null(m.mean_mae());
      row["intensity"] = in;
    }
    if (!r.intensity_note.empty()) row["intensity_note"] = r.intensity_note;
    j["rows"].push_back(row);
  }
  return j.dump(2);
}

}  // namespace hicomex::training
