// Confusion counts, F1 and threshold calibration (see metrics.h for the conventions).
#include "training/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace hicomex::training {
namespace {
double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

void Confusion::add(bool truth, bool predicted) {
  if (truth)
    (predicted ? tp : fn)++;
  else
    (predicted ? fp : tn)++;
}
double Confusion::precision() const { return ratio(double(tp), double(tp + fp)); }
double Confusion::recall() const { return ratio(double(tp), double(tp + fn)); }
double Confusion::f1() const { return ratio(2.0 * double(tp), double(2 * tp + fp + fn)); }
double Confusion::accuracy() const { return ratio(double(tp + tn), double(total())); }

AuMetrics::AuMetrics(std::vector<int> aus) : aus_(std::move(aus)), conf_(aus_.size()) {}

void AuMetrics::add(const std::int8_t* labels, const float* probs, const std::vector<float>& thresholds) {
  if (!thresholds.empty() && thresholds.size() != aus_.size())
    throw std::invalid_argument("metrics: " + std::to_string(thresholds.size()) + " thresholds for " +
                                std::to_string(aus_.size()) + " AUs");
  for (std::size_t j = 0; j < aus_.size(); ++j) {
    if (labels[j] < 0) continue;  // not coded
    const float t = thresholds.empty() ? 0.5f : thresholds[j];
    conf_[j].add(labels[j] == 1, probs[j] >= t);
  }
}

void AuMetrics::add_batch(const std::int8_t* labels, const float* probs, std::size_t n,
                          const std::vector<float>& thresholds) {
  const std::size_t a = aus_.size();
  for (std::size_t i = 0; i < n; ++i) add(labels + i * a, probs + i * a, thresholds);
}

double AuMetrics::mean_f1() const {
  if (conf_.empty()) return 0.0;
  double s = 0;
  for (const auto& c : conf_) s += c.f1();
  return s / double(conf_.size());
}

double AuMetrics::mean_accuracy() const {
  if (conf_.empty()) return 0.0;
  double s = 0;
  for (const auto& c : conf_) s += c.accuracy();
  return s / double(conf_.size());
}

float calibrate_threshold(const std::vector<float>& scores, const std::vector<std::int8_t>& labels) {
  if (scores.size() != labels.size())
    throw std::invalid_argument("calibrate_threshold: " + std::to_string(scores.size()) + " scores, " +
                                std::to_string(labels.size()) + " labels");
  std::vector<std::pair<float, bool>> v;
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (labels[i] >= 0) v.emplace_back(scores[i], labels[i] == 1);
  const auto positives = std::count_if(v.begin(), v.end(), [](const auto& p) { return p.second; });
  if (positives == 0) return 0.5f;
  // Descending scores: predicting the top k positive; evaluate F1 at each distinct cut.
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  double best_f1 = -1;
  float best_t = 0.5f;
  std::int64_t tp = 0, fp = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    (v[i].second ? tp : fp)++;
    if (i + 1 < v.size() && v[i + 1].first == v[i].first) continue;  // cut only between distinct scores
    const float lower = i + 1 < v.size() ? v[i + 1].first : std::max(0.f, v[i].first - 1e-3f);
    const float t = std::clamp(0.5f * (v[i].first + lower), 1e-6f, 1.f - 1e-6f);
    const double f1 = 2.0 * double(tp) / double(tp + fp + positives);
    if (f1 > best_f1 + 1e-12 || (std::abs(f1 - best_f1) <= 1e-12 && std::abs(t - 0.5f) < std::abs(best_t - 0.5f))) {
      best_f1 = f1;
      best_t = t;
    }
  }
  return best_t;
}

std::vector<float> calibrate_thresholds(const std::vector<float>& scores, const std::vector<std::int8_t>& labels,
                                        std::size_t n_aus) {
  if (n_aus == 0 || scores.size() != labels.size() || scores.size() % n_aus != 0)
    throw std::invalid_argument("calibrate_thresholds: scores / labels are not n x " + std::to_string(n_aus));
  const std::size_t n = scores.size() / n_aus;
  std::vector<float> out(n_aus);
  std::vector<float> s(n);
  std::vector<std::int8_t> l(n);
  for (std::size_t j = 0; j < n_aus; ++j) {
    for (std::size_t i = 0; i < n; ++i) s[i] = scores[i * n_aus + j], l[i] = labels[i * n_aus + j];
    out[j] = calibrate_threshold(s, l);
  }
  return out;
}

