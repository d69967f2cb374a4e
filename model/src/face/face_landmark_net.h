// face-api's FaceLandmark68Net (MIT, @vladmandic/face-api 1.7.15) as a LibTorch
// module: four dense blocks of (separable) 3x3 convolutions, a 7x7 average
// pool and a 256 -> 136 linear head giving 68 (x, y) pairs in [0, 1] of the
// 112x112 input. The layout follows the package's TypeScript
// (faceFeatureExtractor/FaceFeatureExtractor.ts, denseBlock.ts, FaceProcessor).
#pragma once
#include <torch/torch.h>

#include "face/tfjs_weights.h"

namespace hicomex {

/// 3x3 convolution with TensorFlow's "same" padding: symmetric for stride 1,
/// one extra row/column at the bottom/right for stride 2 on even inputs.
/// `separable` = depthwise 3x3 (no bias) then pointwise 1x1 (with bias).
class TfConvImpl : public torch::nn::Module {
 public:
  TfConvImpl(int64_t in, int64_t out, int64_t stride, bool separable);
  torch::Tensor forward(const torch::Tensor& x);
  /// Copies the tfjs tensors `prefix`/filters + bias, or depthwise_filter +
  /// pointwise_filter + bias, converting TF layouts to torch's; checks shapes.
  void load(const TfjsWeights& w, const std::string& prefix);

 private:
  int64_t stride_;
  bool separable_;
  torch::nn::Conv2d conv_{nullptr};       // full conv, or the depthwise part
  torch::nn::Conv2d pointwise_{nullptr};  // separable only
};
TORCH_MODULE(TfConv);

/// Four convolutions with dense (summed) skip connections, the first one
/// downsampling by two (denseBlock4 in face-api).
class DenseBlock4Impl : public torch::nn::Module {
 public:
  DenseBlock4Impl(int64_t in, int64_t out, bool first_layer);
  torch::Tensor forward(const torch::Tensor& x);
  void load(const TfjsWeights& w, const std::string& prefix);

 private:
  TfConv conv0_{nullptr}, conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
};
TORCH_MODULE(DenseBlock4);

class FaceLandmarkNetImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kInputSize = 112;
  FaceLandmarkNetImpl();
  /// x: [N, 3, 112, 112] float, RGB with the mean removed and divided by 255
  /// (see normalise_crops). Returns [N, 136]: x0, y0, x1, y1, ... in [0, 1].
  torch::Tensor forward(const torch::Tensor& x);
  /// Loads all 49 tensors of face_landmark_68_model; throws naming the manifest.
  void load(const TfjsWeights& w);

 private:
  DenseBlock4 dense0_{nullptr}, dense1_{nullptr}, dense2_{nullptr}, dense3_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(FaceLandmarkNet);

/// face-api's input normalisation: (pixel - mean RGB) / 255 on uint8 NHWC crops,
/// returned as NCHW float.
torch::Tensor normalise_crops(const torch::Tensor& nhwc_uint8);

}  // namespace hicomex
