#include "face/face_landmark_net.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace hicomex {
namespace {

namespace F = torch::nn::functional;

// face-api's mean RGB, in pixel units.
constexpr float kMeanRgb[3] = {122.782f, 117.001f, 104.298f};

// A tfjs tensor as a torch tensor with its TF shape, after checking that shape.
torch::Tensor tf_tensor(const TfjsWeights& w, const std::string& name, std::vector<int64_t> want) {
  const TfjsTensor& t = w.at(name);
  if (t.shape != want) {
    std::string got, exp;
    for (auto d : t.shape) got += std::to_string(d) + " ";
    for (auto d : want) exp += std::to_string(d) + " ";
    throw std::runtime_error("tfjs weights: tensor " + name + " in " + w.manifest_path() + " has shape [ " +
                             got + "], expected [ " + exp + "]");
  }
  return torch::from_blob(const_cast<float*>(t.values.data()), want, torch::kFloat32).clone();
}

void copy_into(torch::Tensor& param, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  param.copy_(value.contiguous());
}

// TF "same" padding of a 3x3 window: total (out-1)*stride + 3 - in, the odd
// pixel at the end (bottom/right).
struct SamePad {
  int64_t out, before, after;
};
SamePad same_pad(int64_t in, int64_t stride) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + 3 - in, 0);
  return {out, total / 2, total - total / 2};
}

// ---- Kernels of the NHWC CPU path -------------------------------------------
// Activations are float NHWC: one row of C channels per pixel, so a 1x1
// convolution is one matrix product [pixels, in] x [in, out] and the depthwise
// 3x3 works on contiguous channel vectors.

// Splits rows [0, rows) over torch's intra-op threads when each thread gets at
// least ~64 KiB of output; below that, waking a thread costs more than it saves.
template <class Fn>
void for_rows(int64_t rows, int64_t floats_per_row, const Fn& fn) {
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(floats_per_row, 1));
  at::parallel_for(0, rows, grain, fn);
}

// The first convolution's input columns ("im2col"): for each output pixel of
// the stride-2 3x3 conv over the uint8 crops, the 27 values (ky, kx, c) of its
// window, normalised as normalise_crops does ((pixel - mean) / 255), zero
// where TF's padding lies outside the crop (zero padding of the normalised
// input, as in the reference).
void first_conv_columns(const uint8_t* x, int64_t n, int64_t size, float* cols) {
  const SamePad p = same_pad(size, 2);
  for_rows(n * p.out, p.out * 27, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t img = r / p.out, oy = r % p.out;
      float* dst = cols + r * p.out * 27;
      for (int64_t ox = 0; ox < p.out; ++ox) {
        for (int64_t ky = 0; ky < 3; ++ky) {
          const int64_t iy = oy * 2 + ky - p.before;
          for (int64_t kx = 0; kx < 3; ++kx, dst += 3) {
            const int64_t ix = ox * 2 + kx - p.before;
            if (iy < 0 || iy >= size || ix < 0 || ix >= size) {
              dst[0] = dst[1] = dst[2] = 0.f;
              continue;
            }
            const uint8_t* px = x + ((img * size + iy) * size + ix) * 3;
            for (int c = 0; c < 3; ++c) dst[c] = (static_cast<float>(px[c]) - kMeanRgb[c]) / 255.f;
          }
        }
      }
    }
  });
}

// s = relu(s) + bias over [rows, c].
void relu_add(float* s, int64_t rows, int64_t c, const float* bias) {
  for_rows(rows, c, [&](int64_t begin, int64_t end) {
    for (float* p = s + begin * c; p < s + end * c; p += c) {
      for (int64_t k = 0; k < c; ++k) p[k] = std::max(p[k], 0.f) + bias[k];
    }
  });
}

// A depthwise 3x3 convolution with TF "same" padding of relu(in - offset):
// `in` NHWC [n, h, h, c], `offset` per channel or null, weights [9, c] (tap
// ky * 3 + kx), output [n, pad.out, pad.out, c]. Taking the relu (and the
// offset, see forward_crops_cpu) while reading and skipping the taps that fall
// in the padding saves writing a padded copy of the input.
struct Depthwise {
  const float* in;
  int64_t h, c, stride;
  SamePad pad;
  const float* weights;
  const float* offset;
  float* out;
  bool simd;  // AVX2 + FMA kernel where the CPU and c allow
};

