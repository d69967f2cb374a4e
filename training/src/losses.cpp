// Training losses (JAA-Net; docs/training.md, "Losses"); see losses.h for the exact definitions.
#include "training/losses.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include <torch/torch.h>

namespace hicomex::training {
namespace {

void check_pair(const torch::Tensor& logits, const torch::Tensor& labels, const char* who) {
  if (logits.dim() != 2 || logits.sizes() != labels.sizes())
    throw std::invalid_argument(std::string(who) + ": logits and labels must both be [N, A], got " +
                                std::to_string(logits.dim()) + "-d and " + std::to_string(labels.dim()) + "-d");
}

/// Weighted mean over AUs of per-AU losses [A].
torch::Tensor weighted_mean(const torch::Tensor& per_au, const torch::Tensor& weights) {
  if (!weights.defined()) return per_au.mean();
  if (weights.numel() != per_au.numel())
    throw std::invalid_argument("AU loss: " + std::to_string(weights.numel()) + " weights for " +
                                std::to_string(per_au.numel()) + " AUs");
  return (per_au * weights.to(per_au.device(), per_au.scalar_type())).mean();
}

}  // namespace

std::vector<float> inverse_rate_weights(const std::vector<double>& rates, double min_rate) {
  std::vector<double> w(rates.size());
  for (std::size_t i = 0; i < rates.size(); ++i) w[i] = 1.0 / std::max(rates[i], min_rate);
  const double sum = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<float> out(rates.size());
  for (std::size_t i = 0; i < rates.size(); ++i) out[i] = static_cast<float>(w[i] / sum * double(rates.size()));
  return out;
}

torch::Tensor au_bce_loss(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& weights) {
  check_pair(logits, labels, "au_bce_loss");
  const auto x = logits.to(torch::kFloat);
  const auto mask = (labels >= 0).to(torch::kFloat);
  const auto target = labels.clamp_min(0).to(torch::kFloat);
  const auto bce = torch::binary_cross_entropy_with_logits(x, target, {}, {}, at::Reduction::None);
  const auto per_au = (bce * mask).sum(0) / mask.sum(0).clamp_min(1.0);
  return weighted_mean(per_au, weights);
}

torch::Tensor au_dice_loss(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& weights,
                           double smooth) {
  check_pair(logits, labels, "au_dice_loss");
  const auto mask = (labels >= 0).to(torch::kFloat);
  const auto p = torch::sigmoid(logits.to(torch::kFloat)) * mask;
  const auto t = labels.clamp_min(0).to(torch::kFloat) * mask;
  const auto inter = (p * t).sum(0);
  auto per_au = 1.0 - (2.0 * inter + smooth) / ((p * p).sum(0) + (t * t).sum(0) + smooth);
  per_au = per_au * (mask.sum(0) > 0).to(torch::kFloat);  // an AU with no coded sample adds nothing
  return weighted_mean(per_au, weights);
}

torch::Tensor au_intensity_loss(const torch::Tensor& pred, const torch::Tensor& target) {
  TORCH_CHECK(pred.sizes() == target.sizes(), "au_intensity_loss: pred ", pred.sizes(), " vs target ", target.sizes());
  const auto coded = ~torch::isnan(target);
  const auto mask = coded.to(pred.scalar_type());
  const auto diff = (pred - torch::nan_to_num(target, 0.0)) / 5.0;
  const auto per_au_n = mask.sum(0);  // [A]
  const auto per_au = (diff * diff * mask).sum(0) / per_au_n.clamp_min(1.0);
  const auto has = (per_au_n > 0).to(pred.scalar_type());
  const auto n_aus = has.sum();
  // (sum over AUs with data) / (their count); 0 * pred keeps the graph when none.
  return torch::where(n_aus > 0, (per_au * has).sum() / n_aus.clamp_min(1.0), (pred * 0).sum());
}

torch::Tensor landmark_loss(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& inter_ocular,
                            const torch::Tensor& mask) {
  if (pred.dim() != 2 || pred.sizes() != target.sizes() || pred.size(1) % 2 != 0)
    throw std::invalid_argument("landmark_loss: pred and target must both be [N, 2P]");
  const auto n = pred.size(0);
  const auto diff = (pred.to(torch::kFloat) - target.to(torch::kFloat)).view({n, -1, 2});
  const auto dist = diff.pow(2).sum(2).clamp_min(1e-12).sqrt().mean(1);  // [N] mean point error
  const auto per_sample = dist / inter_ocular.to(dist.device(), torch::kFloat).clamp_min(1e-6);
  if (!mask.defined()) return per_sample.mean();
  const auto m = mask.to(per_sample.device(), torch::kFloat);
  return (per_sample * m).sum() / m.sum().clamp_min(1.0);
}

torch::Tensor inter_ocular49(const torch::Tensor& landmarks49) {
  if (landmarks49.dim() != 2 || landmarks49.size(1) != 98)
    throw std::invalid_argument("inter_ocular49: landmarks must be [N, 98]");
  const auto pts = landmarks49.view({landmarks49.size(0), 49, 2});
  const auto left = pts.slice(1, 19, 25).mean(1), right = pts.slice(1, 25, 31).mean(1);
  return (left - right).pow(2).sum(1).sqrt();
}

}  // namespace hicomex::training
