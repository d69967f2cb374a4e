// AU detection metrics as the literature reports them: F1 of the positive class per
// AU, averaged over AUs; precision, recall and accuracy beside it. Not-coded labels
// are ignored. Zero-division convention (sklearn's zero_division=0): a ratio whose
// denominator is 0 is 0 - so an AU with no positives and no predicted positives has
// F1 = 0 (and pulls the average down, which is why such AUs should not be evaluated).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hicomex::training {

struct Confusion {
  std::int64_t tp = 0, fp = 0, fn = 0, tn = 0;

  void add(bool truth, bool predicted);
  std::int64_t total() const { return tp + fp + fn + tn; }
  double precision() const;  ///< tp / (tp + fp), 0 if no predicted positives
  double recall() const;     ///< tp / (tp + fn), 0 if no positives
  double f1() const;         ///< 2tp / (2tp + fp + fn), 0 if that denominator is 0
  double accuracy() const;   ///< (tp + tn) / total, 0 if total is 0
};

/// Per-AU confusion counts over a whole evaluation.
class AuMetrics {
 public:
  explicit AuMetrics(std::vector<int> aus);

  /// One sample: labels (1 / 0 / negative = not coded) and probabilities per AU,
  /// predicted positive when prob >= threshold (thresholds empty = 0.5 each).
  void add(const std::int8_t* labels, const float* probs, const std::vector<float>& thresholds = {});
  /// A batch laid out row-major, n x aus().size().
  void add_batch(const std::int8_t* labels, const float* probs, std::size_t n,
                 const std::vector<float>& thresholds = {});

  const std::vector<int>& aus() const { return aus_; }
  const Confusion& confusion(std::size_t au_index) const { return conf_.at(au_index); }
  double mean_f1() const;
  double mean_accuracy() const;

 private:
  std::vector<int> aus_;
  std::vector<Confusion> conf_;
};

/// Threshold in (0, 1) maximising F1 for one AU on validation scores (not-coded
/// labels skipped). Candidates are midpoints between consecutive distinct scores;
/// ties go to the candidate closest to 0.5. Returns 0.5 when there are no positives.
float calibrate_threshold(const std::vector<float>& scores, const std::vector<std::int8_t>& labels);
/// Per AU, from row-major n x A arrays.
std::vector<float> calibrate_thresholds(const std::vector<float>& scores,
                                        const std::vector<std::int8_t>& labels, std::size_t n_aus);

/// One row of a results table.
struct MetricsRow {
  std::string name;     ///< "HiCOMEX fold 1"
  AuMetrics metrics;
};
/// The paper's layout: a column per AU ("AU1") and "Avg", F1 in % with one decimal.
std::string markdown_f1_table(const std::vector<MetricsRow>& rows);
/// Per-AU precision / recall / accuracy / F1 (in %) and the counts, for one row.
std::string markdown_detail_table(const MetricsRow& row);
/// {"aus": [...], "rows": [{"name", "f1": {"AU1": ..}, "avg_f1", "precision", "recall",
///  "accuracy", "counts"}]} with ratios in [0, 1].
std::string json_report(const std::vector<MetricsRow>& rows, const std::vector<float>& thresholds = {});

}  // namespace hicomex::training
