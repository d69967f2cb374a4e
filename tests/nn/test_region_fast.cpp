// The region layer's NHWC AVX2 inference path (nn/region_fast.h) against the
// module sequence: same outputs for both presets' shapes, taken only where it
// may be, refolded when the weights change, and the same AU probabilities for
// the default model.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include <torch/torch.h>

#include "hicomex_config.h"
#include "nn/autocast.h"
#include "nn/feat_conv.h"
#include "nn/fused_ops.h"
#include "nn/hicomex_net.h"
#include "nn/local_au_features.h"
#include "nn/region_fast.h"
#include "nn/region_layer.h"
#include "nn/weights_io.h"

using namespace hicomex::nn;

namespace {

// Conv weights and biases have their random initialisation already; make
// every BatchNorm non-trivial too (affine parameters and running statistics),
// so a wrongly indexed or forgotten fold shows.
void randomise(torch::nn::Module& m, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard g;
  for (auto& item : m.named_buffers()) {
    auto& b = item.value();
    if (item.key().find("running_mean") != std::string::npos) b.copy_(0.3 * torch::randn_like(b));
    if (item.key().find("running_var") != std::string::npos) b.copy_(0.3 + torch::rand_like(b));
  }
  for (auto& item : m.named_parameters()) {
    auto& p = item.value();
    if (item.key().find("bn.weight") != std::string::npos) p.copy_(1.0 + 0.5 * torch::randn_like(p));
    if (item.key().find("bn.bias") != std::string::npos) p.copy_(0.2 * torch::randn_like(p));
  }
}

// max |a - b| relative to the output scale (max |b|, at least 1).
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(1.0, b.abs().max().item<double>());
  return (a - b).abs().max().item<double>() / scale;
}

// Restores the process-wide switches the tests flip.
struct Switches {
  bool fused = fused_inference(), fast = region_fast::enabled();
  ~Switches() {
    set_fused_inference(fused);
    region_fast::set_enabled(fast);
  }
};

#define SKIP_WITHOUT_AVX2() \
  if (!region_fast::cpu_supported()) GTEST_SKIP() << "no AVX2 + FMA on this CPU"

}  // namespace

// (input channels, region channels, map size, batch): the default "small"
// preset's two region layers (crop 112) and the paper's (crop 176); last, a
// wider layer (C = 96: blocks of 32 + 32 + 32 and a 24-channel PatchConv).
class RegionFastShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t, int64_t>> {};

TEST_P(RegionFastShapes, MatchesTheModuleSequence) {
  SKIP_WITHOUT_AVX2();
  const auto [in, c, size, batch] = GetParam();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  RegionLayer layer(in, c);
  randomise(*layer, 100 + c + size);
  layer->eval();
  torch::NoGradGuard g;
  torch::manual_seed(5);
  const auto x = torch::randn({batch, in, size, size});
  ASSERT_TRUE(layer->fast_path_usable(x));
  const auto reference = layer->reference_forward(x);
  const auto before = layer->fast_forwards();
  const auto fast = layer->forward(x);
  EXPECT_EQ(layer->fast_forwards(), before + 1);
  ASSERT_EQ(fast.sizes(), reference.sizes());
  EXPECT_TRUE(fast.is_contiguous());
  EXPECT_EQ(fast.scalar_type(), torch::kFloat);
  EXPECT_LE(relative_error(fast, reference), 1e-4) << "max |reference| " << reference.abs().max().item<float>();
  // Sanity: the ReLU output is neither all zero nor all positive.
  const double positive = (reference > 0).to(torch::kDouble).mean().item<double>();
  EXPECT_GT(positive, 0.05);
  EXPECT_LT(positive, 0.95);

  const auto pooled = layer->forward_pool2(x);
  EXPECT_EQ(layer->fast_forwards(), before + 2);
  const auto pooled_reference = torch::max_pool2d(reference, 2, 2);
  ASSERT_EQ(pooled.sizes(), pooled_reference.sizes());
  EXPECT_TRUE(pooled.is_contiguous());
  EXPECT_LE(relative_error(pooled, pooled_reference), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Presets, RegionFastShapes,
                         ::testing::Values(std::make_tuple(3, 16, 112, 1), std::make_tuple(3, 16, 112, 3),
                                           std::make_tuple(16, 32, 56, 1), std::make_tuple(16, 32, 56, 3),
                                           std::make_tuple(3, 32, 176, 1), std::make_tuple(3, 32, 176, 3),
                                           std::make_tuple(32, 64, 88, 1), std::make_tuple(32, 64, 88, 3),
                                           std::make_tuple(5, 96, 32, 2)));

TEST(RegionFast, NonRectangularMapsAndStridedInput) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  RegionLayer layer(16, 32);
  randomise(*layer, 3);
  layer->eval();
  torch::InferenceMode g;
  // 40 x 24: patches 5x3, 10x6, 20x12 (odd widths: the tail kernels).
  const auto x = torch::randn({2, 16, 40, 24}).contiguous(torch::MemoryFormat::ChannelsLast);
  ASSERT_TRUE(layer->fast_path_usable(x));
  EXPECT_LE(relative_error(layer->forward(x), layer->reference_forward(x)), 1e-4);
  const auto y = torch::randn({2, 16, 48, 80}).transpose(2, 3);  // [2, 16, 80, 48], not contiguous
  EXPECT_LE(relative_error(layer->forward(y), layer->reference_forward(y)), 1e-4);
}

