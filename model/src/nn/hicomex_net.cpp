#include "nn/hicomex_net.h"

#include <tuple>

#include <ATen/record_function.h>
#include <torch/torch.h>

#include "nn/autocast.h"

namespace hicomex::nn {

HicomexImpl::HicomexImpl(const HicomexOptions& options) : options_(options) { reset(); }

void HicomexImpl::reset() {
  const auto& o = options_;
  o.validate();
  const int64_t a = static_cast<int64_t>(o.aus().size());
  const int64_t c1 = o.region_channels()[0], c2 = o.region_channels()[1];
  const int64_t m = o.patch_map_size();
  centre_map_ = std::make_unique<AuCentreMap>(o.aus());
  region1_ = register_module("region1", RegionLayer(3, c1));
  region2_ = register_module("region2", RegionLayer(c1, c2));
  global_ = register_module("global", FeatureBranch(c2, m, o.global_channels(), o.feature_dim()));
  landmark_ = register_module("landmark", LandmarkBranch(c2, m, o.landmark_channels(), o.feature_dim(), o.landmarks()));
  local_ = register_module(
      "local", LocalAuFeatures(o.aus(), c2, o.crop_size(), m, o.local_window(), o.local_channels(), o.local_dim()));
  const Variant v = o.variant();
  if (v == Variant::Lstm || v == Variant::Full) lstm_ = register_module("lstm", IntensityLstm(o.local_dim()));
  if (v == Variant::Attention || v == Variant::Full)
    attention_ =
        register_module("attention", SelfAttentionEncoder(o.local_dim(), o.attention_layers(), o.attention_heads(),
                                                          o.attention_ff(), o.attention_dropout()));
  if (v == Variant::Hopfield || v == Variant::Full)
    hopfield_ =
        register_module("hopfield", HopfieldLayer(o.local_dim(), o.hopfield_heads(), o.hopfield_beta(),
                                                  o.hopfield_update_steps_max(), o.hopfield_update_steps_eps()));
  head_ = register_module("au_head", AuHead(a, o.local_dim(), o.feature_dim(), o.head_hidden(), o.head_dropout()));
  if (o.intensity_head())
    intensity_ = register_module("intensity_head", IntensityHead(a, o.local_dim(), o.feature_dim(), o.head_hidden()));
}

HicomexOutput HicomexImpl::forward(const torch::Tensor& x, const torch::Tensor& centre_landmarks) {
  const int64_t s = options_.crop_size();
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) == s && x.size(3) == s, "HiCOMEX expects input [B,3,", s, ",",
              s, "], got ", x.sizes());
  // Named stages show up in `hicomex-bench --profile` (free when not profiling).
  torch::Tensor f, global, landmark_feature, landmarks, local;
  {
    RECORD_USER_SCOPE("hicomex::region1");
    f = region1_->forward_pool2(x);  // = max_pool2d(forward(x), 2, 2), the pool fused on the fast path
  }
  {
    RECORD_USER_SCOPE("hicomex::region2");
    f = region2_->forward_pool2(f);  // patch features [B,C,S/4,S/4]
  }
  {
    RECORD_USER_SCOPE("hicomex::global_branch");
    global = global_->forward(f);
  }
  {
    RECORD_USER_SCOPE("hicomex::landmark_branch");
    std::tie(landmark_feature, landmarks) = landmark_->forward(f);
  }
  {
    RECORD_USER_SCOPE("hicomex::local_au_features");
    auto source = centre_landmarks.defined() ? centre_landmarks : landmarks.detach();
    local = local_->forward(f, centre_map_->centres(source.to(torch::kFloat)));
  }
  // Relation modules and head in fp32 whatever the autocast setting: they are
  // cheap, and LSTM / LayerNorm have no mixed-precision CPU kernels.
  FullPrecision fp32;
  local = local.to(torch::kFloat);
  global = global.to(torch::kFloat);
  landmark_feature = landmark_feature.to(torch::kFloat);
  landmarks = landmarks.to(torch::kFloat);
  if (relations_enabled_) {
    // Each relation module refines the AU features residually: stage 2 starts
    // from the stage-1 features instead of having to relearn them through
    // freshly initialised modules.
    if (lstm_) {
      RECORD_USER_SCOPE("hicomex::bilstm");
      local = local + lstm_->forward(local);
    }
    if (attention_) {
      RECORD_USER_SCOPE("hicomex::self_attention");
      local = local + attention_->forward(local);
    }
    if (hopfield_) {
      RECORD_USER_SCOPE("hicomex::hopfield");
      local = local + hopfield_->forward(local);
    }
  }
  RECORD_USER_SCOPE("hicomex::au_head");
  HicomexOutput out{head_->forward(local, global, landmark_feature), landmarks, {}};
  if (intensity_) out.intensities = intensity_->forward(local, global, landmark_feature);
  return out;
}

std::vector<torch::Tensor> HicomexImpl::feature_parameters() {
  std::vector<torch::Tensor> out;
  for (auto* m : std::initializer_list<torch::nn::Module*>{region1_.get(), region2_.get(), global_.get(), local_.get()})
    for (auto& p : m->parameters()) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> HicomexImpl::stage2_parameters() {
  std::vector<torch::Tensor> out;
  std::vector<torch::nn::Module*> mods{landmark_.get(), head_.get()};
  if (intensity_) mods.push_back(intensity_.get());
  if (lstm_) mods.push_back(lstm_.get());
  if (attention_) mods.push_back(attention_.get());
  if (hopfield_) mods.push_back(hopfield_.get());
  for (auto* m : mods)
    for (auto& p : m->parameters()) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> HicomexImpl::intensity_parameters() {
  return intensity_ ? intensity_->parameters() : std::vector<torch::Tensor>{};
}

int64_t HicomexImpl::macs_per_face() const {
  const int64_t s = options_.crop_size(), a = static_cast<int64_t>(options_.aus().size());
  int64_t total = region1_->macs(s, s) + region2_->macs(s / 2, s / 2) + global_->macs() + landmark_->macs() +
                  local_->macs() + head_->macs();
  if (intensity_) total += intensity_->macs();
  if (lstm_) total += lstm_->macs(a);
  if (attention_) total += attention_->macs(a);
  if (hopfield_) total += hopfield_->macs(a);
  return total;
}

int64_t HicomexImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

int64_t HicomexImpl::hopfield_steps() const { return hopfield_ ? hopfield_->last_steps() : 0; }

}  // namespace hicomex::nn
