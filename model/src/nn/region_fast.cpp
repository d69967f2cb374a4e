#include "nn/region_fast.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

#include <torch/torch.h>

// The vector kernels are compiled for AVX2 + FMA function by function (the
// file itself builds without -mavx2), and only called after cpu_supported():
// the library still loads and runs on older CPUs, through the reference path.
#define HICOMEX_AVX2 __attribute__((target("avx2,fma")))
#define HICOMEX_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

namespace hicomex::nn::region_fast {

// ---- Folded weights ----------------------------------------------------------
// Layouts (all float, NHWC thinking: a 3x3 window row of a padded NHWC map is
// 3 * ci contiguous floats, index k = kx * ci + input channel):
//  * co a multiple of 8: per group, blocks of up to 32 output channels (4
//    vectors), each [ky][k][block width]; block b0 starts at 9 * ci * b0.
//  * co == 4: per group [ky][k][8], the 4 weights twice, so one vector holds
//    them for two neighbouring output pixels (see conv4_tile).
struct ConvPack {
  int64_t ci = 0, co = 0, groups = 1;
  std::vector<float> w;
  std::vector<float> bias;          // [groups][co]
  std::vector<float> scale, shift;  // [groups][ci]: BN before the ReLU (PatchConvs only)
  // Winograd weights (G g G^T), [groups][positions][ci][co], built on first
  // use for the tile size a map takes (each convolution of a model sees one
  // map size, so usually one of the two is ever built); null where ci or co is
  // not a multiple of 8.
  struct Wino {
    std::once_flag once2, once4;
    std::vector<float> u2, u4;  // F(2x2, 3x3): 16 positions; F(4x4, 3x3): 36
  };
  std::shared_ptr<Wino> wino;
  int64_t group_weights() const { return 9 * ci * (co == 4 ? 8 : co); }
};

namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("HICOMEX_REGION_FAST");
    return !(v && std::string(v) == "0");
  }()};
  return on;
}

std::atomic<int64_t> g_forwards{0};

// Smallest map side for F(2x2, 3x3) and for F(4x4, 3x3) (at 6 both take
// 144 multiplications per channel pair for the 36 outputs; from 7 F(4x4)
// takes fewer).
constexpr int64_t kWinoMinSide = 4;
constexpr int64_t kWino4MinSide = 7;
std::atomic<int64_t> g_wino_calls{0}, g_wino4_calls{0};

// Largest Winograd tile: 0 (off), 2 or 4 (default); HICOMEX_WINOGRAD=0|2|4.
std::atomic<int>& winograd_tile() {
  static std::atomic<int> tile{[] {
    const char* v = std::getenv("HICOMEX_WINOGRAD");
    const std::string s = v ? v : "";
    return s == "0" ? 0 : s == "2" ? 2 : 4;
  }()};
  return tile;
}

// Whether a kernel below handles this channel pair.
bool has_kernel(int64_t ci, int64_t co) { return ci > 0 && (co % 8 == 0 || (co == 4 && ci % 4 == 0)); }

torch::Tensor cpu_float(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat).contiguous(); }

// scale = gamma / sqrt(var + eps), shift = beta - mean * scale: bn(x) = scale * x + shift.
void fold_bn(const BatchNormParams& bn, std::vector<float>& scale, std::vector<float>& shift) {
  const auto g = cpu_float(bn.weight), b = cpu_float(bn.bias), m = cpu_float(bn.running_mean),
             v = cpu_float(bn.running_var);
  const int64_t n = g.numel();
  scale.resize(n);
  shift.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const double s = g.data_ptr<float>()[i] / std::sqrt(double(v.data_ptr<float>()[i]) + bn.eps);
    scale[i] = static_cast<float>(s);
    shift[i] = static_cast<float>(b.data_ptr<float>()[i] - m.data_ptr<float>()[i] * s);
  }
}

// Where tap (ky, kx) of input channel c and output channel o lies in one
// group's direct-kernel weights when co is a multiple of 8 (blocks of up to
// 32 outputs, each [ky][k][block width], k = kx * ci + c).
int64_t direct_weight_index(int64_t ci, int64_t co, int64_t ky, int64_t kx, int64_t c, int64_t o) {
  const int64_t b0 = o / 32 * 32, bw = std::min<int64_t>(32, co - b0);
  return 9 * ci * b0 + (ky * 3 * ci + kx * ci + c) * bw + (o - b0);
}

// weight [groups * co, ci, 3, 3] (a grouped conv: group p maps its ci inputs
// to outputs p * co ... p * co + co - 1), bias [groups * co] or undefined.
bool pack_conv(const torch::Tensor& weight, const torch::Tensor& bias, int64_t groups, ConvPack& out) {
  if (weight.dim() != 4 || weight.size(2) != 3 || weight.size(3) != 3 || weight.size(0) % groups != 0) return false;
  const int64_t co = weight.size(0) / groups, ci = weight.size(1);
  if (!has_kernel(ci, co)) return false;
  out.ci = ci;
  out.co = co;
  out.groups = groups;
  const auto wt = cpu_float(weight);
  const float* src = wt.data_ptr<float>();
  // src[((p * co + o) * ci + c) * 9 + ky * 3 + kx]
  auto at = [&](int64_t p, int64_t o, int64_t c, int64_t ky, int64_t kx) {
    return src[((p * co + o) * ci + c) * 9 + ky * 3 + kx];
  };
  out.w.assign(groups * out.group_weights(), 0.f);
  for (int64_t p = 0; p < groups; ++p) {
    float* dst = out.w.data() + p * out.group_weights();
    for (int64_t ky = 0; ky < 3; ++ky)
      for (int64_t kx = 0; kx < 3; ++kx)
        for (int64_t c = 0; c < ci; ++c) {
          if (co == 4) {
            const int64_t k = ky * 3 * ci + kx * ci + c;  // row of the [ky][k] panel
            for (int64_t o = 0; o < 8; ++o) dst[k * 8 + o] = at(p, o % 4, c, ky, kx);
          } else {
            for (int64_t o = 0; o < co; ++o) dst[direct_weight_index(ci, co, ky, kx, c, o)] = at(p, o, c, ky, kx);
          }
        }
  }
  out.wino = (ci % 8 == 0 && co % 8 == 0) ? std::make_shared<ConvPack::Wino>() : nullptr;
  out.bias.assign(groups * co, 0.f);
  if (bias.defined()) {
    const auto b = cpu_float(bias);
    std::copy(b.data_ptr<float>(), b.data_ptr<float>() + groups * co, out.bias.begin());
  }
  return true;
}

// ---- Kernels -------------------------------------------------------------------
// One convolution call: a 3x3 convolution over `rows` x `cols` output pixels
// of a zero-padded NHWC input (no bounds checks: the caller provides the
// padding), writing a strided NHWC output (a channel range of a wider map).
struct ConvCall {
  const float* in;  // input pixel under the top-left tap of output (0, 0)
  int64_t in_row;   // floats per input row
  int64_t ci;       // floats per input pixel
  float* out;       // output (0, 0), first channel of this convolution
  int64_t out_row, out_pix;
  int64_t rows, cols;
};