TEST(RegionFast, OddPatchWidthsWithFourChannelPatchConvs) {
  // C = 16: the 4x4 and 2x2 PatchConvs have 4 output channels (the paired
  // kernel); a 72 x 72 map gives them 18- and 36-pixel rows, 56 x 40 gives the
  // 8x8 grid 5-pixel patch rows.
  SKIP_WITHOUT_AVX2();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  RegionLayer layer(3, 16);
  randomise(*layer, 4);
  layer->eval();
  torch::NoGradGuard g;
  for (auto shape : {std::vector<int64_t>{1, 3, 72, 72}, std::vector<int64_t>{2, 3, 56, 40}}) {
    const auto x = torch::randn(shape);
    ASSERT_TRUE(layer->fast_path_usable(x));
    EXPECT_LE(relative_error(layer->forward(x), layer->reference_forward(x)), 1e-4) << x.sizes();
  }
}

TEST(RegionFast, IsNotTakenForTrainingGradientsOrOtherPrecisions) {
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  RegionLayer layer(16, 32);
  randomise(*layer, 6);
  const auto x = torch::randn({2, 16, 32, 32});
  const auto count = [&] { return layer->fast_forwards(); };

  // Training mode (BatchNorm on batch statistics), with and without autograd.
  layer->train();
  EXPECT_FALSE(layer->fast_path_usable(x));
  auto n = count();
  layer->forward(x);
  {
    torch::NoGradGuard g;
    EXPECT_FALSE(layer->fast_path_usable(x));
    layer->forward(x);
  }
  EXPECT_EQ(count(), n);

  // Eval mode but autograd recording: the reference path, with a graph.
  layer->eval();
  EXPECT_FALSE(layer->fast_path_usable(x));
  auto y = layer->forward(x.clone().requires_grad_());
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(count(), n);

  // One submodule left in training mode.
  {
    torch::NoGradGuard g;
    layer->modules(false).back()->train();
    EXPECT_FALSE(layer->fast_path_usable(x));
    layer->eval();
  }

  torch::NoGradGuard g;
  // bf16 input, and fp32 input under CPU bf16 autocast.
  EXPECT_FALSE(layer->fast_path_usable(x.to(torch::kBFloat16)));
  {
    Autocast bf16(c10::DeviceType::CPU, torch::kBFloat16);
    EXPECT_FALSE(layer->fast_path_usable(x));
  }
  EXPECT_FALSE(layer->fast_path_usable(x.to(torch::kDouble)));
  // The switches.
  set_fused_inference(false);
  EXPECT_FALSE(layer->fast_path_usable(x));
  layer->forward(x);
  set_fused_inference(true);
  region_fast::set_enabled(false);
  EXPECT_FALSE(layer->fast_path_usable(x));
  layer->forward(x);
  region_fast::set_enabled(true);
  EXPECT_EQ(count(), n);
  // Channel counts without a kernel (C = 8: PatchConvs of 4 -> 2 channels).
  RegionLayer narrow(3, 8);
  narrow->eval();
  EXPECT_FALSE(narrow->fast_path_usable(torch::randn({1, 3, 32, 32})));
  EXPECT_EQ(narrow->forward(torch::randn({1, 3, 32, 32})).sizes(), torch::IntArrayRef({1, 8, 32, 32}));

  if (region_fast::cpu_supported()) {
    // And with everything in order it is taken.
    EXPECT_TRUE(layer->fast_path_usable(x));
    layer->forward(x);
    EXPECT_EQ(count(), n + 1);
  }
}

