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
/// Winograd where input and output channels are multiples of 8: F(4x4, 3x3)
/// on maps at least 7x7 (36 multiplications per 4x4 outputs and channel pair
/// instead of 144), F(2x2, 3x3) on maps at least 4x4 (16 instead of 36); the
/// direct kernels otherwise. Within 1e-5 (F(2x2)) and 1e-4 (F(4x4)) of the
/// direct kernels, relative to the output scale. A process-wide switch for
/// A/B timing and tests: set_winograd(false) or HICOMEX_WINOGRAD=0 turns both
/// off, set_winograd_tile(2) or HICOMEX_WINOGRAD=2 keeps F(2x2) only;
/// default 4 (both).
void set_winograd(bool on);
bool winograd();
void set_winograd_tile(int tile);  ///< 0, 2 or 4
int winograd_tile_size();
/// How many group convolutions ran as Winograd (either tile) in this
/// process, and how many as F(4x4, 3x3); for tests.
int64_t winograd_count();
int64_t winograd4_count();

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

// ---- Local AU windows ----------------------------------------------------------

/// grid_sample(map, grid, bilinear, zeros, align_corners=false) for the local
/// AU windows, written straight in the layout the per-AU FeatConv reads:
/// map [B, C, M, M] (CPU float, any strides), grid [B, A*2*W, W, 2] (CPU
/// float, as LocalAuFeatures::sampling_grid makes it) -> [B*2, A*C, W, W]
/// with channels-last strides, window (b, a, k) at batch b*2+k, channels
/// a*C..a*C+C-1. Replaces grid_sample, the permute and the channels-last copy
/// of the reference path (same values up to float rounding of the weights).
/// Requires cpu_supported().
torch::Tensor sample_windows(const torch::Tensor& map, const torch::Tensor& grid, int64_t aus, int64_t window);
/// How many sample_windows calls ran in this process (for tests).
int64_t sample_windows_count();

}  // namespace hicomex::nn::region_fast
