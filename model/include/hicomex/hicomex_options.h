// Configuration of the HiCOMEX network. Defaults are the paper-sized model
// (JAA-Net backbone sizes); see docs/model.md for shapes.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

/// A field with a fluent setter, as LibTorch's TORCH_ARG writes them
/// (`HicomexOptions().crop_size(112).local_window(8)`), defined here so this
/// public header needs no LibTorch headers.
#define HICOMEX_ARG(T, name)                                      \
 public:                                                          \
  inline auto name(const T& new_##name)->decltype(*this) {        \
    this->name##_ = new_##name;                                   \
    return *this;                                                 \
  }                                                               \
  inline auto name(T&& new_##name)->decltype(*this) {             \
    this->name##_ = std::move(new_##name);                        \
    return *this;                                                 \
  }                                                               \
  inline const T& name() const noexcept { return this->name##_; } \
  inline T& name() noexcept { return this->name##_; }             \
                                                                  \
 private:                                                         \
  T name##_

namespace hicomex {

/// Which relation modules run between the local AU features and the AU heads
/// (the paper's ablation, Tables 3-4).
enum class Variant {
  Base,       ///< no relation modules (also training stage 1)
  Lstm,       ///< BiLSTM intensity-distribution learning only
  Attention,  ///< self-attention COMEX learning only
  Hopfield,   ///< Hopfield COMEX learning only
  Full        ///< BiLSTM -> self-attention -> Hopfield (HiCOMEX)
};
const char* to_string(Variant v);
/// "base", "lstm", "attention", "hopfield", "full"; throws std::invalid_argument.
Variant variant_from_string(const std::string& name);

struct HicomexOptions {
  /// FACS ids of the AUs the model predicts, in sequence order for the BiLSTM.
  HICOMEX_ARG(std::vector<int>, aus) = {1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24};
  /// Landmarks predicted by the landmark branch (JAA-Net 49-point scheme).
  HICOMEX_ARG(int64_t, landmarks) = 49;
  /// Side of the aligned face (align_face output); 200 in JAA-Net. Smaller
  /// models use a smaller aligned face with the same crop ratio (e.g. 128 -> 112).
  HICOMEX_ARG(int64_t, aligned_size) = 200;
  /// Network input side: a crop of the aligned face (random in training, centre at test).
  HICOMEX_ARG(int64_t, crop_size) = 176;
  /// Output channels of the two hierarchical multi-scale region layers.
  HICOMEX_ARG(std::vector<int64_t>, region_channels) = {32, 64};
  /// FeatConv widths of the global branch (each halves the map).
  HICOMEX_ARG(std::vector<int64_t>, global_channels) = {96, 128, 160};
  /// FeatConv widths of the landmark branch.
  HICOMEX_ARG(std::vector<int64_t>, landmark_channels) = {128, 160, 192};
  /// Size of the global and landmark feature vectors.
  HICOMEX_ARG(int64_t, feature_dim) = 512;
  /// Channels of the per-AU refinement convolutions.
  HICOMEX_ARG(int64_t, local_channels) = 64;
  /// Side (in cells of the 44x44 patch feature map) of the window cropped at each AU centre.
  HICOMEX_ARG(int64_t, local_window) = 12;
  /// Size of each local AU feature vector (the relation modules' sequence width).
  HICOMEX_ARG(int64_t, local_dim) = 256;
  /// Self-attention encoder: layers, heads, feed-forward width, dropout.
  HICOMEX_ARG(int64_t, attention_layers) = 2;
  HICOMEX_ARG(int64_t, attention_heads) = 4;
  HICOMEX_ARG(int64_t, attention_ff) = 512;
  HICOMEX_ARG(double, attention_dropout) = 0.1;
  /// Continuous modern Hopfield layer: heads, beta (0 = 1/sqrt(head dim)),
  /// extra update steps after the first retrieval, and the stopping threshold.
  HICOMEX_ARG(int64_t, hopfield_heads) = 4;
  HICOMEX_ARG(double, hopfield_beta) = 0.0;
  HICOMEX_ARG(int64_t, hopfield_update_steps_max) = 3;
  HICOMEX_ARG(double, hopfield_update_steps_eps) = 1e-4;
  /// Hidden width of the shared AU head MLP, and its dropout.
  HICOMEX_ARG(int64_t, head_hidden) = 512;
  HICOMEX_ARG(double, head_dropout) = 0.2;
  HICOMEX_ARG(Variant, variant) = Variant::Full;
  /// A per-AU intensity head (0-5, FACS A-E) beside the occurrence head, on the
  /// same refined AU features. Off in the paper's configuration (occurrence only).
  HICOMEX_ARG(bool, intensity_head) = false;

 public:
  /// Throws std::invalid_argument naming the field when a value cannot work
  /// (e.g. crop_size not divisible by 16, local_dim not divisible by the heads).
  void validate() const;
  /// Side of the patch feature map (crop_size / 4).
  int64_t patch_map_size() const { return crop_size() / 4; }
};

/// JSON round trip of every field (stored in the weights' metadata).
std::string options_to_json(const HicomexOptions& o);
/// Unknown keys are rejected; missing keys keep their defaults. Throws
/// std::invalid_argument naming the key on a wrong type or value.
HicomexOptions options_from_json(const std::string& json);

}  // namespace hicomex