TEST(RegionFast, RefoldsWhenParametersOrStatisticsChange) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  RegionLayer layer(16, 32);
  randomise(*layer, 8);
  layer->eval();
  const auto x = torch::randn({1, 16, 32, 32});
  {
    torch::NoGradGuard g;
    EXPECT_LE(relative_error(layer->forward(x), layer->reference_forward(x)), 1e-4);
    // An in-place change of one PatchConv weight (as loading weights does).
    for (auto& p : layer->named_parameters())
      if (p.key() == "patch4.conv.weight") p.value().mul_(-1.5);
    EXPECT_LE(relative_error(layer->forward(x), layer->reference_forward(x)), 1e-4);
    // Another module's weights copied in.
    RegionLayer other(16, 32);
    randomise(*other, 9);
    auto src = other->named_parameters();
    for (auto& p : layer->named_parameters()) p.value().copy_(src[p.key()]);
    auto src_buffers = other->named_buffers();
    for (auto& b : layer->named_buffers()) b.value().copy_(src_buffers[b.key()]);
    other->eval();
    EXPECT_LE(relative_error(layer->forward(x), other->reference_forward(x)), 1e-4);
  }
  // A training step's BatchNorm statistics update, then inference again.
  layer->train();
  layer->forward(torch::randn({4, 16, 32, 32}) * 2 + 1);
  layer->eval();
  torch::InferenceMode g;
  EXPECT_LE(relative_error(layer->forward(x), layer->reference_forward(x)), 1e-4);
}

TEST(RegionFast, DefaultModelGivesTheSameAuProbabilities) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  set_fused_inference(true);
  auto loaded = load_hicomex(std::string(HICOMEX_SOURCE_ROOT) + "/models/hicomex-default.safetensors");
  auto& net = loaded.net;
  net->eval();
  torch::InferenceMode g;
  const int64_t s = net->options().crop_size();
  torch::manual_seed(12);
  // Normalised crops: a smooth face-like blob plus noise.
  const auto x = 0.5 * torch::randn({3, 3, s, s}) +
                 torch::linspace(-1, 1, s).view({1, 1, 1, s}) * torch::linspace(-1, 1, s).view({1, 1, s, 1});
  region_fast::set_enabled(false);
  const auto count = region_fast::forward_count();
  const auto feat_count = region_fast::featconv_forward_count();
  const auto reference = net->forward(x);
  EXPECT_EQ(region_fast::featconv_forward_count(), feat_count);
  EXPECT_EQ(region_fast::forward_count(), count);
  region_fast::set_enabled(true);
  const auto fast = net->forward(x);
  EXPECT_EQ(region_fast::forward_count(), count + 2) << "both region layers take the fast path";
  // 3 global + 3 landmark blocks + the local branch's 2 (per network forward).
  EXPECT_GT(region_fast::featconv_forward_count(), 0);
  const auto p_ref = torch::sigmoid(reference.au_logits), p_fast = torch::sigmoid(fast.au_logits);
  EXPECT_LE((p_fast - p_ref).abs().max().item<double>(), 1e-4);
  EXPECT_LE((fast.landmarks - reference.landmarks).abs().max().item<double>(), 1e-3);
}

// ---- FeatConv ------------------------------------------------------------------

namespace {

// Non-trivial BatchNorms and PReLU slopes of both signs.
void randomise_featconv(torch::nn::Module& m, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard g;
  for (auto& item : m.named_buffers()) {
    auto& b = item.value();
    if (item.key().find("running_mean") != std::string::npos) b.copy_(0.3 * torch::randn_like(b));
    if (item.key().find("running_var") != std::string::npos) b.copy_(0.3 + torch::rand_like(b));
  }
  for (auto& item : m.named_parameters()) {
    auto& p = item.value();
    const auto& k = item.key();
    if (k.rfind("bn", 0) == 0 && k.find(".weight") != std::string::npos) p.copy_(1.0 + 0.5 * torch::randn_like(p));
    if (k.rfind("bn", 0) == 0 && k.find(".bias") != std::string::npos) p.copy_(0.2 * torch::randn_like(p));
    if (k.rfind("prelu", 0) == 0) p.copy_(0.5 * torch::randn_like(p));
  }
}

// The module sequence, whatever the switches say.
torch::Tensor featconv_reference(FeatConv& m, const torch::Tensor& x) {
  region_fast::set_enabled(false);
  auto y = m->forward(x);
  region_fast::set_enabled(true);
  return y;
}

}  // namespace