IntensityMetrics::IntensityMetrics(std::vector<int> aus) : aus_(std::move(aus)), acc_(aus_.size()) {}

void IntensityMetrics::Moments::add(double x, double y) {
  // Welford's update of the means and the centred co-moments.
  ++n;
  const double dx = x - mean_x, dy = y - mean_y;
  mean_x += dx / double(n);
  mean_y += dy / double(n);
  sxx += dx * (x - mean_x);
  syy += dy * (y - mean_y);
  sxy += dx * (y - mean_y);
  abs_err += std::abs(x - y);
}

void IntensityMetrics::add(const float* predicted, const float* labels) {
  for (std::size_t j = 0; j < aus_.size(); ++j) {
    if (std::isnan(labels[j])) continue;  // not coded
    if (std::isnan(predicted[j]))
      throw std::invalid_argument("intensity metrics: no predicted intensity for AU" + std::to_string(aus_[j]) +
                                  " where the label is coded (does the model have an intensity head?)");
    acc_[j].add(predicted[j], labels[j]);
  }
}

void IntensityMetrics::add_batch(const float* predicted, const float* labels, std::size_t n) {
  const std::size_t a = aus_.size();
  for (std::size_t i = 0; i < n; ++i) add(predicted + i * a, labels + i * a);
}

double IntensityMetrics::ms_rows(std::size_t j) const {
  const auto& m = acc_.at(j);
  if (m.n < 2) return kNaN;
  // SS_rows = k sum_i (row mean - grand mean)^2 = (Sxx + Syy + 2 Sxy) / 2 for k = 2.
  return 0.5 * (m.sxx + m.syy + 2.0 * m.sxy) / double(m.n - 1);
}

double IntensityMetrics::ms_err(std::size_t j) const {
  const auto& m = acc_.at(j);
  if (m.n < 2) return kNaN;
  // SS_err = SS_total - SS_rows - SS_cols = (Sxx + Syy - 2 Sxy) / 2, with (n - 1)(k - 1) degrees of freedom.
  return 0.5 * (m.sxx + m.syy - 2.0 * m.sxy) / double(m.n - 1);
}

double IntensityMetrics::icc(std::size_t j) const {
  const auto& m = acc_.at(j);
  if (m.n == 0) return kNaN;
  // (MS_rows - MS_err) / (MS_rows + MS_err) with both over n - 1: the factors cancel,
  // leaving 2 Sxy / (Sxx + Syy), which is also defined (0 / 0 -> 0) for n = 1.
  return ratio(2.0 * m.sxy, m.sxx + m.syy);
}

double IntensityMetrics::pearson(std::size_t j) const {
  const auto& m = acc_.at(j);
  if (m.n == 0) return kNaN;
  if (!(m.sxx > 0) || !(m.syy > 0)) return 0.0;
  return std::clamp(m.sxy / std::sqrt(m.sxx * m.syy), -1.0, 1.0);
}

double IntensityMetrics::mae(std::size_t j) const {
  const auto& m = acc_.at(j);
  return m.n == 0 ? kNaN : m.abs_err / double(m.n);
}

double IntensityMetrics::mean_of(double (IntensityMetrics::*metric)(std::size_t) const) const {
  double s = 0;
  int counted = 0;
  for (std::size_t j = 0; j < acc_.size(); ++j)
    if (acc_[j].n > 0) s += (this->*metric)(j), ++counted;
  return counted ? s / counted : kNaN;
}

double IntensityMetrics::mean_icc() const { return mean_of(&IntensityMetrics::icc); }
double IntensityMetrics::mean_pearson() const { return mean_of(&IntensityMetrics::pearson); }
double IntensityMetrics::mean_mae() const { return mean_of(&IntensityMetrics::mae); }

}  // namespace hicomex::training
