// Inference-only CPU implementation of RegionLayer::forward: NHWC, every
// BatchNorm and bias folded, hand-written AVX2 + FMA kernels.
//
// Why: the reference path spends most of its time outside the arithmetic
// (~25 M multiply-adds per 112 x 112 face for the first region layer). It
// permutes the map into patches and back for each of the three PatchConvs,
// runs grouped convolutions with 64 groups of 4..16 channels (where oneDNN is
// at its least efficient), and makes a separate pass for each BatchNorm, ReLU,
// the concatenation and the residual sum. Here one image is computed quadrant
// by quadrant (the 2 x 2 grid: every patch of the 8 x 8 and 4 x 4 grids lies
// inside one quadrant), so the working set stays in L2, and each convolution
// is a register-blocked loop over pixels with the output channels in the
// vector lanes.
//
// RegionLayerImpl decides when this path is taken (see
// RegionLayerImpl::fast_path_usable); this header only knows tensors.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

namespace hicomex::nn::region_fast {

/// Whether this CPU has AVX2 and FMA (checked once).
bool cpu_supported();

/// A process-wide switch for this path alone (default on; the environment
/// variable HICOMEX_REGION_FAST=0 starts with it off), for A/B timing and for
/// tests that count the reference path's operators. The path is also off
/// whenever fused_inference() is.
void set_enabled(bool on);
bool enabled();

/// How many region layer forwards took the fast path in this process (all
/// modules, all threads); for tests.
int64_t forward_count();

/// The 3x3 convolutions of both fast paths (region layers, FeatConv) run as
/// Winograd F(2x2, 3x3) where input and output channels are multiples of 8
/// and the map is at least 4x4: 16 multiplications per 2x2 outputs and channel
/// pair instead of 36 (within 1e-5 of the direct kernels, relative to the
/// output scale). A process-wide switch (default on; HICOMEX_WINOGRAD=0
/// starts with it off) for A/B timing and tests.
void set_winograd(bool on);
bool winograd();
/// How many group convolutions ran as Winograd in this process; for tests.
int64_t winograd_count();

/// Eval-mode BatchNorm parameters and statistics (CPU float tensors).
struct BatchNormParams {
  torch::Tensor weight, bias, running_mean, running_var;
  double eps = 1e-5;
};

/// One PatchConv: BN over grid*grid*in channels, then the grouped 3x3 conv
/// (weight [grid*grid*out, in, 3, 3], bias [grid*grid*out] or undefined).
struct PatchConvParams {
  int64_t grid = 0;
  BatchNormParams bn;
  torch::Tensor conv_weight, conv_bias;
};

/// The whole region layer: the 3x3 conv (weight [C, in, 3, 3], bias), the
/// 8x8, 4x4 and 2x2 PatchConvs, and the output BatchNorm over C channels.
struct RegionParams {
  torch::Tensor conv_weight, conv_bias;
  PatchConvParams patch[3];
  BatchNormParams bn;
};

/// The folded, reordered weights of one region layer (immutable once built).
struct Packed;

/// Folds and reorders `params`. Returns null where the channel counts have no
/// kernel here (see the .cpp: every output channel count must be a multiple
/// of 8 or exactly 4, i.e. C == 16 or C a multiple of 32) or the grids are
/// not 8, 4, 2.
std::shared_ptr<const Packed> pack(const RegionParams& params);

/// Whether an input of this shape ([B, in, h, w]) can be computed by `packed`.
bool supports(const Packed& packed, const torch::Tensor& x);

/// relu(bn(cat(a, b, c) + base)) for x [B, in, h, w] (CPU float; any
/// strides): [B, C, h, w], NCHW contiguous. With `pool2`, the 2x2 max-pool of
/// that (stride 2, as torch::max_pool2d(y, 2, 2)): [B, C, h/2, w/2], computed
/// in the same pass. Requires cpu_supported() and supports().
torch::Tensor forward(const Packed& packed, const torch::Tensor& x, bool pool2);

// ---- FeatConv blocks (the global, landmark and local AU branches) -----------
// The same kernels serve FeatConv: 2 x (3x3 conv + BN + PReLU), then the 2x2
// max-pool, with `groups` independent blocks stacked in the channel dimension
// (one per AU in the local branch). Each image and group is computed from a
// zero-padded NHWC copy of its input: conv1 writes straight into the padded
// input of conv2, the PReLUs and the pool run on the convolution outputs while
// they are in cache.

/// One FeatConv's parameters: conv weights [groups * co, ci, 3, 3] (bias may be
/// undefined), eval BatchNorms over groups * co channels, PReLU weights (one
/// value, or groups * co).
struct FeatConvParams {
  int64_t groups = 1;
  torch::Tensor conv1_weight, conv1_bias, prelu1;
  BatchNormParams bn1;
  torch::Tensor conv2_weight, conv2_bias, prelu2;
  BatchNormParams bn2;
};

struct FeatPacked;

/// Folds each BatchNorm into its convolution and reorders the weights. Null
/// where there is no kernel (output channels per group not a multiple of 8).
std::shared_ptr<const FeatPacked> pack(const FeatConvParams& params);

/// Whether `packed` computes x [B, groups * ci, h, w] (h, w >= 2).
bool supports(const FeatPacked& packed, const torch::Tensor& x);

/// max_pool2d(prelu2(bn2(conv2(prelu1(bn1(conv1(x))))))), 2, 2) for x (CPU
/// float, any strides, e.g. channels-last): [B, groups * co, h / 2, w / 2],
/// NCHW contiguous. Requires cpu_supported() and supports().
torch::Tensor forward(const FeatPacked& packed, const torch::Tensor& x);

/// How many FeatConv forwards took this path in this process (for tests).
int64_t featconv_forward_count();

}  // namespace hicomex::nn::region_fast