// R rows x P output pixels x NV vectors (8 output channels each): the
// weights of one (ky, k) are loaded once and used for the R * P pixels, each
// input value is broadcast once and used for the NV vectors. R * P * NV <= 14
// accumulators leave registers for the weights and the broadcast, and give
// enough independent FMA chains to cover the FMA latency.
// CI > 0: the input channel count at compile time (the common ones), so that
// every input address of the tile is one base register plus a constant, not a
// register per pixel (the run-time version, CI = 0, runs short of registers).
template <int NV, int P, int R, int CI>
HICOMEX_AVX2_INLINE void conv_tile(const float* in, int64_t ci_arg, int64_t in_row, const float* w, const float* bias,
                                   float* out, int64_t out_row, int64_t out_pix) {
  constexpr int kWidth = NV * 8;
  const int64_t ci = CI > 0 ? CI : ci_arg;
  const int64_t k_row = 3 * ci;
  __m256 acc[R][P][NV];
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 12
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][p][v] = _mm256_loadu_ps(bias + v * 8);
  for (int ky = 0; ky < 3; ++ky) {
    const float* x = in + ky * in_row;
    const float* wk = w + ky * k_row * kWidth;
    for (int64_t k = 0; k < k_row; ++k, wk += kWidth) {
      __m256 wv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) wv[v] = _mm256_loadu_ps(wk + v * 8);
#pragma GCC unroll 2
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 12
        for (int p = 0; p < P; ++p) {
          const __m256 xv = _mm256_broadcast_ss(x + r * in_row + p * ci + k);
#pragma GCC unroll 4
          for (int v = 0; v < NV; ++v) acc[r][p][v] = _mm256_fmadd_ps(xv, wv[v], acc[r][p][v]);
        }
    }
  }
#pragma GCC unroll 2
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 12
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) _mm256_storeu_ps(out + r * out_row + p * out_pix + v * 8, acc[r][p][v]);
}

// conv_tile for a run-time tile width p <= P (an if-chain once inlined).
template <int NV, int P, int R, int CI>
HICOMEX_AVX2_INLINE void conv_tile_n(int64_t p, const float* in, int64_t ci, int64_t in_row, const float* w,
                                     const float* bias, float* out, int64_t out_row, int64_t out_pix) {
  if constexpr (P >= 1) {
    if (p == P) return conv_tile<NV, P, R, CI>(in, ci, in_row, w, bias, out, out_row, out_pix);
    conv_tile_n<NV, P - 1, R, CI>(p, in, ci, in_row, w, bias, out, out_row, out_pix);
  }
}

// Rows [r0, r0 + R * n) of a call, R at a time. Each row is cut into tiles of
// nearly equal width (a 14-pixel patch row is 7 + 7 at most 7, not 12 + 2), so
// few pixels go through the narrow, latency-bound tiles.
template <int NV, int R, int CI>
HICOMEX_AVX2_INLINE void conv_row_group(const ConvCall& c, const float* w, const float* bias, int64_t r0, int64_t n) {
  constexpr int kMaxP = (NV == 1 && R == 2) ? 7 : 12 / (NV * R);
  const int64_t tiles = (c.cols + kMaxP - 1) / kMaxP;
  for (int64_t r = r0; r < r0 + R * n; r += R) {
    const float* in = c.in + r * c.in_row;
    float* out = c.out + r * c.out_row;
    int64_t x = 0;
    for (int64_t t = 1; t <= tiles; ++t) {
      const int64_t end = c.cols * t / tiles;
      conv_tile_n<NV, kMaxP, R, CI>(end - x, in + x * c.ci, c.ci, c.in_row, w, bias, out + x * c.out_pix, c.out_row,
                                    c.out_pix);
      x = end;
    }
  }
}

template <int NV, int CI>
HICOMEX_AVX2 void conv_rows(const ConvCall& c, const float* w, const float* bias) {
  if constexpr (NV <= 2) {
    // Two rows at a time where one row's tile has too few accumulators.
    conv_row_group<NV, 2, CI>(c, w, bias, 0, c.rows / 2);
    if (c.rows % 2) conv_row_group<NV, 1, CI>(c, w, bias, c.rows - 1, 1);
  } else {
    conv_row_group<NV, 1, CI>(c, w, bias, 0, c.rows);
  }
}

// conv_rows with the input channel count at compile time where it is one of
// CIs (those of the region layers in use: C = 16, 32, 64 and inputs 3, 16,
// 32; the FeatConv branches add 48, 80, 96), else at run time.
template <int NV, int... CIs>
void conv_rows_for(const ConvCall& c, const float* w, const float* bias) {
  const bool done = ((c.ci == CIs ? (conv_rows<NV, CIs>(c, w, bias), true) : false) || ...);
  if (!done) conv_rows<NV, 0>(c, w, bias);
}

// Four output channels: a 256-bit vector holds them for two neighbouring
// pixels (lanes 0-3 pixel 2q, lanes 4-7 pixel 2q + 1), so the FMAs run at full
// width. The input of both pixels is loaded 4 channels at a time into the two
// 128-bit halves and each channel is broadcast within its half by an in-lane
// permute; the weights are stored duplicated to match. Needs ci % 4 == 0.
template <int Q, int CI>
HICOMEX_AVX2_INLINE void conv4_tile(const float* in, int64_t ci_arg, int64_t in_row, const float* w, const float* bias,
                                    float* out, int64_t out_pix) {
  const int64_t ci = CI > 0 ? CI : ci_arg;
  const __m128 b4 = _mm_loadu_ps(bias);
  __m256 acc[Q];
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q) acc[q] = _mm256_insertf128_ps(_mm256_castps128_ps256(b4), b4, 1);
  const int64_t k_row = 3 * ci;
  for (int ky = 0; ky < 3; ++ky) {
    const float* x = in + ky * in_row;
    const float* wk = w + ky * k_row * 8;
    for (int64_t k = 0; k < k_row; k += 4, wk += 32) {
      const __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8), w2 = _mm256_loadu_ps(wk + 16),
                   w3 = _mm256_loadu_ps(wk + 24);
#pragma GCC unroll 8
      for (int q = 0; q < Q; ++q) {
        const float* p0 = x + 2 * q * ci + k;
        const __m256 v = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p0)), _mm_loadu_ps(p0 + ci), 1);
        acc[q] = _mm256_fmadd_ps(_mm256_permute_ps(v, 0x00), w0, acc[q]);
        acc[q] = _mm256_fmadd_ps(_mm256_permute_ps(v, 0x55), w1, acc[q]);
        acc[q] = _mm256_fmadd_ps(_mm256_permute_ps(v, 0xAA), w2, acc[q]);
        acc[q] = _mm256_fmadd_ps(_mm256_permute_ps(v, 0xFF), w3, acc[q]);
      }
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < Q; ++q) {
    _mm_storeu_ps(out + 2 * q * out_pix, _mm256_castps256_ps128(acc[q]));
    _mm_storeu_ps(out + (2 * q + 1) * out_pix, _mm256_extractf128_ps(acc[q], 1));
  }
}

// The odd last pixel of a row with four output channels (128-bit).
HICOMEX_AVX2_INLINE void conv4_pixel(const float* in, int64_t ci, int64_t in_row, const float* w, const float* bias,
                                     float* out) {
  __m128 acc = _mm_loadu_ps(bias);
  const int64_t k_row = 3 * ci;
  for (int ky = 0; ky < 3; ++ky) {
    const float* x = in + ky * in_row;
    const float* wk = w + ky * k_row * 8;
    for (int64_t k = 0; k < k_row; ++k) acc = _mm_fmadd_ps(_mm_broadcast_ss(x + k), _mm_loadu_ps(wk + k * 8), acc);
  }
  _mm_storeu_ps(out, acc);
}