// Output rows [begin, end) of `d` (row = image * pad.out + oy), any c.
void depthwise_rows_plain(const Depthwise& d, int64_t begin, int64_t end) {
  const int64_t ho = d.pad.out, c = d.c;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t img = r / ho, oy = r % ho;
    float* o = d.out + r * ho * c;
    for (int64_t ox = 0; ox < ho; ++ox, o += c) {
      std::fill(o, o + c, 0.f);
      for (int64_t ky = 0; ky < 3; ++ky) {
        const int64_t iy = oy * d.stride + ky - d.pad.before;
        if (iy < 0 || iy >= d.h) continue;
        for (int64_t kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox * d.stride + kx - d.pad.before;
          if (ix < 0 || ix >= d.h) continue;
          const float* src = d.in + ((img * d.h + iy) * d.h + ix) * c;
          const float* wk = d.weights + (ky * 3 + kx) * c;
          for (int64_t k = 0; k < c; ++k) o[k] += wk[k] * std::max(src[k] - (d.offset ? d.offset[k] : 0.f), 0.f);
        }
      }
    }
  }
}

// kOut output pixels of one row, channels [k, k + 8), with AVX2 + FMA: each
// input vector is loaded and rectified once and fed to every output whose
// window holds it; the 3 weights of a kernel row stay in registers.
template <int kOut, int kStride, bool kOffset>
__attribute__((target("avx2,fma"), always_inline)) inline void depthwise_pixels_avx2(const Depthwise& d,
                                                                                    const float* image, int64_t oy,
                                                                                    int64_t ox, int64_t k, float* o) {
  constexpr int kCols = (kOut - 1) * kStride + 3;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 off = kOffset ? _mm256_loadu_ps(d.offset + k) : zero;
  __m256 acc[kOut];
#pragma GCC unroll 8
  for (int j = 0; j < kOut; ++j) acc[j] = zero;
  const int64_t x0 = ox * kStride - d.pad.before;
  for (int ky = 0; ky < 3; ++ky) {
    const int64_t iy = oy * kStride + ky - d.pad.before;
    if (iy < 0 || iy >= d.h) continue;
    const float* row = image + iy * d.h * d.c + k;
    const float* wrow = d.weights + ky * 3 * d.c + k;
    const __m256 w0 = _mm256_loadu_ps(wrow), w1 = _mm256_loadu_ps(wrow + d.c), w2 = _mm256_loadu_ps(wrow + 2 * d.c);
#pragma GCC unroll 32
    for (int col = 0; col < kCols; ++col) {
      const int64_t ix = x0 + col;
      if (ix < 0 || ix >= d.h) continue;
      __m256 v = _mm256_loadu_ps(row + ix * d.c);
      if (kOffset) v = _mm256_sub_ps(v, off);
      v = _mm256_max_ps(v, zero);
#pragma GCC unroll 8
      for (int j = 0; j < kOut; ++j) {
        const int kx = col - j * kStride;
        if (kx == 0) acc[j] = _mm256_fmadd_ps(w0, v, acc[j]);
        if (kx == 1) acc[j] = _mm256_fmadd_ps(w1, v, acc[j]);
        if (kx == 2) acc[j] = _mm256_fmadd_ps(w2, v, acc[j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < kOut; ++j) _mm256_storeu_ps(o + (ox + j) * d.c + k, acc[j]);
}

// Output rows [begin, end) of `d` for c a multiple of 8.
template <int kStride, bool kOffset>
__attribute__((target("avx2,fma"))) void depthwise_rows_avx2(const Depthwise& d, int64_t begin, int64_t end) {
  const int64_t ho = d.pad.out;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t img = r / ho, oy = r % ho;
    const float* image = d.in + img * d.h * d.h * d.c;
    float* o = d.out + r * ho * d.c;
    for (int64_t k = 0; k < d.c; k += 8) {
      int64_t ox = 0;
      for (; ox + 8 <= ho; ox += 8) depthwise_pixels_avx2<8, kStride, kOffset>(d, image, oy, ox, k, o);
      if (ox + 4 <= ho) depthwise_pixels_avx2<4, kStride, kOffset>(d, image, oy, ox, k, o), ox += 4;
      if (ox + 2 <= ho) depthwise_pixels_avx2<2, kStride, kOffset>(d, image, oy, ox, k, o), ox += 2;
      if (ox < ho) depthwise_pixels_avx2<1, kStride, kOffset>(d, image, oy, ox, k, o);
    }
  }
}

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

void depthwise(const Depthwise& d, int64_t n) {
  using Rows = void (*)(const Depthwise&, int64_t, int64_t);
  Rows rows = depthwise_rows_plain;
  if (d.simd && cpu_has_avx2_fma() && d.c % 8 == 0 && (d.stride == 1 || d.stride == 2)) {
    if (d.stride == 1) {
      rows = d.offset ? depthwise_rows_avx2<1, true> : depthwise_rows_avx2<1, false>;
    } else {
      rows = d.offset ? depthwise_rows_avx2<2, true> : depthwise_rows_avx2<2, false>;
    }
  }
  for_rows(n * d.pad.out, d.pad.out * d.c, [&](int64_t begin, int64_t end) { rows(d, begin, end); });
}

// c [m, b.size(1)] = bias + a [m, k] x b, or c += a x b without bias.
void matmul(float* c, const float* a, int64_t m, const torch::Tensor& b, const torch::Tensor* bias) {
  torch::Tensor cm = torch::from_blob(c, {m, b.size(1)}, torch::kFloat32);
  const torch::Tensor am = torch::from_blob(const_cast<float*>(a), {m, b.size(0)}, torch::kFloat32);
  if (bias) {
    at::addmm_out(cm, *bias, am, b);
  } else {
    cm.addmm_(am, b);
  }
}

// Scratch memory of forward_crops_cpu, one per calling thread and kept between
// calls: fresh buffers of this size come from mmap, and their page faults
// (about 300 per face) cost as much as the depthwise convolutions.
class Scratch {
 public:
  // Buffer `slot` with room for at least `floats`; contents undefined.
  float* get(int slot, int64_t floats) {
    Buffer& b = buffers_[slot];
    const size_t want = static_cast<size_t>(floats);
    if (b.size < want) {
      // 64-byte aligned: whole cache lines for the vector loads and the matrix products.
      const size_t bytes = (want * sizeof(float) + 63) / 64 * 64;
      b.data.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (!b.data) throw std::bad_alloc();
      b.size = want;
    }
    return b.data.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  struct Buffer {
    std::unique_ptr<float, Free> data;
    size_t size = 0;
  };
  Buffer buffers_[3];
};

}  // namespace

TfConvImpl::TfConvImpl(int64_t in, int64_t out, int64_t stride, bool separable)
    : stride_(stride), separable_(separable) {
  namespace nn = torch::nn;
  if (separable) {
    conv_ = register_module("depthwise",
                            nn::Conv2d(nn::Conv2dOptions(in, in, 3).stride(stride).groups(in).bias(false)));
    pointwise_ = register_module("pointwise", nn::Conv2d(nn::Conv2dOptions(in, out, 1)));
  } else {
    conv_ = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride)));
  }
}

