#include "face/face_landmark_net.h"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
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
    throw std::runtime_error("tfjs weights: tensor " + name + " in " + w.manifest_path() + " has shape [ " + got +
                             "], expected [ " + exp + "]");
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
// One image at a time. Activations are float NHWC [h, w, c]: one row of c
// channels per pixel, so a 1x1 convolution is one matrix product
// [pixels, in] x [in, out] and the depthwise 3x3 works on contiguous channel
// vectors. The vector kernels need AVX2 + FMA (checked at run time) and
// channel counts of the net's (32..256); other CPUs and shapes take the
// portable loops.

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

// The first convolution's input columns ("im2col") for one uint8 crop
// [size, size, 3]: for each output pixel of the stride-2 3x3 conv, the 27
// values (ky, kx, c) of its window. The crop is first normalised as
// normalise_crops does ((pixel - mean) / 255) into `padded`, a float copy with
// TF's zero padding around it (zero padding of the normalised input, as in the
// reference), so that each kernel row of a window is 9 contiguous floats.
void first_conv_columns(const uint8_t* x, int64_t size, float* padded, float* cols) {
  const SamePad p = same_pad(size, 2);
  const int64_t side = size + p.before + p.after;
  std::fill(padded, padded + side * side * 3, 0.f);
  for (int64_t y = 0; y < size; ++y) {
    const uint8_t* src = x + y * size * 3;
    float* dst = padded + ((y + p.before) * side + p.before) * 3;
    for (int64_t i = 0; i < size * 3; i += 3) {
      for (int c = 0; c < 3; ++c) dst[i + c] = (static_cast<float>(src[i + c]) - kMeanRgb[c]) / 255.f;
    }
  }
  float* dst = cols;
  for (int64_t oy = 0; oy < p.out; ++oy) {
    for (int64_t ox = 0; ox < p.out; ++ox) {
      for (int64_t ky = 0; ky < 3; ++ky, dst += 9) {
        const float* src = padded + ((oy * 2 + ky) * side + ox * 2) * 3;
        std::copy(src, src + 9, dst);
      }
    }
  }
}

// s = relu(s) + bias over [rows, c].
void relu_add(float* s, int64_t rows, int64_t c, const float* bias) {
  for (float* p = s; p < s + rows * c; p += c) {
    for (int64_t k = 0; k < c; ++k) p[k] = std::max(p[k], 0.f) + bias[k];
  }
}

// A depthwise 3x3 convolution with TF "same" padding of relu(in - offset):
// `in` [h, h, c], `offset` per channel or null, weights [9, c] (tap
// ky * 3 + kx), output [pad.out, pad.out, c]. Taking the relu (and the offset,
// see FaceLandmarkNetImpl::cpu_block_tail) while reading, and skipping the
// taps that fall in the padding, saves writing a padded copy of the input.
struct Depthwise {
  const float* in;
  int64_t h, c, stride;
  SamePad pad;
  const float* weights;
  const float* offset;
  float* out;
  bool simd;  // vector kernel where the CPU and c allow
};

void depthwise_plain(const Depthwise& d) {
  const int64_t ho = d.pad.out, c = d.c;
  float* o = d.out;
  for (int64_t oy = 0; oy < ho; ++oy) {
    for (int64_t ox = 0; ox < ho; ++ox, o += c) {
      std::fill(o, o + c, 0.f);
      for (int64_t ky = 0; ky < 3; ++ky) {
        const int64_t iy = oy * d.stride + ky - d.pad.before;
        if (iy < 0 || iy >= d.h) continue;
        for (int64_t kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox * d.stride + kx - d.pad.before;
          if (ix < 0 || ix >= d.h) continue;
          const float* src = d.in + (iy * d.h + ix) * c;
          const float* wk = d.weights + (ky * 3 + kx) * c;
          for (int64_t k = 0; k < c; ++k) o[k] += wk[k] * std::max(src[k] - (d.offset ? d.offset[k] : 0.f), 0.f);
        }
      }
    }
  }
}