template <int Q, int CI>
HICOMEX_AVX2_INLINE void conv4_tile_n(int64_t q, const float* in, int64_t ci, int64_t in_row, const float* w,
                                      const float* bias, float* out, int64_t out_pix) {
  if constexpr (Q >= 1) {
    if (q == Q) return conv4_tile<Q, CI>(in, ci, in_row, w, bias, out, out_pix);
    conv4_tile_n<Q - 1, CI>(q, in, ci, in_row, w, bias, out, out_pix);
  }
}

template <int CI>
HICOMEX_AVX2 void conv4_rows(const ConvCall& c, const float* w, const float* bias) {
  constexpr int kMaxQ = 8;  // 8 accumulators + 4 weights + the input and a permute
  const int64_t pairs = c.cols / 2, tiles = (pairs + kMaxQ - 1) / kMaxQ;
  for (int64_t r = 0; r < c.rows; ++r) {
    const float* in = c.in + r * c.in_row;
    float* out = c.out + r * c.out_row;
    int64_t q = 0;
    for (int64_t t = 1; t <= tiles; ++t) {
      const int64_t end = pairs * t / tiles;
      conv4_tile_n<kMaxQ, CI>(end - q, in + 2 * q * c.ci, c.ci, c.in_row, w, bias, out + 2 * q * c.out_pix, c.out_pix);
      q = end;
    }
    if (c.cols % 2) {
      const int64_t x = c.cols - 1;
      conv4_pixel(in + x * c.ci, c.ci, c.in_row, w, bias, out + x * c.out_pix);
    }
  }
}

// ---- Winograd F(2x2, 3x3) and F(4x4, 3x3) ------------------------------------
// Each T x T block of outputs ("tile") comes from a (T+2) x (T+2) input window
// d: Y = A^T [ (G g G^T) . (B^T d B) ] A, summed over input channels, which is
// (T+2)^2 multiplications per tile and channel pair instead of 9 T^2 (16 vs 36
// for T = 2, 36 vs 144 for T = 4). The positions of the transformed window
// become (T+2)^2 matrix products [tiles x ci] x [ci x co].
struct WinoScratch {
  std::vector<float> v, m;
};

// U = G g G^T for every (output, input) channel pair of `pack` (co a multiple
// of 8), from its direct-kernel layout, in double: [groups][n*n][ci][co] for
// output tiles of T x T, n = T + 2 (T = 2: F(2x2, 3x3), T = 4: F(4x4, 3x3)).
std::vector<float> wino_weights(const ConvPack& pack, int tile) {
  const int n = tile + 2;
  static const double G4[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
  static const double G6[6][3] = {{1. / 4, 0, 0},
                                  {-1. / 6, -1. / 6, -1. / 6},
                                  {-1. / 6, 1. / 6, -1. / 6},
                                  {1. / 24, 1. / 12, 1. / 6},
                                  {1. / 24, -1. / 12, 1. / 6},
                                  {0, 0, 1}};
  const int64_t ci = pack.ci, co = pack.co, nn = n * n;
  std::vector<float> u(pack.groups * nn * ci * co);
  for (int64_t p = 0; p < pack.groups; ++p) {
    const float* w = pack.w.data() + p * pack.group_weights();
    for (int64_t o = 0; o < co; ++o) {
      for (int64_t c = 0; c < ci; ++c) {
        double g[3][3], tmp[6][3];  // g[ky][kx]; G g
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) g[ky][kx] = w[direct_weight_index(ci, co, ky, kx, c, o)];
        for (int i = 0; i < n; ++i)
          for (int kx = 0; kx < 3; ++kx) {
            const double* G = n == 4 ? G4[i] : G6[i];
            tmp[i][kx] = G[0] * g[0][kx] + G[1] * g[1][kx] + G[2] * g[2][kx];
          }
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) {
            const double* G = n == 4 ? G4[j] : G6[j];
            u[((p * nn + i * n + j) * ci + c) * co + o] =
                static_cast<float>(tmp[i][0] * G[0] + tmp[i][1] * G[1] + tmp[i][2] * G[2]);
          }
      }
    }
  }
  return u;
}

// The weights for T x T tiles, built by the first call that needs them.
const float* wino_weights_for(const ConvPack& pack, int tile) {
  ConvPack::Wino& w = *pack.wino;
  if (tile == 2) {
    std::call_once(w.once2, [&] { w.u2 = wino_weights(pack, 2); });
    return w.u2.data();
  }
  std::call_once(w.once4, [&] { w.u4 = wino_weights(pack, 4); });
  return w.u4.data();
}

// The transforms along one axis, for output tiles of T x T (windows of
// T + 2): bt<T> applies B^T to a column of the window, at<T> A^T to a column
// of the product. F(4x4, 3x3) uses Lavin and Gray's points 0, +-1, +-2 and
// infinity (36 multiplications per tile and channel pair instead of 144).
template <int T>
HICOMEX_AVX2_INLINE void bt(const __m256* x, __m256* o);
template <int T>
HICOMEX_AVX2_INLINE void at(const __m256* m, __m256* y);

// (x0 - x2, x1 + x2, x2 - x1, x1 - x3).
template <>
HICOMEX_AVX2_INLINE void bt<2>(const __m256* x, __m256* o) {
  o[0] = _mm256_sub_ps(x[0], x[2]);
  o[1] = _mm256_add_ps(x[1], x[2]);
  o[2] = _mm256_sub_ps(x[2], x[1]);
  o[3] = _mm256_sub_ps(x[1], x[3]);
}

// (m0 + m1 + m2, m1 - m2 - m3).
template <>
HICOMEX_AVX2_INLINE void at<2>(const __m256* m, __m256* y) {
  y[0] = _mm256_add_ps(_mm256_add_ps(m[0], m[1]), m[2]);
  y[1] = _mm256_sub_ps(_mm256_sub_ps(m[1], m[2]), m[3]);
}

// (4x0 - 5x2 + x4, -4x1 - 4x2 + x3 + x4, 4x1 - 4x2 - x3 + x4,
//  -2x1 - x2 + 2x3 + x4, 2x1 - x2 - 2x3 + x4, 4x1 - 5x3 + x5).
template <>
HICOMEX_AVX2_INLINE void bt<4>(const __m256* x, __m256* o) {
  const __m256 four = _mm256_set1_ps(4.f), five = _mm256_set1_ps(5.f), two = _mm256_set1_ps(2.f);
  o[0] = _mm256_fmadd_ps(four, x[0], _mm256_fnmadd_ps(five, x[2], x[4]));
  const __m256 t1 = _mm256_fnmadd_ps(four, x[2], x[4]), t2 = _mm256_fnmadd_ps(four, x[1], x[3]);
  o[1] = _mm256_add_ps(t1, t2);
  o[2] = _mm256_sub_ps(t1, t2);
  const __m256 t3 = _mm256_sub_ps(x[4], x[2]), t4 = _mm256_mul_ps(two, _mm256_sub_ps(x[3], x[1]));
  o[3] = _mm256_add_ps(t3, t4);
  o[4] = _mm256_sub_ps(t3, t4);
  o[5] = _mm256_fmadd_ps(four, x[1], _mm256_fnmadd_ps(five, x[3], x[5]));
}