torch::Tensor TfConvImpl::forward(const torch::Tensor& x) {
  // TF "same": total padding (out-1)*stride + k - in, the odd pixel at the end.
  // (Computed here rather than with same_pad so that this reference path
  // shares no code with the CPU kernels it checks.)
  const int64_t in = x.size(2);
  const int64_t out = (in + stride_ - 1) / stride_;
  const int64_t total = std::max<int64_t>((out - 1) * stride_ + 3 - in, 0);
  const int64_t before = total / 2, after = total - before;
  auto y = conv_(F::pad(x, F::PadFuncOptions({before, after, before, after})));
  return separable_ ? pointwise_(y) : y;
}

void TfConvImpl::load(const TfjsWeights& w, const std::string& prefix) {
  const int64_t in = conv_->options.in_channels();
  if (separable_) {
    const int64_t out = pointwise_->options.out_channels();
    // depthwise [kh, kw, C, 1] -> [C, 1, kh, kw]; pointwise [1, 1, in, out] -> [out, in, 1, 1]
    copy_into(conv_->weight, tf_tensor(w, prefix + "/depthwise_filter", {3, 3, in, 1}).permute({2, 3, 0, 1}));
    copy_into(pointwise_->weight, tf_tensor(w, prefix + "/pointwise_filter", {1, 1, in, out}).permute({3, 2, 0, 1}));
    copy_into(pointwise_->bias, tf_tensor(w, prefix + "/bias", {out}));
  } else {
    const int64_t out = conv_->options.out_channels();
    // [kh, kw, in, out] -> [out, in, kh, kw]
    copy_into(conv_->weight, tf_tensor(w, prefix + "/filters", {3, 3, in, out}).permute({3, 2, 0, 1}));
    copy_into(conv_->bias, tf_tensor(w, prefix + "/bias", {out}));
  }
}