class FeatConvFastShapes : public ::testing::TestWithParam<std::tuple<int, int, int, int, int>> {};

TEST_P(FeatConvFastShapes, MatchesTheModuleSequence) {
  SKIP_WITHOUT_AVX2();
  const auto [ci, co, groups, h, w] = GetParam();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  FeatConv m(ci, co, groups);
  randomise_featconv(*m, 7 + ci + co + groups + h);
  m->eval();
  torch::NoGradGuard g;
  const auto x = torch::randn({2, ci * groups, h, w});
  ASSERT_TRUE(m->fast_path_usable(x));
  const auto before = m->fast_forwards();
  const auto fast = m->forward(x);
  EXPECT_EQ(m->fast_forwards(), before + 1);
  const auto ref = featconv_reference(m, x);
  ASSERT_EQ(fast.sizes(), ref.sizes());
  EXPECT_TRUE(fast.is_contiguous());
  EXPECT_LE(relative_error(fast, ref), 1e-5) << ci << "->" << co << " x" << groups << " " << h << "x" << w;
  // Channels-last input (the local branch's windows) gives the same.
  const auto cl = x.contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_LE(relative_error(m->forward(cl), ref), 1e-5);
}

// The default model's and the paper-sized model's blocks: global / landmark
// branches on 28 -> 14 -> 7 maps (odd: the pool drops the last row and
// column), the local branch's 17 grouped blocks on 8x8 / 12x12 windows.
INSTANTIATE_TEST_SUITE_P(Presets, FeatConvFastShapes,
                         ::testing::Values(std::make_tuple(32, 48, 1, 28, 28), std::make_tuple(48, 64, 1, 14, 14),
                                           std::make_tuple(64, 80, 1, 7, 7), std::make_tuple(80, 96, 1, 7, 7),
                                           std::make_tuple(64, 128, 1, 28, 28), std::make_tuple(160, 192, 1, 7, 7),
                                           std::make_tuple(32, 32, 17, 8, 8), std::make_tuple(32, 32, 17, 4, 4),
                                           std::make_tuple(64, 64, 17, 12, 12), std::make_tuple(16, 8, 3, 5, 9),
                                           std::make_tuple(3, 16, 1, 2, 3)));

TEST(FeatConvFast, IsNotTakenWhileTrainingOrWithoutAKernel) {
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  FeatConv m(8, 16);
  const auto x = torch::randn({1, 8, 8, 8});
  m->train();
  EXPECT_FALSE(m->fast_path_usable(x)) << "training mode";
  m->eval();
  {
    // Autograd records: the module sequence, so gradients flow.
    EXPECT_FALSE(m->fast_path_usable(x));
  }
  torch::NoGradGuard g;
  EXPECT_EQ(m->fast_path_usable(x), region_fast::cpu_supported());
  EXPECT_FALSE(m->fast_path_usable(torch::randn({1, 8, 1, 8}))) << "a map too small to pool";
  FeatConv odd(8, 12);  // 12 output channels: no kernel
  odd->eval();
  EXPECT_FALSE(odd->fast_path_usable(x));
  EXPECT_EQ(odd->forward(x).sizes(), torch::IntArrayRef({1, 12, 4, 4}));
}

TEST(FeatConvFast, RefoldsWhenWeightsChange) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  FeatConv m(16, 32);
  randomise_featconv(*m, 21);
  m->eval();
  torch::NoGradGuard g;
  const auto x = torch::randn({1, 16, 10, 10});
  EXPECT_LE(relative_error(m->forward(x), featconv_reference(m, x)), 1e-5);
  for (auto& p : m->named_parameters())
    if (p.key() == "conv2.weight" || p.key() == "prelu1.weight") p.value().mul_(-1.5);
  EXPECT_LE(relative_error(m->forward(x), featconv_reference(m, x)), 1e-5);
  for (auto& b : m->named_buffers())
    if (b.key() == "bn2.running_var") b.value().mul_(3.0);
  EXPECT_LE(relative_error(m->forward(x), featconv_reference(m, x)), 1e-5);
}

