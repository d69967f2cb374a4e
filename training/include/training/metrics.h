// AU detection metrics as the literature reports them: F1 of the positive class per
// AU, averaged over AUs; precision, recall and accuracy beside it. Not-coded labels
// are ignored. Zero-division convention (sklearn's zero_division=0): a ratio whose
// denominator is 0 is 0 - so an AU with no positives and no predicted positives has
// F1 = 0 (and pulls the average down, which is why such AUs should not be evaluated).
//
// AU intensity (0-5, FACS A-E) is scored as OpenFace and the FERA challenges do: per AU,
// over the frames whose label intensity is coded, ICC(3,1) between prediction and label
// (two "raters"), Pearson's r and the mean absolute error; averages over AUs.
#pragma once
#include <cstdint>
#include <optional>
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
std::vector<float> calibrate_thresholds(const std::vector<float>& scores, const std::vector<std::int8_t>& labels,
                                        std::size_t n_aus);

/// Agreement of predicted and coded intensities, per AU, accumulated frame by frame
/// (running means and co-moments in double precision, so batches can be added in
/// any split without the cancellation of raw sums of squares).
///
/// With x = prediction, y = label over the n coded frames of an AU, the two-way ANOVA
/// without replication (n frames x k = 2 raters) has
///   MS_rows = SS_rows / (n - 1),  SS_rows = 2 * sum_i (m_i - m)^2   (m_i = (x_i + y_i) / 2, m the grand mean)
///   MS_err  = SS_err / (n - 1),   SS_err  = SS_total - SS_rows - SS_cols
/// (SS_cols = n * ((mean x - m)^2 + (mean y - m)^2), SS_total = sum of squares about m)
/// and ICC(3,1) = (MS_rows - MS_err) / (MS_rows + (k - 1) MS_err). For k = 2 this equals
/// 2 Sxy / (Sxx + Syy) (S.. the centred sums of squares and products): the raters'
/// consistency - a constant offset does not lower it, but unlike r a difference in
/// scale does. Pearson r = Sxy / sqrt(Sxx Syy); MAE = mean |x - y|.
///
/// Conventions: an AU without coded frames has no value (NaN: "n/a" in tables, null in
/// JSON) and is left out of the averages, since no number would be honest (an MAE of 0
/// would read as perfect). With coded frames, a zero denominator (ICC: both columns
/// constant, which includes n = 1; r: either column constant) gives 0, as F1 does.
class IntensityMetrics {
 public:
  explicit IntensityMetrics(std::vector<int> aus);

  /// One frame: predicted and label intensity per AU. A NaN label (not coded) is
  /// skipped; a NaN prediction for a coded label throws (the model has no intensity output).
  void add(const float* predicted, const float* labels);
  /// A batch laid out row-major, n x aus().size().
  void add_batch(const float* predicted, const float* labels, std::size_t n);

  const std::vector<int>& aus() const { return aus_; }
  std::int64_t frames(std::size_t au_index) const { return acc_.at(au_index).n; }
  double icc(std::size_t au_index) const;      ///< ICC(3,1); NaN without coded frames
  double pearson(std::size_t au_index) const;  ///< NaN without coded frames
  double mae(std::size_t au_index) const;      ///< NaN without coded frames
  double ms_rows(std::size_t au_index) const;  ///< between-frames mean square (NaN for n < 2)
  double ms_err(std::size_t au_index) const;   ///< residual mean square (NaN for n < 2)
  /// Averages over the AUs with coded frames (NaN when none has any).
  double mean_icc() const;
  double mean_pearson() const;
  double mean_mae() const;

 private:
  struct Moments {
    std::int64_t n = 0;
    double mean_x = 0, mean_y = 0, sxx = 0, syy = 0, sxy = 0, abs_err = 0;
    void add(double x, double y);
  };
  double mean_of(double (IntensityMetrics::*metric)(std::size_t) const) const;
  std::vector<int> aus_;
  std::vector<Moments> acc_;
};

/// Which of a model's AUs an evaluation scored, and why the others were left out
/// (cross-dataset evaluation scores the AUs both the model and the data have).
struct AuCoverage {
  struct LeftOut {
    int au = 0;
    std::string reason;  ///< "not coded by the data", "not in --aus", ...
  };
  std::vector<int> model_aus;     ///< every AU the model predicts
  std::vector<int> scored;        ///< the scored ones, in the model's order
  std::vector<LeftOut> left_out;  ///< the model's other AUs
};

/// One row of a results table.
struct MetricsRow {
  std::string name;  ///< "HiCOMEX fold 1"
  AuMetrics metrics;
  /// Intensity agreement when it was scored (its AUs: the scored AUs with coded intensities).
  std::optional<IntensityMetrics> intensity = std::nullopt;
  std::string intensity_note = {};  ///< why intensity was not (or only partly) scored; empty otherwise
};
/// The paper's layout: a column per AU ("AU1") and "Avg", F1 in % with one decimal.
std::string markdown_f1_table(const std::vector<MetricsRow>& rows);
/// Per-AU precision / recall / accuracy / F1 (in %) and the counts, for one row.
std::string markdown_detail_table(const MetricsRow& row);
/// Rows ICC(3,1), Pearson r, MAE and the coded frames, a column per AU and Avg, for a
/// row with intensity metrics (throws std::invalid_argument for one without).
std::string markdown_intensity_table(const MetricsRow& row);
/// One line naming the scored AUs and each left-out AU of the model with its reason.
std::string markdown_coverage(const AuCoverage& coverage);
/// {"aus": [...], "rows": [{"name", "f1": {"AU1": ..}, "avg_f1", "precision", "recall",
///  "accuracy", "counts"}]} with ratios in [0, 1]. With `coverage`, also "model_aus",
/// "scored_aus" and "left_out": [{"au", "reason"}]; a row with intensity metrics gets
/// "intensity": {"aus", "icc", "pearson", "mae", "frames", "avg_icc", "avg_pearson",
/// "avg_mae"} (null for an AU without coded frames), a row with a note "intensity_note".
std::string json_report(const std::vector<MetricsRow>& rows, const std::vector<float>& thresholds = {},
                        const AuCoverage* coverage = nullptr);

}  // namespace hicomex::training
