// Training losses (JAA-Net; docs/training.md, "Losses"). Labels are float tensors holding
// 1, 0 or -1 (not coded); not-coded entries are masked out.
#pragma once
#include <vector>

#include <torch/types.h>

namespace hicomex::training {

/// JAA-Net's AU weights: 1 / occurrence rate, normalised so they sum to the number
/// of AUs. A rate of 0 (AU never positive) is clamped to `min_rate` first.
std::vector<float> inverse_rate_weights(const std::vector<double>& rates, double min_rate = 1e-3);

/// Weighted sigmoid cross-entropy. logits, labels: [N, A]; weights: [A] (undefined = 1).
/// Per AU: mean BCE-with-logits over its coded samples (0 if none), times its weight;
/// the result is the mean over the A AUs.
torch::Tensor au_bce_loss(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& weights = {});

/// JAA-Net's Dice term on sigmoid probabilities, per AU over coded samples:
/// 1 - (2 sum(p t) + smooth) / (sum(p^2) + sum(t^2) + smooth), weighted, mean over AUs.
torch::Tensor au_dice_loss(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& weights = {},
                           double smooth = 1.0);

/// AU intensity loss (0-5 scale): per AU the mean squared error of (pred - target) / 5
/// over the samples whose target is coded (not NaN), mean over the AUs that have
/// any; exactly 0 (with a gradient of 0) when nothing is coded, so data without
/// intensity labels contributes nothing. pred, target: [N, A].
torch::Tensor au_intensity_loss(const torch::Tensor& pred, const torch::Tensor& target);

/// Landmark loss: per sample, the mean Euclidean point error divided by that sample's
/// inter-ocular distance; mean over samples whose mask is true (mask undefined = all).
/// pred, target: [N, 2P] as x0 y0 x1 y1 ...; inter_ocular: [N]; mask: [N] bool.
torch::Tensor landmark_loss(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& inter_ocular,
                            const torch::Tensor& mask = {});

/// Inter-ocular distances of 49-point targets [N, 98] (eye centres = means of 19..24, 25..30).
torch::Tensor inter_ocular49(const torch::Tensor& landmarks49);

}  // namespace hicomex::training