DenseBlock4Impl::DenseBlock4Impl(int64_t in, int64_t out, bool first_layer) {
  // The first block of the net starts with a plain convolution of the RGB input.
  conv0_ = register_module("conv0", TfConv(in, out, 2, !first_layer));
  conv1_ = register_module("conv1", TfConv(out, out, 1, true));
  conv2_ = register_module("conv2", TfConv(out, out, 1, true));
  conv3_ = register_module("conv3", TfConv(out, out, 1, true));
}

torch::Tensor DenseBlock4Impl::forward(const torch::Tensor& x) {
  auto out1 = torch::relu(conv0_(x));
  auto out2 = conv1_(out1);
  auto out3 = conv2_(torch::relu(out1 + out2));
  auto out4 = conv3_(torch::relu(out1 + out2 + out3));
  return torch::relu(out1 + out2 + out3 + out4);
}

void DenseBlock4Impl::load(const TfjsWeights& w, const std::string& prefix) {
  conv0_->load(w, prefix + "/conv0");
  conv1_->load(w, prefix + "/conv1");
  conv2_->load(w, prefix + "/conv2");
  conv3_->load(w, prefix + "/conv3");
}

const TfConv& DenseBlock4Impl::conv(int i) const {
  switch (i) {
    case 0: return conv0_;
    case 1: return conv1_;
    case 2: return conv2_;
    case 3: return conv3_;
  }
  throw std::out_of_range("DenseBlock4: conv index " + std::to_string(i));
}

FaceLandmarkNetImpl::FaceLandmarkNetImpl() {
  dense0_ = register_module("dense0", DenseBlock4(3, 32, true));
  dense1_ = register_module("dense1", DenseBlock4(32, 64, false));
  dense2_ = register_module("dense2", DenseBlock4(64, 128, false));
  dense3_ = register_module("dense3", DenseBlock4(128, 256, false));
  fc_ = register_module("fc", torch::nn::Linear(256, 136));
}

torch::Tensor FaceLandmarkNetImpl::forward(const torch::Tensor& x) {
  auto y = dense3_(dense2_(dense1_(dense0_(x))));    // [N, 256, 7, 7]
  y = F::avg_pool2d(y, F::AvgPool2dFuncOptions(7).stride(2));  // "valid" -> 1x1
  return fc_(y.flatten(1));
}

void FaceLandmarkNetImpl::load(const TfjsWeights& w) {
  // dense0: a plain conv (filters, bias) + 3 separable convs (3 tensors each);
  // dense1..3: 4 separable convs; fc: weights, bias.
  constexpr size_t expected = (2 + 3 * 3) + 3 * (4 * 3) + 2;  // 49
  if (w.tensors().size() != expected) {
    throw std::runtime_error("tfjs weights: " + w.manifest_path() + " holds " +
                             std::to_string(w.tensors().size()) + " tensors, FaceLandmark68Net needs " +
                             std::to_string(expected));
  }
  dense0_->load(w, "dense0");
  dense1_->load(w, "dense1");
  dense2_->load(w, "dense2");
  dense3_->load(w, "dense3");
  // TF matMul(x, W) with W [256, 136]; torch's Linear holds W^T.
  copy_into(fc_->weight, tf_tensor(w, "fc/weights", {256, 136}).t());
  copy_into(fc_->bias, tf_tensor(w, "fc/bias", {136}));
  prepare_cpu();
}

