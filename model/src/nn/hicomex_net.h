// HiCOMEX (paper Fig. 3): patch learning -> global, landmark and local AU
// features -> BiLSTM -> self-attention -> Hopfield -> per-AU occurrence.
#pragma once
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "hicomex/hicomex_options.h"
#include "nn/au_head.h"
#include "nn/feature_branches.h"
#include "nn/hopfield.h"
#include "nn/intensity_lstm.h"
#include "nn/local_au_features.h"
#include "nn/region_layer.h"
#include "nn/self_attention.h"

namespace hicomex::nn {

struct HicomexOutput {
  torch::Tensor au_logits;    ///< [B,A]; sigmoid gives occurrence probabilities
  torch::Tensor landmarks;    ///< [B,49,2], crop pixels
  torch::Tensor intensities;  ///< [B,A] in [0,5]; undefined without options().intensity_head()
};

class HicomexImpl : public torch::nn::Module {
 public:
  explicit HicomexImpl(const HicomexOptions& options = {});
  void reset();
  /// x: [B,3,S,S] normalised crops. centre_landmarks (optional): [B,49,2] crop
  /// pixels the AU centres come from (ground truth in training, tracker points
  /// at inference); otherwise the landmark branch's own prediction, detached.
  HicomexOutput forward(const torch::Tensor& x, const torch::Tensor& centre_landmarks = {});

  /// Training stage 1 runs without the relation modules (paper section 3.7).
  void set_relations_enabled(bool enabled) { relations_enabled_ = enabled; }
  bool relations_enabled() const { return relations_enabled_; }
  /// Parameters frozen in stage 2: patch learning, global branch, local AU features.
  std::vector<torch::Tensor> feature_parameters();
  /// The rest: relation modules, AU head, landmark branch, intensity head.
  std::vector<torch::Tensor> stage2_parameters();
  /// The intensity head alone (empty without one): trained on its own over a
  /// finished occurrence model, the occurrence outputs stay exactly as they were.
  std::vector<torch::Tensor> intensity_parameters();
  bool has_intensity_head() const { return static_cast<bool>(intensity_); }

  const HicomexOptions& options() const { return options_; }
  int64_t macs_per_face() const;
  int64_t parameter_count() const;
  /// Hopfield associations of the last forward (0 without a Hopfield layer).
  int64_t hopfield_steps() const;

 private:
  HicomexOptions options_;
  bool relations_enabled_ = true;
  std::unique_ptr<AuCentreMap> centre_map_;
  RegionLayer region1_{nullptr}, region2_{nullptr};
  FeatureBranch global_{nullptr};
  LandmarkBranch landmark_{nullptr};
  LocalAuFeatures local_{nullptr};
  IntensityLstm lstm_{nullptr};
  SelfAttentionEncoder attention_{nullptr};
  HopfieldLayer hopfield_{nullptr};
  AuHead head_{nullptr};
  IntensityHead intensity_{nullptr};
};
TORCH_MODULE(Hicomex);

}  // namespace hicomex::nn