// (m0 + m1 + m2 + m3 + m4, m1 - m2 + 2(m3 - m4), m1 + m2 + 4(m3 + m4),
//  m1 - m2 + 8(m3 - m4) + m5).
template <>
HICOMEX_AVX2_INLINE void at<4>(const __m256* m, __m256* y) {
  const __m256 t1 = _mm256_add_ps(m[1], m[2]), t2 = _mm256_sub_ps(m[1], m[2]);
  const __m256 t3 = _mm256_add_ps(m[3], m[4]), t4 = _mm256_sub_ps(m[3], m[4]);
  y[0] = _mm256_add_ps(_mm256_add_ps(m[0], t1), t3);
  y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.f), t4, t2);
  y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.f), t3, t1);
  y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.f), t4, t2), m[5]);
}

// v[(T+2)^2][..][ci] <- B^T d B of every tile's (T+2) x (T+2) window (zero
// beyond the padded input: rows + 2 by cols + 2 pixels); position planes
// `plane` floats apart.
template <int T>
HICOMEX_AVX2 void wino_input(const ConvCall& c, int64_t ci, int64_t th, int64_t tw, float* v, int64_t plane) {
  constexpr int kN = T + 2;
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t ty = 0; ty < th; ++ty)
    for (int64_t tx = 0; tx < tw; ++tx) {
      const int64_t t = ty * tw + tx;
      for (int64_t c0 = 0; c0 < ci; c0 += 8) {
        __m256 r[kN][kN];  // B^T d, column by column
        for (int j = 0; j < kN; ++j) {
          const int64_t x = T * tx + j;
          __m256 d[kN], o[kN];
          for (int i = 0; i < kN; ++i) {
            const int64_t y = T * ty + i;
            d[i] = (y < c.rows + 2 && x < c.cols + 2) ? _mm256_loadu_ps(c.in + y * c.in_row + x * c.ci + c0) : zero;
          }
          bt<T>(d, o);
          for (int i = 0; i < kN; ++i) r[i][j] = o[i];
        }
        for (int i = 0; i < kN; ++i) {
          __m256 o[kN];
          bt<T>(r[i], o);
          for (int j = 0; j < kN; ++j) _mm256_storeu_ps(v + (i * kN + j) * plane + t * ci + c0, o[j]);
        }
      }
    }
}