void FaceLandmarkNetImpl::prepare_cpu() {
  torch::NoGradGuard no_grad;
  const auto cpu = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat32).contiguous(); };
  cpu_blocks_.clear();
  for (const DenseBlock4* block : {&dense0_, &dense1_, &dense2_, &dense3_}) {
    CpuBlock b;
    for (int i = 0; i < 4; ++i) {
      const TfConv& conv = (*block)->conv(i);
      CpuConv& c = b.conv[i];
      const int64_t in = conv->conv()->options.in_channels();
      if (conv->separable()) {
        const int64_t out = conv->pointwise()->options.out_channels();
        // [C, 1, 3, 3] -> [3, 3, C]; [out, in, 1, 1] -> [in, out]
        c.depthwise = cpu(conv->conv()->weight.reshape({in, 9}).t());
        c.matrix = cpu(conv->pointwise()->weight.reshape({out, in}).t());
        c.bias = cpu(conv->pointwise()->bias);
      } else {
        const int64_t out = conv->conv()->options.out_channels();
        // [out, in, 3, 3] -> [3, 3, in, out] -> [27, out], rows in first_conv_columns' order
        c.matrix = cpu(conv->conv()->weight.permute({2, 3, 1, 0}).reshape({9 * in, out}));
        c.bias = cpu(conv->conv()->bias);
      }
    }
    b.conv[3].offset = b.conv[3].bias;
    b.conv[2].offset = b.conv[2].bias + b.conv[3].bias;
    b.bias_sum = b.conv[1].bias + b.conv[2].offset;
    cpu_blocks_.push_back(std::move(b));
  }
  cpu_fc_matrix_ = cpu(fc_->weight.t());
  cpu_fc_bias_ = cpu(fc_->bias);
}

// conv1..3 of a dense block on the CPU path. `s` [n * h * h, c] holds conv0's
// output before its relu; on return it holds out1 + out2 + out3 + out4 before
// the final relu (the sums of DenseBlock4Impl::forward). Each pointwise conv is
// one matrix product accumulated into s. Their biases are all added to s at
// the start, so the depthwise convs read relu(s - the biases not yet due): that
// offset costs one subtraction while loading, where adding each bias when due
// would cost a pass over s.
void FaceLandmarkNetImpl::cpu_block_tail(int block, float* s, int64_t n, int64_t h, float* dw, bool simd) const {
  const CpuBlock& b = cpu_blocks_[block];
  const int64_t c = b.conv[1].matrix.size(0), pixels = n * h * h;
  const SamePad pad = same_pad(h, 1);
  // out1 = relu(s), read as such by conv1's depthwise part; then s = out1 + b1 + b2 + b3.
  depthwise({s, h, c, 1, pad, b.conv[1].depthwise.data_ptr<float>(), nullptr, dw, simd}, n);
  relu_add(s, pixels, c, b.bias_sum.data_ptr<float>());
  matmul(s, dw, pixels, b.conv[1].matrix, nullptr);  // out1 + out2 + b2 + b3
  for (int i = 2; i <= 3; ++i) {
    const CpuConv& conv = b.conv[i];
    depthwise({s, h, c, 1, pad, conv.depthwise.data_ptr<float>(), conv.offset.data_ptr<float>(), dw, simd}, n);
    matmul(s, dw, pixels, conv.matrix, nullptr);
  }
}

// conv0 of dense1..3: stride-2 separable conv of relu(s_in) (the previous
// block's output, [n * h * h, in]) into s_out [n * (h/2)^2, out], via `dw`.
void FaceLandmarkNetImpl::cpu_block_head(int block, const float* s_in, int64_t n, int64_t h, float* dw,
                                         float* s_out, bool simd) const {
  const CpuConv& conv = cpu_blocks_[block].conv[0];
  const SamePad pad = same_pad(h, 2);
  depthwise({s_in, h, conv.matrix.size(0), 2, pad, conv.depthwise.data_ptr<float>(), nullptr, dw, simd}, n);
  matmul(s_out, dw, n * pad.out * pad.out, conv.matrix, &conv.bias);
}

