// Model size presets (see model_sizes.h).
#include "training/model_sizes.h"

#include <stdexcept>

namespace hicomex::training {

const std::vector<std::string>& model_size_names() {
  static const std::vector<std::string> names{"paper", "small", "tiny"};
  return names;
}

HicomexOptions model_size_preset(const std::string& name) {
  HicomexOptions o;
  if (name == "paper") return o;
  if (name == "small") {
    // Same crop ratio as the paper (112 / 128 = 0.875 ~ 176 / 200); the patch map is 28.
    o.aligned_size(128).crop_size(112);
    o.region_channels({16, 32}).global_channels({48, 64, 80}).landmark_channels({64, 80, 96});
    o.feature_dim(256).local_channels(32).local_window(8).local_dim(128);
    o.attention_ff(256).head_hidden(256);
    return o;
  }
  if (name == "tiny") {
    o.aligned_size(80).crop_size(64);
    o.region_channels({8, 16}).global_channels({16, 24, 32}).landmark_channels({16, 24, 32});
    o.feature_dim(64).local_channels(16).local_window(4).local_dim(32);
    o.attention_layers(1).attention_heads(2).attention_ff(64).hopfield_heads(2).head_hidden(64);
    return o;
  }
  throw std::invalid_argument("unknown model size '" + name + "' (expected paper, small or tiny)");
}

}  // namespace hicomex::training