// m[tiles][co] = v[tiles][ci] x u[ci][co], R tiles by NV vectors of 8 outputs.
template <int R, int NV>
HICOMEX_AVX2_INLINE void wino_gemm_block(const float* v, const float* u, float* m, int64_t ci, int64_t co) {
  __m256 acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < NV; ++n) acc[r][n] = _mm256_setzero_ps();
  for (int64_t k = 0; k < ci; ++k) {
    __m256 w[NV];
    for (int n = 0; n < NV; ++n) w[n] = _mm256_loadu_ps(u + k * co + n * 8);
    for (int r = 0; r < R; ++r) {
      const __m256 x = _mm256_broadcast_ss(v + r * ci + k);
      for (int n = 0; n < NV; ++n) acc[r][n] = _mm256_fmadd_ps(x, w[n], acc[r][n]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int n = 0; n < NV; ++n) _mm256_storeu_ps(m + r * co + n * 8, acc[r][n]);
}

template <int NV>
HICOMEX_AVX2 void wino_gemm(const float* v, const float* u, float* m, int64_t tiles, int64_t ci, int64_t co,
                            int64_t c0) {
  int64_t t = 0;
  for (; t + 6 <= tiles; t += 6) wino_gemm_block<6, NV>(v + t * ci, u + c0, m + t * co + c0, ci, co);
  switch (tiles - t) {
    case 5: wino_gemm_block<5, NV>(v + t * ci, u + c0, m + t * co + c0, ci, co); break;
    case 4: wino_gemm_block<4, NV>(v + t * ci, u + c0, m + t * co + c0, ci, co); break;
    case 3: wino_gemm_block<3, NV>(v + t * ci, u + c0, m + t * co + c0, ci, co); break;
    case 2: wino_gemm_block<2, NV>(v + t * ci, u + c0, m + t * co + c0, ci, co); break;
    case 1: wino_gemm_block<1, NV>(v + t * ci, u + c0, m + t * co + c0, ci, co); break;
    default: break;
  }
}

// Outputs of every tile: A^T m A + bias, into the call's strided output
// (rows and columns past the map are cut).
template <int T>
HICOMEX_AVX2 void wino_output(const ConvCall& c, int64_t co, int64_t th, int64_t tw, const float* m, int64_t plane,
                              const float* bias) {
  constexpr int kN = T + 2;
  for (int64_t ty = 0; ty < th; ++ty)
    for (int64_t tx = 0; tx < tw; ++tx) {
      const int64_t t = ty * tw + tx;
      const int64_t nr = std::min<int64_t>(T, c.rows - T * ty), nc = std::min<int64_t>(T, c.cols - T * tx);
      float* o = c.out + T * ty * c.out_row + T * tx * c.out_pix;
      for (int64_t c0 = 0; c0 < co; c0 += 8) {
        __m256 s[T][kN];  // A^T q, column by column
        for (int j = 0; j < kN; ++j) {
          __m256 q[kN], y[T];
          for (int i = 0; i < kN; ++i) q[i] = _mm256_loadu_ps(m + (i * kN + j) * plane + t * co + c0);
          at<T>(q, y);
          for (int i = 0; i < T; ++i) s[i][j] = y[i];
        }
        const __m256 b = _mm256_loadu_ps(bias + c0);
        for (int i = 0; i < nr; ++i) {
          __m256 y[T];
          at<T>(s[i], y);
          for (int j = 0; j < nc; ++j) _mm256_storeu_ps(o + i * c.out_row + j * c.out_pix + c0, _mm256_add_ps(y[j], b));
        }
      }
    }
}

// `n` images of the same size at once (calls[k]: image k): their tiles are
// the rows of one matrix product per window position, so each weight loaded
// serves n times as many tiles. T = 2: F(2x2, 3x3), T = 4: F(4x4, 3x3).
template <int T>
void winograd_images(const ConvPack& pack, int64_t group, const ConvCall* calls, int64_t n) {
  constexpr int kN = T + 2, kPositions = kN * kN;
  thread_local WinoScratch s;
  const ConvCall& c = calls[0];
  const int64_t ci = pack.ci, co = pack.co, th = (c.rows + T - 1) / T, tw = (c.cols + T - 1) / T, tiles = th * tw;
  const int64_t rows = n * tiles;
  if (static_cast<int64_t>(s.v.size()) < kPositions * rows * ci) s.v.resize(kPositions * rows * ci);
  if (static_cast<int64_t>(s.m.size()) < kPositions * rows * co) s.m.resize(kPositions * rows * co);
  float* v = s.v.data();
  float* m = s.m.data();
  for (int64_t k = 0; k < n; ++k) wino_input<T>(calls[k], ci, th, tw, v + k * tiles * ci, rows * ci);
  const float* u = wino_weights_for(pack, T) + group * kPositions * ci * co;
  for (int64_t xi = 0; xi < kPositions; ++xi) {
    const float* vx = v + xi * rows * ci;
    const float* ux = u + xi * ci * co;
    float* mx = m + xi * rows * co;
    int64_t c0 = 0;
    for (; c0 + 16 <= co; c0 += 16) wino_gemm<2>(vx, ux, mx, rows, ci, co, c0);
    if (c0 < co) wino_gemm<1>(vx, ux, mx, rows, ci, co, c0);
  }
  const float* bias = pack.bias.data() + group * co;
  for (int64_t k = 0; k < n; ++k) wino_output<T>(calls[k], co, th, tw, m + k * tiles * co, rows * co, bias);
  (T == 2 ? g_wino_calls : g_wino4_calls).fetch_add(n, std::memory_order_relaxed);
}

void conv3x3_direct(const ConvPack& pack, int64_t group, const ConvCall& c);

// Group `group` of `pack` over `n` images of the same size (calls[k] the k-th).
void conv3x3_images(const ConvPack& pack, int64_t group, const ConvCall* calls, int64_t n) {
  // Winograd where the channel counts allow it and the map has whole tiles,
  // the larger tile from 7x7 (A/B: hicomex-bench with HICOMEX_WINOGRAD=0|2|4;
  // docs/performance.md).
  const int tile = winograd_tile().load(std::memory_order_relaxed);
  const int64_t rows = calls[0].rows, cols = calls[0].cols;
  if (pack.wino && tile >= 4 && rows >= kWino4MinSide && cols >= kWino4MinSide)
    return winograd_images<4>(pack, group, calls, n);
  if (pack.wino && tile >= 2 && rows >= kWinoMinSide && cols >= kWinoMinSide)
    return winograd_images<2>(pack, group, calls, n);
  for (int64_t k = 0; k < n; ++k) conv3x3_direct(pack, group, calls[k]);
}

void conv3x3(const ConvPack& pack, int64_t group, const ConvCall& c) { conv3x3_images(pack, group, &c, 1); }

// Group `group` of `pack` over the call's pixels, direct kernels.
void conv3x3_direct(const ConvPack& pack, int64_t group, const ConvCall& c) {
  const float* w = pack.w.data() + group * pack.group_weights();
  const float* bias = pack.bias.data() + group * pack.co;
  if (pack.co == 4) {
    // C = 16: the 4x4 grid's convolution has 8 inputs, the 2x2 grid's 4.
    if (c.ci == 4) return conv4_rows<4>(c, w, bias);
    if (c.ci == 8) return conv4_rows<8>(c, w, bias);
    return conv4_rows<0>(c, w, bias);
  }
  for (int64_t b0 = 0; b0 < pack.co; b0 += 32) {
    ConvCall block = c;
    block.out += b0;
    const float* wb = w + 9 * pack.ci * b0;
    switch (std::min<int64_t>(4, (pack.co - b0) / 8)) {
      case 4: conv_rows_for<4, 3, 16, 32, 48, 64, 80, 96>(block, wb, bias + b0); break;
      case 3: conv_rows_for<3>(block, wb, bias + b0); break;
      case 2: conv_rows_for<2, 3, 16, 32, 48, 64, 80, 96>(block, wb, bias + b0); break;
      default: conv_rows_for<1, 8, 16>(block, wb, bias + b0); break;
    }
  }
}

// The input of one patch convolution: relu(scale * x + shift) of the patch
// (ph x pw pixels of ci channels at `src`, a channel range of a wider NHWC
// map) into the interior of `dst` [(ph + 2)][(pw + 2)][ci], whose border the
// caller keeps at zero: the reference pads each patch with zeros after its
// BN + ReLU. ci is a multiple of 4.
HICOMEX_AVX2 void activate_patch(const float* src, int64_t src_row, int64_t src_pix, int64_t ci, const float* scale,
                                 const float* shift, int64_t ph, int64_t pw, float* dst) {
  const int64_t dst_row = (pw + 2) * ci;
  for (int64_t r = 0; r < ph; ++r) {
    const float* s = src + r * src_row;
    float* d = dst + (r + 1) * dst_row + ci;
    for (int64_t x = 0; x < pw; ++x, s += src_pix, d += ci) {
      int64_t c = 0;
      for (; c + 8 <= ci; c += 8) {
        const __m256 v =
            _mm256_fmadd_ps(_mm256_loadu_ps(s + c), _mm256_loadu_ps(scale + c), _mm256_loadu_ps(shift + c));
        _mm256_storeu_ps(d + c, _mm256_max_ps(_mm256_setzero_ps(), v));
      }
      for (; c < ci; c += 4) {
        const __m128 v = _mm_fmadd_ps(_mm_loadu_ps(s + c), _mm_loadu_ps(scale + c), _mm_loadu_ps(shift + c));
        _mm_storeu_ps(d + c, _mm_max_ps(_mm_setzero_ps(), v));
      }
    }
  }
}

// x [ci][h][w] (NCHW, one image) into dst [(h + 2)][(w + 2)][ci], zero border.
void to_padded_nhwc(const float* x, int64_t ci, int64_t h, int64_t w, float* dst) {
  const int64_t row = (w + 2) * ci;
  std::fill(dst, dst + row, 0.f);
  std::fill(dst + (h + 1) * row, dst + (h + 2) * row, 0.f);
  for (int64_t y = 0; y < h; ++y) {
    float* d = dst + (y + 1) * row;
    std::fill(d, d + ci, 0.f);
    std::fill(d + (w + 1) * ci, d + (w + 2) * ci, 0.f);
    for (int64_t c = 0; c < ci; ++c) {
      const float* s = x + (c * h + y) * w;
      for (int64_t i = 0; i < w; ++i) d[(i + 1) * ci + c] = s[i];
    }
  }
}

// Rows [0, n) of tmp [n][c] (NHWC) to n consecutive values of each of the c
// planes of an NCHW output.
HICOMEX_AVX2 void store_nchw(const float* tmp, int64_t n, int64_t c, float* out, int64_t plane) {
  int64_t x = 0;
  // 8 pixels x 8 channels at a time: an 8x8 register transpose, then one
  // contiguous store per channel.
  for (; x + 8 <= n; x += 8) {
    for (int64_t c0 = 0; c0 < c; c0 += 8) {
      __m256 r[8], t[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(tmp + (x + i) * c + c0);
      for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
      }
      for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
      }
      // Now r[j] holds channel j of pixels 0-3 in its low half and channel
      // j + 4 in its high half, r[j + 4] the same for pixels 4-7.
      for (int j = 0; j < 4; ++j) {
        const __m256 lo = r[j], hi = r[j + 4];
        _mm256_storeu_ps(out + (c0 + j) * plane + x, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(out + (c0 + j + 4) * plane + x, _mm256_permute2f128_ps(lo, hi, 0x31));
      }
    }
  }
  for (; x < n; ++x)
    for (int64_t k = 0; k < c; ++k) out[k * plane + x] = tmp[x * c + k];
}

// max of four vectors, NaN if any lane of any is NaN (as torch's max-pool):
// max_ps alone would drop a NaN in its first operand.
HICOMEX_AVX2_INLINE __m256 max4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 m = _mm256_max_ps(_mm256_max_ps(a, b), _mm256_max_ps(c, d));
  const __m256 nan = _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_UNORD_Q), _mm256_cmp_ps(c, d, _CMP_UNORD_Q));
  return _mm256_or_ps(m, nan);  // all ones is a NaN
}

// relu(scale * (cat + base) + shift) of 8 channels at offset i of both maps.
HICOMEX_AVX2_INLINE __m256 output_value(const float* base, const float* cat, int64_t i, const float* scale,
                                        const float* shift) {
  const __m256 v = _mm256_add_ps(_mm256_loadu_ps(cat + i), _mm256_loadu_ps(base + i));
  return _mm256_max_ps(_mm256_setzero_ps(), _mm256_fmadd_ps(v, _mm256_loadu_ps(scale), _mm256_loadu_ps(shift)));
}