// kOut output pixels of one row, 8 channels, with AVX2 + FMA: each input
// vector is loaded and rectified once and fed to every output whose window
// holds it; the 3 weights of a kernel row stay in registers. `rows` are the 3
// input rows of the window at the first channel (null: in the padding), `x0`
// the input column under the first output's left tap, `w` the input width.
// The channel count c is a template parameter so that the pixel offsets are
// constants, and kEdge = false (all kCols columns inside the input) keeps the
// unrolled column loop free of branches; together about 2x faster than a
// runtime c with a bounds check per column.
template <int kOut, int kStride, bool kOffset, int64_t c, bool kEdge>
__attribute__((target("avx2,fma"), always_inline)) inline void depthwise_pixels_avx2(const float* const rows[3],
                                                                                     const float* weights,
                                                                                     const float* offset, int64_t x0,
                                                                                     int64_t w, float* out) {
  constexpr int kCols = (kOut - 1) * kStride + 3;
  const __m256 zero = _mm256_setzero_ps();
  const __m256 off = kOffset ? _mm256_loadu_ps(offset) : zero;
  __m256 acc[kOut];
#pragma GCC unroll 8
  for (int j = 0; j < kOut; ++j) acc[j] = zero;
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    if (!rows[ky]) continue;
    const float* src = rows[ky] + x0 * c;
    const float* wk = weights + ky * 3 * c;
    const __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + c), w2 = _mm256_loadu_ps(wk + 2 * c);
#pragma GCC unroll 32
    for (int col = 0; col < kCols; ++col) {
      if (kEdge && (x0 + col < 0 || x0 + col >= w)) continue;
      __m256 v = _mm256_loadu_ps(src + col * c);
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
  for (int j = 0; j < kOut; ++j) _mm256_storeu_ps(out + j * c, acc[j]);
}

// depthwise_pixels_avx2 for outputs [ox, ox + kOut), the edge variant where the
// window reaches into the padding.
template <int kOut, int kStride, bool kOffset, int64_t c>
__attribute__((target("avx2,fma"), always_inline)) inline void depthwise_block_avx2(const float* const rows[3],
                                                                                    const float* weights,
                                                                                    const float* offset, int64_t ox,
                                                                                    int64_t before, int64_t w,
                                                                                    float* out) {
  constexpr int kCols = (kOut - 1) * kStride + 3;
  const int64_t x0 = ox * kStride - before;
  if (x0 >= 0 && x0 + kCols <= w) {
    depthwise_pixels_avx2<kOut, kStride, kOffset, c, false>(rows, weights, offset, x0, w, out);
  } else {
    depthwise_pixels_avx2<kOut, kStride, kOffset, c, true>(rows, weights, offset, x0, w, out);
  }
}

// The vector depthwise convolution for channel count c; outputs in blocks of
// 8, 4, 2, 1 pixels.
template <int kStride, bool kOffset, int64_t c>
__attribute__((target("avx2,fma"))) void depthwise_avx2(const Depthwise& d) {
  const int64_t h = d.h, ho = d.pad.out, before = d.pad.before;
  const float* const weights = d.weights;
  for (int64_t oy = 0; oy < ho; ++oy) {
    const float* rows[3];
    for (int ky = 0; ky < 3; ++ky) {
      const int64_t iy = oy * kStride + ky - before;
      rows[ky] = iy >= 0 && iy < h ? d.in + iy * h * c : nullptr;
    }
    float* o = d.out + oy * ho * c;
    for (int64_t k = 0; k < c; k += 8) {
      const float* const at_k[3] = {rows[0] ? rows[0] + k : nullptr, rows[1] ? rows[1] + k : nullptr,
                                    rows[2] ? rows[2] + k : nullptr};
      const float* const off_k = kOffset ? d.offset + k : nullptr;
      int64_t ox = 0;
      for (; ox + 8 <= ho; ox += 8) {
        depthwise_block_avx2<8, kStride, kOffset, c>(at_k, weights + k, off_k, ox, before, h, o + ox * c + k);
      }
      if (ox + 4 <= ho) {
        depthwise_block_avx2<4, kStride, kOffset, c>(at_k, weights + k, off_k, ox, before, h, o + ox * c + k);
        ox += 4;
      }
      if (ox + 2 <= ho) {
        depthwise_block_avx2<2, kStride, kOffset, c>(at_k, weights + k, off_k, ox, before, h, o + ox * c + k);
        ox += 2;
      }
      if (ox < ho) {
        depthwise_block_avx2<1, kStride, kOffset, c>(at_k, weights + k, off_k, ox, before, h, o + ox * c + k);
      }
    }
  }
}