TEST(FeatConvFast, NaNPropagatesAsInTheModuleSequence) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  FeatConv m(8, 16);
  m->eval();
  torch::NoGradGuard g;
  // A negative variance (finite weights that compute NaN: the engine's
  // first-output check must still see it) ...
  for (auto& b : m->named_buffers())
    if (b.key() == "bn1.running_var") b.value().fill_(-1.0);
  const auto x = torch::randn({1, 8, 6, 6});
  ASSERT_TRUE(m->fast_path_usable(x));
  EXPECT_TRUE(m->forward(x).isnan().all().item<bool>());
  EXPECT_TRUE(featconv_reference(m, x).isnan().all().item<bool>());
  // ... and one NaN input pixel: the pooled cells it reaches are NaN in both.
  for (auto& b : m->named_buffers())
    if (b.key() == "bn1.running_var") b.value().fill_(1.0);
  auto y = x.clone();
  y[0][3][2][2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(torch::equal(m->forward(y).isnan(), featconv_reference(m, y).isnan()));
  EXPECT_TRUE(m->forward(y).isnan().any().item<bool>());
}

// Winograd F(2x2, 3x3) against the direct kernels, on the shapes where it is
// taken: whole and cut tiles (odd sizes), non-square maps, grouped and not,
// channel-last input (a 3-channel input still takes it in the second
// convolution); and not taken where the map is smaller than 4x4.
TEST(Winograd, MatchesTheDirectKernelsAndIsTakenWhereItApplies) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  const bool wino_was = region_fast::winograd();
  set_fused_inference(true);
  region_fast::set_enabled(true);
  torch::NoGradGuard g;
  struct Shape {
    int ci, co, groups, h, w;
    bool taken;
  };
  const Shape shapes[] = {{32, 48, 1, 28, 28, true}, {48, 64, 1, 7, 7, true},  {64, 64, 17, 12, 12, true},
                          {32, 32, 17, 5, 9, true},  {16, 24, 2, 13, 6, true}, {160, 192, 1, 7, 7, true},
                          {32, 32, 17, 3, 3, false}, {3, 16, 1, 9, 9, true}};
  for (const auto& s : shapes) {
    FeatConv m(s.ci, s.co, s.groups);
    randomise_featconv(*m, 11 + s.ci + s.h);
    m->eval();
    const auto x = torch::randn({2, s.ci * s.groups, s.h, s.w}).contiguous(torch::MemoryFormat::ChannelsLast);
    region_fast::set_winograd(false);
    const auto before_direct = region_fast::winograd_count();
    const auto direct = m->forward(x);
    EXPECT_EQ(region_fast::winograd_count(), before_direct) << "switched off, yet taken";
    region_fast::set_winograd(true);
    const auto before = region_fast::winograd_count();
    const auto wino = m->forward(x);
    EXPECT_EQ(region_fast::winograd_count() > before, s.taken)
        << s.ci << "->" << s.co << " x" << s.groups << " " << s.h << "x" << s.w;
    EXPECT_LE(relative_error(wino, direct), 1e-5) << s.ci << "->" << s.co << " " << s.h << "x" << s.w;
    EXPECT_LE(relative_error(wino, featconv_reference(m, x)), 1e-5);
  }
  // A region layer (its 3x3 convolutions on patches and on the whole map).
  RegionLayer layer(32, 64);
  randomise(*layer, 9);
  layer->eval();
  const auto x = torch::randn({2, 32, 48, 40});  // 6x5 patches
  region_fast::set_winograd(true);
  const auto before = region_fast::winograd_count();
  const auto fast = layer->forward(x);
  EXPECT_GT(region_fast::winograd_count(), before);
  EXPECT_LE(relative_error(fast, layer->reference_forward(x)), 1e-4);
  region_fast::set_winograd(wino_was);
}