// The region layer's output for one quadrant: relu(scale * (cat + base) +
// shift), optionally 2x2 max-pooled, into the NCHW output. base and cat are
// the quadrant's [qh][qw][c] maps; `out` points at the quadrant's first output
// pixel of plane 0; tmp holds one output row [qw][c]. Pooling after the ReLU
// as the reference does (the scale may be negative, so not before).
HICOMEX_AVX2 void finish(const float* base, const float* cat, int64_t c, int64_t qh, int64_t qw, const float* scale,
                         const float* shift, bool pool, float* out, int64_t plane, int64_t out_row, float* tmp) {
  // (No lambda here: it would not inherit the target attribute.)
#define HICOMEX_VALUE(i, c0) output_value(base, cat, (i)*c + (c0), scale + (c0), shift + (c0))
  if (!pool) {
    for (int64_t y = 0; y < qh; ++y) {
      for (int64_t x = 0; x < qw; ++x)
        for (int64_t c0 = 0; c0 < c; c0 += 8) _mm256_storeu_ps(tmp + x * c + c0, HICOMEX_VALUE(y * qw + x, c0));
      store_nchw(tmp, qw, c, out + y * out_row, plane);
    }
    return;
  }
  for (int64_t y = 0; y < qh / 2; ++y) {
    for (int64_t x = 0; x < qw / 2; ++x) {
      const int64_t i = 2 * y * qw + 2 * x;
      for (int64_t c0 = 0; c0 < c; c0 += 8) {
        const __m256 m = max4(HICOMEX_VALUE(i, c0), HICOMEX_VALUE(i + 1, c0), HICOMEX_VALUE(i + qw, c0),
                              HICOMEX_VALUE(i + qw + 1, c0));
        _mm256_storeu_ps(tmp + x * c + c0, m);
      }
    }
    store_nchw(tmp, qw / 2, c, out + y * out_row, plane);
  }
#undef HICOMEX_VALUE
}

// Buffers reused from call to call by each thread (about 0.5 MB for the
// default model's first region layer, 2.4 MB for the paper-sized one).
struct Scratch {
  std::vector<float> input, base, cat, patch, row;
  static float* fit(std::vector<float>& v, int64_t n) {
    if (static_cast<int64_t>(v.size()) < n) v.resize(n);
    return v.data();
  }
};

}  // namespace

struct Packed {
  int64_t in = 0, c = 0;
  ConvPack base;
  ConvPack patch[3];
  int64_t grid[3] = {0, 0, 0};
  std::vector<float> out_scale, out_shift;
};

namespace {

// One image: x [in][h][w] -> out [c][oh][ow] (NCHW). The image is done one
// quadrant (patch of the 2x2 grid) at a time, from the base convolution to the
// output: every patch of the finer grids lies in one quadrant and nothing
// crosses a quadrant border except the base convolution's input halo.
void run_image(const Packed& pk, const float* x, int64_t h, int64_t w, bool pool, float* out, Scratch& s) {
  const int64_t c = pk.c, qh = h / 2, qw = w / 2;
  const int64_t oh = pool ? h / 2 : h, ow = pool ? w / 2 : w, plane = oh * ow;
  float* input = Scratch::fit(s.input, (h + 2) * (w + 2) * pk.in);
  float* base = Scratch::fit(s.base, qh * qw * c);
  float* cat = Scratch::fit(s.cat, qh * qw * c);  // a | b | c channels of the quadrant
  float* row = Scratch::fit(s.row, qw * c);
  int64_t patch_floats = 0;
  for (int i = 0; i < 3; ++i)
    patch_floats = std::max(patch_floats, (h / pk.grid[i] + 2) * (w / pk.grid[i] + 2) * pk.patch[i].ci);
  float* patch = Scratch::fit(s.patch, patch_floats);
  to_padded_nhwc(x, pk.in, h, w, input);

  for (int64_t qy = 0; qy < 2; ++qy) {
    for (int64_t qx = 0; qx < 2; ++qx) {
      conv3x3(pk.base, 0,
              ConvCall{input + (qy * qh * (w + 2) + qx * qw) * pk.in, (w + 2) * pk.in, pk.in, base, qw * c, c, qh, qw});
      // The cascade: each PatchConv reads the previous one's output (the
      // first reads base) and writes its channel range of cat.
      const float* src = base;
      int64_t src_off = 0, dst_off = 0;
      for (int i = 0; i < 3; ++i) {
        const ConvPack& cp = pk.patch[i];
        const int64_t g = pk.grid[i], ph = h / g, pw = w / g, per = g / 2;
        std::fill(patch, patch + (ph + 2) * (pw + 2) * cp.ci, 0.f);
        for (int64_t py = 0; py < per; ++py) {
          for (int64_t px = 0; px < per; ++px) {
            const int64_t p = (qy * per + py) * g + qx * per + px;  // patch index in the full grid
            const int64_t at = (py * ph * qw + px * pw) * c;        // its first pixel in the quadrant maps
            activate_patch(src + at + src_off, qw * c, c, cp.ci, cp.scale.data() + p * cp.ci,
                           cp.shift.data() + p * cp.ci, ph, pw, patch);
            conv3x3(cp, p, ConvCall{patch, (pw + 2) * cp.ci, cp.ci, cat + at + dst_off, qw * c, c, ph, pw});
          }
        }
        src = cat;
        src_off = dst_off;
        dst_off += cp.co;
      }
      float* quadrant_out = out + qy * (oh / 2) * ow + qx * (ow / 2);
      finish(base, cat, c, qh, qw, pk.out_scale.data(), pk.out_shift.data(), pool, quadrant_out, plane, ow, row);
    }
  }
}

}  // namespace

bool cpu_supported() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

void set_enabled(bool on) { enabled_flag() = on; }
void set_winograd(bool on) { winograd_tile() = on ? 4 : 0; }
bool winograd() { return winograd_tile().load(std::memory_order_relaxed) > 0; }
void set_winograd_tile(int tile) { winograd_tile() = tile >= 4 ? 4 : tile >= 2 ? 2 : 0; }
int winograd_tile_size() { return winograd_tile().load(std::memory_order_relaxed); }
int64_t winograd_count() {
  return g_wino_calls.load(std::memory_order_relaxed) + g_wino4_calls.load(std::memory_order_relaxed);
}
int64_t winograd4_count() { return g_wino4_calls.load(std::memory_order_relaxed); }
bool enabled() { return enabled_flag().load(std::memory_order_relaxed); }
int64_t forward_count() { return g_forwards.load(std::memory_order_relaxed); }

std::shared_ptr<const Packed> pack(const RegionParams& params) {
  auto pk = std::make_shared<Packed>();
  if (!pack_conv(params.conv_weight, params.conv_bias, 1, pk->base)) return nullptr;
  pk->in = pk->base.ci;
  pk->c = pk->base.co;
  if (pk->c % 8 != 0) return nullptr;  // the output pass works 8 channels at a time
  int64_t ci = pk->c, cat_channels = 0;
  for (int i = 0; i < 3; ++i) {
    const auto& pp = params.patch[i];
    // Every patch must lie in one quadrant: even grids.
    if (pp.grid <= 0 || pp.grid % 2 != 0) return nullptr;
    pk->grid[i] = pp.grid;
    ConvPack& cp = pk->patch[i];
    if (!pack_conv(pp.conv_weight, pp.conv_bias, pp.grid * pp.grid, cp) || cp.ci != ci) return nullptr;
    fold_bn(pp.bn, cp.scale, cp.shift);
    if (static_cast<int64_t>(cp.scale.size()) != cp.groups * cp.ci) return nullptr;
    ci = cp.co;
    cat_channels += cp.co;
  }
  if (cat_channels != pk->c) return nullptr;
  fold_bn(params.bn, pk->out_scale, pk->out_shift);
  if (static_cast<int64_t>(pk->out_scale.size()) != pk->c) return nullptr;
  return pk;
}