template <int64_t c>
void depthwise_avx2_for(const Depthwise& d) {
  if (d.stride == 1) {
    d.offset ? depthwise_avx2<1, true, c>(d) : depthwise_avx2<1, false, c>(d);
  } else {
    d.offset ? depthwise_avx2<2, true, c>(d) : depthwise_avx2<2, false, c>(d);
  }
}

void depthwise(const Depthwise& d) {
  if (d.simd && cpu_has_avx2_fma() && (d.stride == 1 || d.stride == 2)) {
    switch (d.c) {
      case 32: return depthwise_avx2_for<32>(d);
      case 64: return depthwise_avx2_for<64>(d);
      case 128: return depthwise_avx2_for<128>(d);
      case 256: return depthwise_avx2_for<256>(d);
      default: break;
    }
  }
  depthwise_plain(d);
}

// ---- Matrix products of the 1x1 convolutions --------------------------------
// OpenBLAS (at::addmm) reaches about 45-90 % of this CPU's FMA peak on these
// shapes (M = pixels, K and N 27..256): for small K and N, packing its inputs
// costs as much as the arithmetic. The kernel below reads A in place and the
// weights from panels packed once at load time, at 90-99 % of the peak.

// w [k, n] (n a multiple of 16) as panels of 16 columns: [n / 16][k][16].
torch::Tensor pack_panels(const torch::Tensor& w) {
  const int64_t k = w.size(0), n = w.size(1);
  return w.reshape({k, n / 16, 16}).permute({1, 0, 2}).contiguous();
}