// The local AU windows sampled in one pass (region_fast::sample_windows)
// against grid_sample + permute: centres inside the map, between cells, and
// near and past every edge (windows that read zeros), for both presets'
// channel counts and one that is not a multiple of 8; and the whole local AU
// module, fast against reference.
TEST(LocalWindows, MatchGridSampleAndTheModuleMatchesItsReference) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  set_fused_inference(true);
  region_fast::set_enabled(true);
  torch::NoGradGuard g;
  const std::vector<int> aus = {1, 2, 4, 6, 12};
  struct Shape {
    int64_t channels, crop, window;
  };
  for (const Shape s : {Shape{32, 112, 8}, Shape{64, 176, 12}, Shape{12, 64, 4}}) {
    const int64_t map = s.crop / 4, a = static_cast<int64_t>(aus.size()), b = 3;
    LocalAuFeatures m(aus, s.channels, s.crop, map, s.window, 16, 24);
    m->eval();
    torch::manual_seed(5 + s.channels);
    const auto f = torch::randn({b, s.channels, map, map});
    // Centres from -10 % to 110 % of the crop: some windows lie partly or wholly outside.
    auto centres = torch::rand({b, a, 2, 2}) * (1.2 * s.crop) - 0.1 * s.crop;
    centres[0][0][0] = torch::tensor({0.f, 0.f});
    centres[0][0][1] = torch::tensor({static_cast<float>(s.crop), static_cast<float>(s.crop)});
    const auto grid = m->sampling_grid(centres);
    namespace F = torch::nn::functional;
    const auto ref = F::grid_sample(f, grid, F::GridSampleFuncOptions().align_corners(false))
                         .reshape({b, s.channels, a, 2, s.window, s.window})
                         .permute({0, 3, 2, 1, 4, 5})
                         .reshape({b * 2, a * s.channels, s.window, s.window});
    const auto before = region_fast::sample_windows_count();
    const auto fast = region_fast::sample_windows(f, grid, a, s.window);
    EXPECT_EQ(region_fast::sample_windows_count(), before + 1);
    ASSERT_EQ(fast.sizes(), ref.sizes());
    EXPECT_TRUE(fast.is_contiguous(torch::MemoryFormat::ChannelsLast));
    EXPECT_LE((fast - ref).abs().max().item<double>(), 1e-5) << s.channels << " channels, window " << s.window;
    EXPECT_GT(ref.abs().max().item<double>(), 0.5) << "the windows read the map";
    // Strided (channels-last) map in gives the same.
    EXPECT_LE((region_fast::sample_windows(f.contiguous(torch::MemoryFormat::ChannelsLast), grid, a, s.window) - ref)
                  .abs()
                  .max()
                  .item<double>(),
              1e-5);
    // The module: fast windows (counted) against the whole reference path.
    const auto counted = region_fast::sample_windows_count();
    const auto y = m->forward(f, centres);
    EXPECT_EQ(region_fast::sample_windows_count(), counted + 1) << "the module took the one-pass windows";
    region_fast::set_enabled(false);
    const auto y_ref = m->forward(f, centres);
    region_fast::set_enabled(true);
    EXPECT_EQ(region_fast::sample_windows_count(), counted + 1);
    EXPECT_LE(relative_error(y, y_ref), 1e-5) << s.channels << " channels";
  }
}

// Both Winograd tiles and the direct kernels agree, and images that go
// through one matrix product together (runs of small maps, the last run
// shorter) give what each image gives alone.
TEST(Winograd, TilesAgreeAndImagesInOneProductMatchImagesAlone) {
  SKIP_WITHOUT_AVX2();
  Switches keep;
  const int tile_was = region_fast::winograd_tile_size();
  set_fused_inference(true);
  region_fast::set_enabled(true);
  torch::NoGradGuard g;
  FeatConv m(16, 24, 3);
  randomise_featconv(*m, 31);
  m->eval();
  const auto x = torch::randn({13, 48, 12, 12}).contiguous(torch::MemoryFormat::ChannelsLast);
  region_fast::set_winograd_tile(0);
  const auto direct = m->forward(x);
  region_fast::set_winograd_tile(2);
  const auto before2 = region_fast::winograd_count();
  const auto before4 = region_fast::winograd4_count();
  const auto f2 = m->forward(x);
  EXPECT_GT(region_fast::winograd_count(), before2);
  EXPECT_EQ(region_fast::winograd4_count(), before4) << "tile 2 only, yet F(4x4) taken";
  region_fast::set_winograd_tile(4);
  const auto f4 = m->forward(x);
  EXPECT_GT(region_fast::winograd4_count(), before4);
  EXPECT_LE(relative_error(f2, direct), 1e-5);
  EXPECT_LE(relative_error(f4, direct), 1e-4);
  for (int64_t i : {0, 9, 10, 12}) {
    const auto alone = m->forward(x.narrow(0, i, 1));
    EXPECT_LE(relative_error(alone, f4.narrow(0, i, 1)), 1e-6) << "image " << i;
  }
  region_fast::set_winograd_tile(tile_was);
}