bool supports(const Packed& pk, const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != pk.in || x.size(2) <= 0 || x.size(3) <= 0) return false;
  for (int64_t g : pk.grid)
    if (x.size(2) % g != 0 || x.size(3) % g != 0) return false;
  return true;
}

torch::Tensor forward(const Packed& pk, const torch::Tensor& x_in, bool pool2) {
  TORCH_CHECK(cpu_supported() && supports(pk, x_in) && x_in.scalar_type() == torch::kFloat && x_in.is_cpu(),
              "region_fast::forward: unsupported input ", x_in.sizes());
  const auto x = x_in.contiguous();
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  const int64_t oh = pool2 ? h / 2 : h, ow = pool2 ? w / 2 : w;
  auto out = torch::empty({b, pk.c, oh, ow}, torch::TensorOptions().dtype(torch::kFloat));
  thread_local Scratch scratch;
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < b; ++i)
    run_image(pk, src + i * pk.in * h * w, h, w, pool2, dst + i * pk.c * oh * ow, scratch);
  g_forwards.fetch_add(1, std::memory_order_relaxed);
  return out;
}

// ---- FeatConv ------------------------------------------------------------------

struct FeatPacked {
  int64_t groups = 1, ci = 0, co = 0;
  ConvPack conv1, conv2;              // BatchNorms folded in
  std::vector<float> alpha1, alpha2;  // PReLU slopes [groups * co]
};

namespace {

std::atomic<int64_t> g_feat_forwards{0};

// conv weight and bias with an eval BatchNorm folded in: bn(conv(x)) =
// conv'(x) with w' = w * scale[o], b' = b * scale[o] + shift[o].
bool pack_conv_bn(const torch::Tensor& weight, const torch::Tensor& bias, const BatchNormParams& bn, int64_t groups,
                  ConvPack& out) {
  std::vector<float> scale, shift;
  fold_bn(bn, scale, shift);
  const int64_t n = weight.size(0);
  if (static_cast<int64_t>(scale.size()) != n) return false;
  auto sc = torch::from_blob(scale.data(), {n}, torch::kFloat).clone();
  auto sh = torch::from_blob(shift.data(), {n}, torch::kFloat).clone();
  auto w = cpu_float(weight) * sc.view({-1, 1, 1, 1});
  auto b = (bias.defined() ? cpu_float(bias) : torch::zeros({n})) * sc + sh;
  return pack_conv(w, b, groups, out);
}

bool prelu_slopes(const torch::Tensor& weight, int64_t n, std::vector<float>& out) {
  const auto w = cpu_float(weight);
  if (w.numel() != 1 && w.numel() != n) return false;
  out.resize(n);
  for (int64_t i = 0; i < n; ++i) out[i] = w.data_ptr<float>()[w.numel() == 1 ? 0 : i];
  return true;
}

// prelu(v) = max(v, 0) + alpha * min(v, 0), 8 channels. (max/min_ps return
// their second operand when either is NaN: v goes second, so NaN stays NaN as
// in the reference, and weights that compute NaN are still caught.)
HICOMEX_AVX2_INLINE __m256 prelu8(__m256 v, const float* alpha) {
  const __m256 zero = _mm256_setzero_ps();
  return _mm256_fmadd_ps(_mm256_loadu_ps(alpha), _mm256_min_ps(zero, v), _mm256_max_ps(zero, v));
}

// PReLU in place over the interior h x w pixels of a padded [(h+2)][(w+2)][c] map.
HICOMEX_AVX2 void prelu_interior(float* map, int64_t h, int64_t w, int64_t c, const float* alpha) {
  const int64_t row = (w + 2) * c;
  for (int64_t y = 0; y < h; ++y) {
    float* p = map + (y + 1) * row + c;
    for (int64_t x = 0; x < w; ++x, p += c)
      for (int64_t c0 = 0; c0 < c; c0 += 8) _mm256_storeu_ps(p + c0, prelu8(_mm256_loadu_ps(p + c0), alpha + c0));
  }
}

// PReLU, then the 2x2 max-pool (floor), of y [h][w][c] into the NCHW planes
// at `out` (plane = (h/2) * (w/2)); row holds one pooled row [w/2][c].
HICOMEX_AVX2 void prelu_pool_store(const float* y, int64_t h, int64_t w, int64_t c, const float* alpha, float* out,
                                   float* row) {
  const int64_t oh = h / 2, ow = w / 2, plane = oh * ow;
  for (int64_t oy = 0; oy < oh; ++oy) {
    const float* r0 = y + (2 * oy) * w * c;
    const float* r1 = r0 + w * c;
    for (int64_t ox = 0; ox < ow; ++ox) {
      const int64_t i = 2 * ox * c;
      for (int64_t c0 = 0; c0 < c; c0 += 8) {
        const float* a = alpha + c0;
        const __m256 m = max4(prelu8(_mm256_loadu_ps(r0 + i + c0), a), prelu8(_mm256_loadu_ps(r0 + i + c + c0), a),
                              prelu8(_mm256_loadu_ps(r1 + i + c0), a), prelu8(_mm256_loadu_ps(r1 + i + c + c0), a));
        _mm256_storeu_ps(row + ox * c + c0, m);
      }
    }
    store_nchw(row, ow, c, out + oy * ow, plane);
  }
}

struct FeatScratch {
  std::vector<float> input, mid, y, row;
  std::vector<ConvCall> calls;
};

// Group g of n images: x points at the first image's first element, with
// strides (in elements) for image, channel, row and column; out at the first
// image's NCHW output (images out_image apart). The n images go through each
// convolution together (conv3x3_images).
void featconv_group(const FeatPacked& pk, int64_t g, const float* x, int64_t sb, int64_t sc, int64_t sh, int64_t sw,
                    int64_t h, int64_t w, int64_t n, float* out, int64_t out_image, FeatScratch& s) {
  const int64_t ci = pk.ci, co = pk.co;
  const int64_t in_row = (w + 2) * ci, mid_row = (w + 2) * co;
  const int64_t in_size = (h + 2) * in_row, mid_size = (h + 2) * mid_row, y_size = h * w * co;
  float* input = Scratch::fit(s.input, n * in_size);
  float* mid = Scratch::fit(s.mid, n * mid_size);
  float* y = Scratch::fit(s.y, n * y_size);
  float* row = Scratch::fit(s.row, (w / 2) * co);
  std::fill(input, input + n * in_size, 0.f);
  std::fill(mid, mid + n * mid_size, 0.f);
  s.calls.resize(n);
  for (int64_t k = 0; k < n; ++k) {
    const float* xg = x + k * sb + g * ci * sc;
    for (int64_t r = 0; r < h; ++r) {
      float* d = input + k * in_size + (r + 1) * in_row + ci;
      for (int64_t i = 0; i < w; ++i, d += ci) {
        const float* src = xg + r * sh + i * sw;
        if (sc == 1) {
          std::copy(src, src + ci, d);
        } else {
          for (int64_t c = 0; c < ci; ++c) d[c] = src[c * sc];
        }
      }
    }
    s.calls[k] = ConvCall{input + k * in_size, in_row, ci, mid + k * mid_size + mid_row + co, mid_row, co, h, w};
  }
  conv3x3_images(pk.conv1, g, s.calls.data(), n);
  for (int64_t k = 0; k < n; ++k) {
    prelu_interior(mid + k * mid_size, h, w, co, pk.alpha1.data() + g * co);
    s.calls[k] = ConvCall{mid + k * mid_size, mid_row, co, y + k * y_size, w * co, co, h, w};
  }
  conv3x3_images(pk.conv2, g, s.calls.data(), n);
  for (int64_t k = 0; k < n; ++k)
    prelu_pool_store(y + k * y_size, h, w, co, pk.alpha2.data() + g * co,
                     out + k * out_image + g * co * (h / 2) * (w / 2), row);
}

}  // namespace