// kRows rows of c, 16 columns: c = bias + a x panel, or c += a x panel.
// 2 x kRows accumulators + 2 panel vectors + 1 broadcast fit the 16 registers
// for kRows <= 6.
template <int kRows>
__attribute__((target("avx2,fma"), always_inline)) inline void matmul_tile_avx2(const float* a, int64_t k,
                                                                                const float* panel, float* c,
                                                                                int64_t ldc, const float* bias) {
  __m256 acc[kRows][2];
#pragma GCC unroll 6
  for (int i = 0; i < kRows; ++i) {
    const float* init = bias ? bias : c + i * ldc;
    acc[i][0] = _mm256_loadu_ps(init);
    acc[i][1] = _mm256_loadu_ps(init + 8);
  }
  for (int64_t j = 0; j < k; ++j) {
    const __m256 b0 = _mm256_loadu_ps(panel + j * 16), b1 = _mm256_loadu_ps(panel + j * 16 + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i) {
      const __m256 x = _mm256_broadcast_ss(a + i * k + j);
      acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < kRows; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
  }
}

// Rows [begin, end) of c [m, n]: each 16-column panel in turn against all of
// them (a panel of a 256 x 256 matrix is 16 KB: it stays in L1 meanwhile).
__attribute__((target("avx2,fma"))) void matmul_rows_avx2(const float* a, int64_t k, const float* panels, int64_t n,
                                                          float* c, const float* bias, int64_t begin, int64_t end) {
  for (int64_t p = 0; p < n / 16; ++p) {
    const float* panel = panels + p * k * 16;
    const float* b = bias ? bias + p * 16 : nullptr;
    float* cp = c + p * 16;
    int64_t i = begin;
    for (; i + 6 <= end; i += 6) matmul_tile_avx2<6>(a + i * k, k, panel, cp + i * n, n, b);
    switch (end - i) {
      case 5: matmul_tile_avx2<5>(a + i * k, k, panel, cp + i * n, n, b); break;
      case 4: matmul_tile_avx2<4>(a + i * k, k, panel, cp + i * n, n, b); break;
      case 3: matmul_tile_avx2<3>(a + i * k, k, panel, cp + i * n, n, b); break;
      case 2: matmul_tile_avx2<2>(a + i * k, k, panel, cp + i * n, n, b); break;
      case 1: matmul_tile_avx2<1>(a + i * k, k, panel, cp + i * n, n, b); break;
      default: break;
    }
  }
}

// c [m, n] = bias + a [m, k] x w, or c += a x w without bias; w [k, n] is
// given as it is (for at::addmm) and as pack_panels(w).
void matmul(float* c, const float* a, int64_t m, const torch::Tensor& w, const torch::Tensor& panels,
            const torch::Tensor* bias, bool simd) {
  const int64_t k = w.size(0), n = w.size(1);
  if (simd && cpu_has_avx2_fma() && n % 16 == 0) {
    // Blocks of rows whose part of a (at most 32 KB) stays in L1 while the
    // panels pass.
    const int64_t rows = std::max<int64_t>(6, 8192 / k / 6 * 6);
    const float* b = bias ? bias->data_ptr<float>() : nullptr;
    for (int64_t first = 0; first < m; first += rows) {
      matmul_rows_avx2(a, k, panels.data_ptr<float>(), n, c, b, first, std::min(m, first + rows));
    }
    return;
  }
  torch::Tensor cm = torch::from_blob(c, {m, n}, torch::kFloat32);
  const torch::Tensor am = torch::from_blob(const_cast<float*>(a), {m, k}, torch::kFloat32);
  if (bias) {
    at::addmm_out(cm, *bias, am, w);
  } else {
    cm.addmm_(am, w);
  }
}

// Float buffers reused from call to call; see FaceLandmarkNetImpl::cpu_landmarks.
class Scratch {
 public:
  // Buffer `slot` with room for at least `floats`; contents undefined.
  float* get(int slot, int64_t floats) {
    Buffer& b = buffers_[slot];
    const size_t want = static_cast<size_t>(floats);
    if (b.size < want) {
      // 64-byte aligned: whole cache lines for the vector loads.
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
  Buffer buffers_[5];
};

// Runs fn(i) for i in [0, n) on up to at::get_num_threads() threads: the
// calling thread and tasks on torch's inter-op pool (at::launch).
// at::parallel_for cannot be used here: it is inline OpenMP code, and this
// library is not compiled with OpenMP, so it would run serially. The threads
// take images from a shared counter, so the caller never waits for a task that
// has not started: if the pool is busy, the caller does all the work itself,
// and a task that starts after that finds nothing to do.
template <class Fn>
void for_each_image(int64_t n, const Fn& fn) {
  const int64_t threads = std::min<int64_t>(n, at::get_num_threads());
  if (threads <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  struct Shared {
    std::atomic<int64_t> next{0};
    std::mutex mutex;
    std::condition_variable idle;
    int busy = 0;  // threads that may still claim or be running an image
    std::exception_ptr error;
  };
  const auto shared = std::make_shared<Shared>();
  // `fn` is only called for a claimed image, and claims are over before the
  // caller returns, so a late task never touches it.
  const auto work = [shared, n, &fn] {
    {
      std::lock_guard<std::mutex> lock(shared->mutex);
      ++shared->busy;
    }
    for (int64_t i; (i = shared->next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(shared->mutex);
        if (!shared->error) shared->error = std::current_exception();
      }
    }
    std::lock_guard<std::mutex> lock(shared->mutex);
    if (--shared->busy == 0) shared->idle.notify_all();
  };
  for (int64_t t = 1; t < threads; ++t) at::launch(work);
  work();
  std::unique_lock<std::mutex> lock(shared->mutex);
  shared->idle.wait(lock, [&] { return shared->busy == 0; });
  if (shared->error) std::rethrow_exception(shared->error);
}

}  // namespace

TfConvImpl::TfConvImpl(int64_t in, int64_t out, int64_t stride, bool separable)
    : stride_(stride), separable_(separable) {
  namespace nn = torch::nn;
  if (separable) {
    conv_ =
        register_module("depthwise", nn::Conv2d(nn::Conv2dOptions(in, in, 3).stride(stride).groups(in).bias(false)));
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
  auto y = dense3_(dense2_(dense1_(dense0_(x))));              // [N, 256, 7, 7]
  y = F::avg_pool2d(y, F::AvgPool2dFuncOptions(7).stride(2));  // "valid" -> 1x1
  return fc_(y.flatten(1));
}

void FaceLandmarkNetImpl::load(const TfjsWeights& w) {
  // dense0: a plain conv (filters, bias) + 3 separable convs (3 tensors each);
  // dense1..3: 4 separable convs; fc: weights, bias.
  constexpr size_t expected = (2 + 3 * 3) + 3 * (4 * 3) + 2;  // 49
  if (w.tensors().size() != expected) {
    throw std::runtime_error("tfjs weights: " + w.manifest_path() + " holds " + std::to_string(w.tensors().size()) +
                             " tensors, FaceLandmark68Net needs " + std::to_string(expected));
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
    for (CpuConv& c : b.conv) c.panels = pack_panels(c.matrix);
    b.conv[3].offset = b.conv[3].bias;
    b.conv[2].offset = b.conv[2].bias + b.conv[3].bias;
    b.bias_sum = b.conv[1].bias + b.conv[2].offset;
    cpu_blocks_.push_back(std::move(b));
  }
  cpu_fc_matrix_ = cpu(fc_->weight.t());
  cpu_fc_bias_ = cpu(fc_->bias);
}

// conv1..3 of a dense block on the CPU path. `s` [h * h, c] holds conv0's
// output before its relu; on return it holds out1 + out2 + out3 + out4 before
// the final relu (the sums of DenseBlock4Impl::forward). Each pointwise conv is
// one matrix product accumulated into s. Their biases are all added to s at
// the start, so the depthwise convs read relu(s - the biases not yet due): that
// offset costs one subtraction while loading, where adding each bias when due
// would cost a pass over s.
void FaceLandmarkNetImpl::cpu_block_tail(int block, float* s, int64_t h, float* dw, bool simd) const {
  const CpuBlock& b = cpu_blocks_[block];
  const int64_t c = b.conv[1].matrix.size(0), pixels = h * h;
  const SamePad pad = same_pad(h, 1);
  // out1 = relu(s), read as such by conv1's depthwise part; then s = out1 + b1 + b2 + b3.
  depthwise({s, h, c, 1, pad, b.conv[1].depthwise.data_ptr<float>(), nullptr, dw, simd});
  relu_add(s, pixels, c, b.bias_sum.data_ptr<float>());
  matmul(s, dw, pixels, b.conv[1].matrix, b.conv[1].panels, nullptr, simd);  // out1 + out2 + b2 + b3
  for (int i = 2; i <= 3; ++i) {
    const CpuConv& conv = b.conv[i];
    depthwise({s, h, c, 1, pad, conv.depthwise.data_ptr<float>(), conv.offset.data_ptr<float>(), dw, simd});
    matmul(s, dw, pixels, conv.matrix, conv.panels, nullptr, simd);
  }
}

// conv0 of dense1..3: stride-2 separable conv of relu(s_in) (the previous
// block's output, [h * h, in]) into s_out [(h/2)^2, out], via `dw`. s_out may
// be s_in: the depthwise part has read all of it before the product writes.
void FaceLandmarkNetImpl::cpu_block_head(int block, const float* s_in, int64_t h, float* dw, float* s_out,
                                         bool simd) const {
  const CpuConv& conv = cpu_blocks_[block].conv[0];
  const SamePad pad = same_pad(h, 2);
  depthwise({s_in, h, conv.matrix.size(0), 2, pad, conv.depthwise.data_ptr<float>(), nullptr, dw, simd});
  matmul(s_out, dw, pad.out * pad.out, conv.matrix, conv.panels, &conv.bias, simd);
}

// The net on one uint8 crop [112, 112, 3]: its 136 outputs into `out`.
void FaceLandmarkNetImpl::cpu_landmarks(const uint8_t* crop, float* out, bool simd) const {
  // Scratch memory kept per thread between calls: buffers of this size come
  // fresh from mmap, and their page faults (about 300 per face) cost as much
  // as all the depthwise convolutions.
  thread_local Scratch scratch;
  const SamePad first_pad = same_pad(kInputSize, 2);
  const int64_t padded_side = kInputSize + first_pad.before + first_pad.after;
  int64_t most = 0;  // the largest activation, [56 * 56, 32]
  for (int64_t b = 0, h = kInputSize; b < 4; ++b) {
    h = same_pad(h, 2).out;
    most = std::max(most, h * h * cpu_blocks_[b].conv[0].matrix.size(1));
  }
  float* padded = scratch.get(0, padded_side * padded_side * 3);
  float* cols = scratch.get(1, first_pad.out * first_pad.out * 27);
  float* sum = scratch.get(2, most);
  float* dw = scratch.get(3, most);
  float* pooled = scratch.get(4, cpu_fc_matrix_.size(0));

  // dense0.conv0: full 3x3 stride-2 conv of the normalised crop.
  int64_t h = first_pad.out;
  first_conv_columns(crop, kInputSize, padded, cols);
  const CpuConv& first = cpu_blocks_[0].conv[0];
  matmul(sum, cols, h * h, first.matrix, first.panels, &first.bias, simd);
  cpu_block_tail(0, sum, h, dw, simd);
  for (int b = 1; b < 4; ++b) {
    cpu_block_head(b, sum, h, dw, sum, simd);
    h = same_pad(h, 2).out;
    cpu_block_tail(b, sum, h, dw, simd);
  }

  // relu, then the "valid" 7x7 average pool: one output pixel.
  const int64_t c = cpu_blocks_[3].conv[0].matrix.size(1);
  std::fill(pooled, pooled + c, 0.f);
  for (const float* p = sum; p < sum + h * h * c; p += c) {
    for (int64_t k = 0; k < c; ++k) pooled[k] += std::max(p[k], 0.f);
  }
  for (int64_t k = 0; k < c; ++k) pooled[k] /= static_cast<float>(h * h);

  // The linear head, per image too, so that a face's points do not depend on
  // the other faces of the batch (a matrix library may sum in another order
  // for another batch size).
  const int64_t n = cpu_fc_matrix_.size(1);
  const float* w = cpu_fc_matrix_.data_ptr<float>();
  std::copy(cpu_fc_bias_.data_ptr<float>(), cpu_fc_bias_.data_ptr<float>() + n, out);
  for (int64_t k = 0; k < c; ++k, w += n) {
    for (int64_t j = 0; j < n; ++j) out[j] += pooled[k] * w[j];
  }
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
  // One image at a time: batching gains nothing here (the kernels have no
  // per-call set-up to share, and the matrix products run near the FMA peak at
  // M = 49 pixels already; measured the same per face at batch 4 as with
  // blocks 2 and 3 batched), and a batch of 56 x 56 x 32 activations would no
  // longer fit the caches.
  torch::Tensor out = torch::empty({n, cpu_fc_matrix_.size(1)}, torch::kFloat32);
  const uint8_t* pixels = x.data_ptr<uint8_t>();
  float* points = out.data_ptr<float>();
  for_each_image(
      n, [&](int64_t i) { cpu_landmarks(pixels + i * kInputSize * kInputSize * 3, points + i * out.size(1), simd); });
  return out;
}

torch::Tensor normalise_crops(const torch::Tensor& nhwc_uint8) {
  const auto mean = torch::tensor({kMeanRgb[0], kMeanRgb[1], kMeanRgb[2]}, torch::kFloat32).to(nhwc_uint8.device());
  return ((nhwc_uint8.to(torch::kFloat32) - mean) / 255.f).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace hicomex
