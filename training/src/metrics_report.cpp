// Results tables: the paper's Markdown layout and a JSON report.
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
    os << "| " << au_label(aus[j]) << " | " << pct(c.f1()) << " | " << pct(c.precision()) << " | "
       << pct(c.recall()) << " | " << pct(c.accuracy()) << " | " << c.tp << " | " << c.fp << " | " << c.fn
       << " | " << c.tn << " |\n";
  }
  os << "| Avg | " << pct(row.metrics.mean_f1()) << " | | | " << pct(row.metrics.mean_accuracy())
     << " | | | | |\n";
  return os.str();
}

std::string json_report(const std::vector<MetricsRow>& rows, const std::vector<float>& thresholds) {
  nlohmann::json j;
  j["aus"] = rows.empty() ? std::vector<int>{} : rows.front().metrics.aus();
  j["zero_division"] = 0;
  if (!thresholds.empty()) j["thresholds"] = thresholds;
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
    j["rows"].push_back(row);
  }
  return j.dump(2);
}

}  // namespace hicomex::training