std::shared_ptr<const FeatPacked> pack(const FeatConvParams& params) {
  auto pk = std::make_shared<FeatPacked>();
  const int64_t groups = params.groups;
  if (groups < 1) return nullptr;
  if (!params.conv1_weight.defined() || !params.conv2_weight.defined()) return nullptr;
  if (!pack_conv_bn(params.conv1_weight, params.conv1_bias, params.bn1, groups, pk->conv1) ||
      !pack_conv_bn(params.conv2_weight, params.conv2_bias, params.bn2, groups, pk->conv2))
    return nullptr;
  pk->groups = groups;
  pk->ci = pk->conv1.ci;
  pk->co = pk->conv1.co;
  // The PReLU and pool pass works 8 channels at a time; conv2 maps co to co.
  if (pk->co % 8 != 0 || pk->conv2.ci != pk->co || pk->conv2.co != pk->co) return nullptr;
  if (!prelu_slopes(params.prelu1, groups * pk->co, pk->alpha1) ||
      !prelu_slopes(params.prelu2, groups * pk->co, pk->alpha2))
    return nullptr;
  return pk;
}

bool supports(const FeatPacked& pk, const torch::Tensor& x) {
  return x.dim() == 4 && x.size(1) == pk.groups * pk.ci && x.size(2) >= 2 && x.size(3) >= 2;
}

torch::Tensor forward(const FeatPacked& pk, const torch::Tensor& x) {
  TORCH_CHECK(cpu_supported() && supports(pk, x) && x.scalar_type() == torch::kFloat && x.is_cpu() &&
                  x.layout() == torch::kStrided,
              "region_fast::forward (FeatConv): unsupported input ", x.sizes());
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3), oh = h / 2, ow = w / 2;
  auto out = torch::empty({b, pk.groups * pk.co, oh, ow}, torch::TensorOptions().dtype(torch::kFloat));
  thread_local FeatScratch scratch;
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t sb = x.stride(0), sc = x.stride(1), sh = x.stride(2), sw = x.stride(3);
  // Groups outer (one group's weights serve every image while in cache), and
  // small maps in runs of images that give the matrix products ~96 tile rows.
  const int64_t tiles = ((h + 3) / 4) * ((w + 3) / 4), run = std::max<int64_t>(1, std::min<int64_t>(b, 96 / tiles));
  const int64_t out_image = pk.groups * pk.co * oh * ow;
  for (int64_t g = 0; g < pk.groups; ++g)
    for (int64_t i = 0; i < b; i += run)
      featconv_group(pk, g, src + i * sb, sb, sc, sh, sw, h, w, std::min(run, b - i), dst + i * out_image, out_image,
                     scratch);
  g_feat_forwards.fetch_add(1, std::memory_order_relaxed);
  return out;
}

int64_t featconv_forward_count() { return g_feat_forwards.load(std::memory_order_relaxed); }

// ---- Local AU windows ----------------------------------------------------------

namespace {

std::atomic<int64_t> g_sample_calls{0};

// One output pixel: the bilinear blend of up to four NHWC map pixels (c
// channels each), zero where a corner lies outside the m x m map.
HICOMEX_AVX2 void blend_pixel(const float* mt, int64_t m, int64_t c, float ix, float iy, float* out) {
  const float fx = std::floor(ix), fy = std::floor(iy);
  const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
  const float tx = ix - fx, ty = iy - fy;
  const float wts[4] = {(1.f - tx) * (1.f - ty), tx * (1.f - ty), (1.f - tx) * ty, tx * ty};
  const float* src[4];
  float wt[4];
  int n = 0;
  for (int k = 0; k < 4; ++k) {
    const int64_t x = x0 + (k & 1), y = y0 + (k >> 1);
    if (x < 0 || y < 0 || x >= m || y >= m) continue;
    src[n] = mt + (y * m + x) * c;
    wt[n++] = wts[k];
  }
  int64_t c0 = 0;
  for (; c0 + 8 <= c; c0 += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (int k = 0; k < n; ++k) acc = _mm256_fmadd_ps(_mm256_set1_ps(wt[k]), _mm256_loadu_ps(src[k] + c0), acc);
    _mm256_storeu_ps(out + c0, acc);
  }
  for (; c0 < c; ++c0) {
    float acc = 0.f;
    for (int k = 0; k < n; ++k) acc += wt[k] * src[k][c0];
    out[c0] = acc;
  }
}

}  // namespace

torch::Tensor sample_windows(const torch::Tensor& map, const torch::Tensor& grid, int64_t aus, int64_t window) {
  const int64_t b = map.size(0), c = map.size(1), m = map.size(2), w = window;
  TORCH_CHECK(cpu_supported() && map.dim() == 4 && map.size(3) == m && map.scalar_type() == torch::kFloat &&
                  map.is_cpu() && grid.dim() == 4 && grid.size(0) == b && grid.size(1) == aus * 2 * w &&
                  grid.size(2) == w && grid.size(3) == 2 && grid.scalar_type() == torch::kFloat && grid.is_cpu(),
              "region_fast::sample_windows: unsupported map ", map.sizes(), " / grid ", grid.sizes());
  const auto mt = map.permute({0, 2, 3, 1}).contiguous();  // [B, M, M, C]
  const auto g = grid.contiguous();
  auto out = torch::empty({b * 2, w, w, aus * c}, torch::TensorOptions().dtype(torch::kFloat));
  const float* src = mt.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const float size = static_cast<float>(m);
  for (int64_t i = 0; i < b; ++i)
    for (int64_t a = 0; a < aus; ++a)
      for (int64_t k = 0; k < 2; ++k)
        for (int64_t y = 0; y < w; ++y)
          for (int64_t x = 0; x < w; ++x) {
            const float* p = gp + (((i * aus + a) * 2 + k) * w * w + y * w + x) * 2;
            // Unnormalise as grid_sample does for align_corners=false.
            const float ix = ((p[0] + 1.f) * size - 1.f) / 2.f, iy = ((p[1] + 1.f) * size - 1.f) / 2.f;
            blend_pixel(src + i * m * m * c, m, c, ix, iy, dst + (((i * 2 + k) * w + y) * w + x) * aus * c + a * c);
          }
  g_sample_calls.fetch_add(1, std::memory_order_relaxed);
  return out.permute({0, 3, 1, 2});
}

int64_t sample_windows_count() { return g_sample_calls.load(std::memory_order_relaxed); }

}  // namespace hicomex::nn::region_fast
