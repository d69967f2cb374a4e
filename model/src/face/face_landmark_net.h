// face-api's FaceLandmark68Net (MIT, @vladmandic/face-api 1.7.15) as a LibTorch
// module: four dense blocks of (separable) 3x3 convolutions, a 7x7 average
// pool and a 256 -> 136 linear head giving 68 (x, y) pairs in [0, 1] of the
// 112x112 input. The layout follows the package's TypeScript
// (faceFeatureExtractor/FaceFeatureExtractor.ts, denseBlock.ts, FaceProcessor).
//
// Two forward paths over the same weights: forward() is the plain op sequence
// of the TypeScript on any device (the reference); forward_crops_cpu() runs the
// same arithmetic on the CPU with hand-written NHWC kernels (AVX2 + FMA where
// available), one image at a time, several times faster than forward() on
// one thread (model/tools/hicomex_landmark_bench.cpp times both).
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

  int64_t stride() const { return stride_; }
  bool separable() const { return separable_; }
  /// The full conv, or the depthwise part of a separable one.
  const torch::nn::Conv2d& conv() const { return conv_; }
  /// The pointwise part of a separable conv (null otherwise).
  const torch::nn::Conv2d& pointwise() const { return pointwise_; }

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
  /// conv0 .. conv3.
  const TfConv& conv(int i) const;

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
  /// The plain op sequence of face-api on any device; the reference that
  /// forward_crops_cpu() is tested against.
  torch::Tensor forward(const torch::Tensor& x);
  /// The same net on uint8 RGB crops [N, 112, 112, 3] (NHWC, as cut out of a
  /// frame) on the CPU, normalisation included: equals
  /// forward(normalise_crops(x)) up to float rounding (summation order), in
  /// well under 0.01 px of the 112-px crop. Uses the weights as they were when
  /// load() (or prepare_cpu()) last ran. Each image runs on one thread, and
  /// its result does not depend on the rest of the batch (bit for bit); with
  /// at::get_num_threads() > 1 the images of a batch are shared among that
  /// many threads. Safe to call from several threads at once; each thread
  /// keeps ~1.3 MB of scratch memory between calls. `simd` = false forces the
  /// portable loops that CPUs without AVX2 + FMA run (for tests).
  torch::Tensor forward_crops_cpu(const torch::Tensor& nhwc_uint8, bool simd = true);
  /// Loads all 49 tensors of face_landmark_68_model; throws naming the manifest.
  /// Also prepares the weights of forward_crops_cpu().
  void load(const TfjsWeights& w);
  /// Repacks the current parameters for forward_crops_cpu() (load() does it).
  void prepare_cpu();

 private:
  // A 3x3 convolution repacked for the NHWC CPU path (see forward_crops_cpu).
  struct CpuConv {
    torch::Tensor depthwise;  // [9, in]: tap-major (ky, kx), channels contiguous; separable only
    torch::Tensor matrix;     // [in, out] pointwise, or [27, out] for the full conv (rows ky, kx, c)
    torch::Tensor panels;     // `matrix` as 16-column panels [out / 16][rows][16]
    torch::Tensor bias;       // [out]
    torch::Tensor offset;     // [in] subtracted from the input before its relu (conv2, conv3)
  };
  struct CpuBlock {
    CpuConv conv[4];
    torch::Tensor bias_sum;  // [out]: conv1..3's biases
  };
  void cpu_block_tail(int block, float* s, int64_t h, float* dw, bool simd) const;
  void cpu_block_head(int block, const float* s_in, int64_t h, float* dw, float* s_out, bool simd) const;
  void cpu_landmarks(const uint8_t* crop, float* out, bool simd) const;

  DenseBlock4 dense0_{nullptr}, dense1_{nullptr}, dense2_{nullptr}, dense3_{nullptr};
  torch::nn::Linear fc_{nullptr};
  std::vector<CpuBlock> cpu_blocks_;  // dense0 .. dense3
  torch::Tensor cpu_fc_matrix_;       // [256, 136]
  torch::Tensor cpu_fc_bias_;         // [136]
};
TORCH_MODULE(FaceLandmarkNet);

/// face-api's input normalisation: (pixel - mean RGB) / 255 on uint8 NHWC crops,
/// returned as NCHW float.
torch::Tensor normalise_crops(const torch::Tensor& nhwc_uint8);

}  // namespace hicomex