torch::Tensor FaceLandmarkNetImpl::forward_crops_cpu(const torch::Tensor& nhwc_uint8, bool simd) {
  TORCH_CHECK(cpu_blocks_.size() == 4, "FaceLandmarkNet: forward_crops_cpu before load()/prepare_cpu()");
  TORCH_CHECK(nhwc_uint8.dim() == 4 && nhwc_uint8.size(1) == kInputSize && nhwc_uint8.size(2) == kInputSize &&
                  nhwc_uint8.size(3) == 3 && nhwc_uint8.scalar_type() == torch::kUInt8 && nhwc_uint8.is_cpu(),
              "FaceLandmarkNet: forward_crops_cpu wants uint8 CPU crops [N, 112, 112, 3], got ", nhwc_uint8.sizes());
  c10::InferenceMode inference;
  const torch::Tensor x = nhwc_uint8.contiguous();
  const int64_t n = x.size(0);
  if (n == 0) return torch::empty({0, cpu_fc_matrix_.size(1)}, torch::kFloat32);
  // Side and channels after each block: 56 x 32, 28 x 64, 14 x 128, 7 x 256.
  int64_t side[4], ch[4];
  for (int b = 0; b < 4; ++b) {
    side[b] = same_pad(b == 0 ? kInputSize : side[b - 1], 2).out;
    ch[b] = cpu_blocks_[b].conv[0].matrix.size(1);
  }
  const auto area = [&](int b) { return side[b] * side[b]; };

  // Blocks 0 and 1 run one image at a time: a 56 x 56 x 32 activation is 400 KB,
  // and a batch of them would no longer fit the caches (measured slower per
  // face at batch 4 than at batch 1). With several intra-op threads the images
  // are shared out among them, each thread with its own scratch and a
  // single-threaded image (kernels inside a parallel region run inline). The
  // matrix products of blocks 2 and 3 (M = 196 and 49 pixels per image) gain
  // from batching.
  thread_local Scratch batch_scratch;
  float* sum = batch_scratch.get(0, n * std::max(area(2) * ch[2], area(3) * ch[3]));
  float* dw = batch_scratch.get(1, n * std::max(area(2) * ch[1], area(2) * ch[2]));
  const uint8_t* pixels = x.data_ptr<uint8_t>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    thread_local Scratch image_scratch;
    float* cols = image_scratch.get(0, area(0) * 27);
    float* image_sum = image_scratch.get(1, std::max(area(0) * ch[0], area(1) * ch[1]));
    float* image_dw = image_scratch.get(2, std::max({area(0) * ch[0], area(1) * ch[0], area(1) * ch[1]}));
    for (int64_t img = begin; img < end; ++img) {
      // dense0.conv0: full 3x3 stride-2 conv of the normalised crop.
      first_conv_columns(pixels + img * kInputSize * kInputSize * 3, 1, kInputSize, cols);
      matmul(image_sum, cols, area(0), cpu_blocks_[0].conv[0].matrix, &cpu_blocks_[0].conv[0].bias);
      cpu_block_tail(0, image_sum, 1, side[0], image_dw, simd);
      cpu_block_head(1, image_sum, 1, side[0], image_dw, image_sum, simd);
      cpu_block_tail(1, image_sum, 1, side[1], image_dw, simd);
      // dense2.conv0's depthwise part into this image's rows of the batch.
      const CpuConv& conv = cpu_blocks_[2].conv[0];
      depthwise({image_sum, side[1], ch[1], 2, same_pad(side[1], 2), conv.depthwise.data_ptr<float>(), nullptr,
                 dw + img * area(2) * ch[1], simd},
                1);
    }
  });
  matmul(sum, dw, n * area(2), cpu_blocks_[2].conv[0].matrix, &cpu_blocks_[2].conv[0].bias);
  cpu_block_tail(2, sum, n, side[2], dw, simd);
  cpu_block_head(3, sum, n, side[2], dw, sum, simd);
  cpu_block_tail(3, sum, n, side[3], dw, simd);

  // relu, then the 7x7 "valid" average pool (one output pixel) and the head.
  torch::Tensor pooled = torch::zeros({n, ch[3]}, torch::kFloat32);
  const float* src = sum;
  float* dst = pooled.data_ptr<float>();
  for (int64_t img = 0; img < n; ++img, dst += ch[3]) {
    for (int64_t p = 0; p < area(3); ++p, src += ch[3]) {
      for (int64_t k = 0; k < ch[3]; ++k) dst[k] += std::max(src[k], 0.f);
    }
    for (int64_t k = 0; k < ch[3]; ++k) dst[k] /= static_cast<float>(area(3));
  }
  return at::addmm(cpu_fc_bias_, pooled, cpu_fc_matrix_);
}

torch::Tensor normalise_crops(const torch::Tensor& nhwc_uint8) {
  const auto mean = torch::tensor({kMeanRgb[0], kMeanRgb[1], kMeanRgb[2]}, torch::kFloat32).to(nhwc_uint8.device());
  return ((nhwc_uint8.to(torch::kFloat32) - mean) / 255.f).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace hicomex
