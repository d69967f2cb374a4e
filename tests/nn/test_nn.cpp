// The HiCOMEX network modules: shapes, closed forms, variants, determinism,
// and the weights file round trip.
#include <gtest/gtest.h>
#include <cstring>
#include <fstream>
#include <limits>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "../support/small_model.h"
#include "hicomex/au_catalog.h"
#include "hicomex/au_centres.h"
#include "hicomex/au_engine.h"
#include "hicomex/errors.h"
#include "hicomex/op_profile.h"
#include "nn/fused_ops.h"
#include "nn/hicomex_net.h"
#include "nn/region_fast.h"
#include "nn/weights_io.h"
#include "temp_dir.h"

using namespace hicomex;
using namespace hicomex::nn;

namespace {

// A small configuration so the tests run in well under a second per forward.
HicomexOptions small_options(Variant v = Variant::Full) { return test::small_test_options().crop_size(64).variant(v); }

torch::Tensor face_like_landmarks(int64_t batch, double crop) {
  // A plausible 49-point layout: a grid-ish spread around the crop centre.
  torch::manual_seed(7);
  return crop * (0.3 + 0.4 * torch::rand({batch, 49, 2}));
}

// A file in this process's temporary folder (removed when the tests end).
std::string temp_path(const std::string& name) { return hicomex::test::process_temp_dir().file("hicomex_nn_" + name); }

}  // namespace

TEST(RegionLayer, KeepsSpatialSizeAndSetsChannels) {
  RegionLayer layer(3, 32);
  auto y = layer->forward(torch::randn({2, 3, 176, 176}));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 32, 176, 176}));
}

TEST(PatchConv, PatchesDoNotSeeEachOther) {
  // A change confined to one patch of the 2x2 grid changes the output of that patch only.
  torch::manual_seed(1);
  PatchConv conv(4, 4, 2);
  conv->eval();
  auto x = torch::randn({1, 4, 8, 8});
  auto y0 = conv->forward(x);
  auto x2 = x.clone();
  x2.index_put_({0, torch::indexing::Slice(), torch::indexing::Slice(0, 4), torch::indexing::Slice(0, 4)},
                torch::randn({4, 4, 4}));
  auto y1 = conv->forward(x2);
  auto diff = (y1 - y0).abs();
  EXPECT_GT(diff.index({0, torch::indexing::Slice(), torch::indexing::Slice(0, 4), torch::indexing::Slice(0, 4)})
                .max()
                .item<float>(),
            0.f);
  EXPECT_EQ(diff.index({0, torch::indexing::Slice(), torch::indexing::Slice(4, 8)}).max().item<float>(), 0.f);
  EXPECT_EQ(diff.index({0, torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(4, 8)})
                .max()
                .item<float>(),
            0.f);
}

TEST(FeatConv, HalvesTheMapAndSetsChannels) {
  FeatConv block(64, 96);
  EXPECT_EQ(block->forward(torch::randn({2, 64, 44, 44})).sizes(), torch::IntArrayRef({2, 96, 22, 22}));
}

TEST(FeatureBranch, GivesOneVectorPerFace) {
  FeatureBranch branch(64, 44, std::vector<int64_t>{96, 128, 160}, 512);
  EXPECT_EQ(branch->forward(torch::randn({3, 64, 44, 44})).sizes(), torch::IntArrayRef({3, 512}));
}

TEST(LandmarkBranch, Predicts49PointsAndAFeature) {
  LandmarkBranch branch(64, 44, std::vector<int64_t>{128, 160, 192}, 512, 49);
  auto [feat, pts] = branch->forward(torch::randn({2, 64, 44, 44}));
  EXPECT_EQ(feat.sizes(), torch::IntArrayRef({2, 512}));
  EXPECT_EQ(pts.sizes(), torch::IntArrayRef({2, 49, 2}));
}

TEST(AuCentreMap, MatchesTheOpenCvCentres) {
  const std::vector<int> aus = bp4d_aus();
  AuCentreMap map(aus);
  auto lm = face_like_landmarks(2, 176.0);
  auto c = map.centres(lm);
  ASSERT_EQ(c.sizes(), torch::IntArrayRef({2, 12, 2, 2}));
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<cv::Point2f> pts(49);
    for (int k = 0; k < 49; ++k) pts[k] = {lm[b][k][0].item<float>(), lm[b][k][1].item<float>()};
    auto ref = au_centres(pts, aus);
    for (size_t a = 0; a < aus.size(); ++a)
      for (int j = 0; j < 2; ++j) {
        EXPECT_NEAR(c[b][a][j][0].item<float>(), ref[a][j].x, 1e-4) << "AU" << aus[a];
        EXPECT_NEAR(c[b][a][j][1].item<float>(), ref[a][j].y, 1e-4) << "AU" << aus[a];
      }
  }
}

TEST(LocalAuFeatures, WindowIsCentredOnTheAuCentre) {
  // With the centre exactly on a map cell centre, the middle of the sampling
  // window reads that cell: map cell i covers crop pixels [4i, 4i+4).
  LocalAuFeatures local(std::vector<int>{12}, 1, 176, 44, 12, 4, 8);
  auto centres = torch::tensor({{{{42.f, 82.f}, {130.f, 90.f}}}});  // [1,1,2,2]: cells (10,20), (32,22)
  auto grid = local->sampling_grid(centres);
  ASSERT_EQ(grid.sizes(), torch::IntArrayRef({1, 24, 12, 2}));
  auto map = torch::arange(44 * 44, torch::kFloat).view({1, 1, 44, 44});
  auto windows = torch::nn::functional::grid_sample(
      map, grid, torch::nn::functional::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(false));
  // Window 0: rows 0..11; its centre lies between samples 5 and 6 -> mean of the 2x2 around cell (10,20).
  auto w0 = windows.index({0, 0, torch::indexing::Slice(0, 12)});
  const float mid = 0.25f * (w0[5][5] + w0[5][6] + w0[6][5] + w0[6][6]).item<float>();
  EXPECT_NEAR(mid, 20 * 44 + 10, 1e-3);
  auto w1 = windows.index({0, 0, torch::indexing::Slice(12, 24)});
  const float mid1 = 0.25f * (w1[5][5] + w1[5][6] + w1[6][5] + w1[6][6]).item<float>();
  EXPECT_NEAR(mid1, 22 * 44 + 32, 1e-3);
}

TEST(LocalAuFeatures, GivesOneVectorPerAu) {
  LocalAuFeatures local(bp4d_aus(), 64, 176, 44, 12, 64, 256);
  auto centres = AuCentreMap(bp4d_aus()).centres(face_like_landmarks(2, 176.0));
  EXPECT_EQ(local->forward(torch::randn({2, 64, 44, 44}), centres).sizes(), torch::IntArrayRef({2, 12, 256}));
}

TEST(LocalAuFeatures, GradientsReachTheFeatureMapNotTheCentres) {
  LocalAuFeatures local(std::vector<int>{1, 12}, 4, 64, 16, 8, 4, 8);
  auto map = torch::randn({1, 4, 16, 16}, torch::requires_grad());
  auto centres = torch::full({1, 2, 2, 2}, 32.0);
  local->forward(map, centres).sum().backward();
  EXPECT_GT(map.grad().abs().sum().item<float>(), 0.f);
}

TEST(PositionEncoding, MatchesTheFormula) {
  auto pe = sinusoidal_position_encoding(12, 8);
  ASSERT_EQ(pe.sizes(), torch::IntArrayRef({12, 8}));
  for (int pos : {0, 1, 5, 11})
    for (int i = 0; i < 4; ++i) {
      const double denom = std::pow(10000.0, 2.0 * i / 8.0);
      EXPECT_NEAR(pe[pos][2 * i].item<double>(), std::sin(pos / denom), 1e-5);
      EXPECT_NEAR(pe[pos][2 * i + 1].item<double>(), std::cos(pos / denom), 1e-5);
    }
}

TEST(IntensityLstm, KeepsTheSequenceShapeAndMixesBothDirections) {
  torch::manual_seed(3);
  IntensityLstm lstm(16);
  auto x = torch::randn({1, 5, 16});
  auto y = lstm->forward(x);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({1, 5, 16}));
  // Changing the last element changes the first output (backward direction).
  auto x2 = x.clone();
  x2[0][4] += 1.0;
  EXPECT_GT((lstm->forward(x2)[0][0] - y[0][0]).abs().max().item<float>(), 0.f);
}

TEST(SelfAttentionEncoder, KeepsTheSequenceShape) {
  SelfAttentionEncoder enc(32, 2, 4, 64, 0.1);
  enc->eval();
  EXPECT_EQ(enc->forward(torch::randn({3, 12, 32})).sizes(), torch::IntArrayRef({3, 12, 32}));
}

TEST(HopfieldRetrieve, OneStepIsTheSoftmaxOfScaledSimilarities) {
  auto q = torch::tensor({{1.0, 0.0}, {0.5, 0.5}}, torch::kDouble);
  auto k = torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}}, torch::kDouble);
  const double beta = 2.0;
  auto r = hopfield_retrieve(q, k, beta, 0, 0.0);
  EXPECT_EQ(r.steps, 1);
  // Row 0: similarities (1, 0, 1) -> softmax(2, 0, 2).
  const double e2 = std::exp(2.0), e0 = 1.0, z = 2 * e2 + e0;
  EXPECT_NEAR(r.xi[0][0].item<double>(), e2 / z, 1e-12);
  EXPECT_NEAR(r.xi[0][1].item<double>(), e0 / z, 1e-12);
  EXPECT_NEAR(r.xi[0][2].item<double>(), e2 / z, 1e-12);
}

TEST(HopfieldRetrieve, SecondStepQueriesWithTheRetrievedPattern) {
  auto q = torch::tensor({{0.3, -0.2}}, torch::kDouble);
  auto k = torch::tensor({{1.0, 0.0}, {0.0, 1.0}}, torch::kDouble);
  const double beta = 1.5;
  auto r = hopfield_retrieve(q, k, beta, 1, 0.0);
  EXPECT_EQ(r.steps, 2);
  // Closed form by hand: xi1 = softmax(beta q K^T); q1 = xi1 K; xi2 = softmax(beta q1 K^T).
  double a = std::exp(beta * 0.3), b = std::exp(beta * -0.2);
  const double x0 = a / (a + b), x1 = b / (a + b);  // q1 = (x0, x1)
  a = std::exp(beta * x0);
  b = std::exp(beta * x1);
  EXPECT_NEAR(r.xi[0][0].item<double>(), a / (a + b), 1e-12);
  EXPECT_NEAR(r.xi[0][1].item<double>(), b / (a + b), 1e-12);
}

TEST(HopfieldRetrieve, StopsAtTheStepLimit) {
  auto q = torch::randn({4, 8}, torch::kDouble);
  auto k = torch::randn({6, 8}, torch::kDouble);
  EXPECT_EQ(hopfield_retrieve(q, k, 0.3, 3, 0.0).steps, 4);
}

TEST(HopfieldRetrieve, StopsEarlyOnceTheStateSettles) {
  // Well-separated patterns and a large beta: the first retrieval is already a
  // fixed point, so the first update changes nothing and iteration stops.
  auto k = 10.0 * torch::eye(4, torch::kDouble);
  auto q = k.clone();
  auto r = hopfield_retrieve(q, k, 1.0, 50, 1e-6);
  EXPECT_EQ(r.steps, 2);
}

TEST(HopfieldLayer, KeepsTheSequenceShapeAndDefaultsBetaToInverseSqrtHeadDim) {
  HopfieldLayer layer(32, 4, 0.0, 3, 1e-4);
  EXPECT_EQ(layer->forward(torch::randn({2, 12, 32})).sizes(), torch::IntArrayRef({2, 12, 32}));
  EXPECT_NEAR(layer->beta(), 1.0 / std::sqrt(8.0), 1e-12);
  EXPECT_GE(layer->last_steps(), 1);
  EXPECT_LE(layer->last_steps(), 4);
}

TEST(Hicomex, PaperSizedModelGivesLogitsPerAuAnd49Landmarks) {
  Hicomex net{HicomexOptions()};
  net->eval();
  torch::NoGradGuard g;
  auto out = net->forward(torch::randn({2, 3, 176, 176}));
  EXPECT_EQ(out.au_logits.sizes(), torch::IntArrayRef({2, 12}));
  EXPECT_EQ(out.landmarks.sizes(), torch::IntArrayRef({2, 49, 2}));
  EXPECT_GT(net->parameter_count(), 10'000'000);
  EXPECT_GT(net->macs_per_face(), 1'000'000'000);
}

TEST(Hicomex, EveryVariantBuildsAndRuns) {
  for (Variant v : {Variant::Base, Variant::Lstm, Variant::Attention, Variant::Hopfield, Variant::Full}) {
    Hicomex net{small_options(v)};
    net->eval();
    torch::NoGradGuard g;
    auto out = net->forward(torch::randn({2, 3, 64, 64}), face_like_landmarks(2, 64.0));
    EXPECT_EQ(out.au_logits.sizes(), torch::IntArrayRef({2, 12})) << to_string(v);
    EXPECT_TRUE(torch::isfinite(out.au_logits).all().item<bool>()) << to_string(v);
    EXPECT_EQ(net->hopfield_steps() > 0, v == Variant::Hopfield || v == Variant::Full) << to_string(v);
  }
}

TEST(Hicomex, RelationModulesChangeThePrediction) {
  torch::manual_seed(5);
  Hicomex net{small_options(Variant::Full)};
  net->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({1, 3, 64, 64});
  auto with = net->forward(x).au_logits;
  net->set_relations_enabled(false);
  auto without = net->forward(x).au_logits;
  EXPECT_GT((with - without).abs().max().item<float>(), 1e-6);
}

TEST(Hicomex, StageTwoParametersExcludeTheFeatureModules) {
  Hicomex net{small_options()};
  const auto feats = net->feature_parameters();
  const auto stage2 = net->stage2_parameters();
  EXPECT_EQ(feats.size() + stage2.size(), net->parameters().size());
  for (const auto& f : feats)
    for (const auto& s : stage2) ASSERT_NE(f.unsafeGetTensorImpl(), s.unsafeGetTensorImpl());
}

TEST(Hicomex, SameInputGivesTheSameOutputTwice) {
  Hicomex net{small_options()};
  net->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({3, 3, 64, 64});
  auto a = net->forward(x), b = net->forward(x);
  EXPECT_TRUE(torch::equal(a.au_logits, b.au_logits));
  EXPECT_TRUE(torch::equal(a.landmarks, b.landmarks));
}

namespace {

// Running statistics and affine parameters away from their initial values, so
// folding BatchNorm into the convolutions is not a no-op.
void randomise_batch_norms(torch::nn::Module& m) {
  torch::manual_seed(11);
  torch::NoGradGuard g;
  for (auto& item : m.named_buffers()) {
    auto& buffer = item.value();
    if (item.key().find("running_mean") != std::string::npos) buffer.copy_(0.3 * torch::randn_like(buffer));
    if (item.key().find("running_var") != std::string::npos) buffer.copy_(0.5 + torch::rand_like(buffer));
  }
  for (auto& item : m.named_parameters())
    if (item.key().find("bn") != std::string::npos)
      item.value().copy_(item.value() + 0.2 * torch::randn_like(item.value()));
}

long long calls_of(const std::vector<OpTime>& ops, const std::string& name) {
  for (const auto& o : ops)
    if (o.name == name) return o.calls;
  return 0;
}

}  // namespace

TEST(FusedInference, FoldedBatchNormGivesTheSameOutputWithFewerPasses) {
  Hicomex net{small_options()};
  randomise_batch_norms(*net);
  net->eval();
  torch::InferenceMode g;
  auto x = torch::randn({2, 3, 64, 64});
  const bool was = fused_inference();
  set_fused_inference(false);
  auto plain = net->forward(x);
  const auto plain_ops = profile_ops([&] { net->forward(x); }, 1);
  set_fused_inference(true);
  // The BatchNorm folding of the module path is what is counted here; the
  // region layers' own fast path (test_region_fast.cpp) runs no BatchNorm op at all.
  const bool region_fast_was = region_fast::enabled();
  region_fast::set_enabled(false);
  auto fused = net->forward(x);
  const auto fused_ops = profile_ops([&] { net->forward(x); }, 1);
  region_fast::set_enabled(region_fast_was);
  set_fused_inference(was);
  EXPECT_TRUE(torch::allclose(plain.au_logits, fused.au_logits, 1e-4, 1e-4))
      << (plain.au_logits - fused.au_logits).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(plain.landmarks, fused.landmarks, 1e-4, 1e-4));
  // Every FeatConv BatchNorm is folded; only the region layers' pre-activation ones remain.
  const auto bn_plain = calls_of(plain_ops, "aten::native_batch_norm");
  const auto bn_fused = calls_of(fused_ops, "aten::native_batch_norm");
  EXPECT_GT(bn_plain, 0);
  EXPECT_LT(bn_fused, bn_plain);
  EXPECT_EQ(bn_fused, 8);  // 2 region layers x (3 patch convolutions + 1 output)
}

TEST(FusedInference, TrainingModeIsUntouched) {
  Hicomex net{small_options()};
  randomise_batch_norms(*net);
  net->train();
  auto x = torch::randn({2, 3, 64, 64});
  const auto ops = profile_ops([&] { net->forward(x); }, 1);
  EXPECT_EQ(calls_of(ops, "aten::native_batch_norm"), 24);  // 8 + 8 FeatConvs x 2: nothing folded
}

TEST(OpProfile, NamesTheNetworkStages) {
  Hicomex net{small_options()};
  net->eval();
  torch::InferenceMode g;
  auto x = torch::randn({1, 3, 64, 64});
  const auto ops = profile_ops([&] { net->forward(x); }, 2);
  for (const char* stage : {"hicomex::region1", "hicomex::region2", "hicomex::global_branch",
                            "hicomex::landmark_branch", "hicomex::local_au_features", "hicomex::bilstm",
                            "hicomex::self_attention", "hicomex::hopfield", "hicomex::au_head"}) {
    EXPECT_EQ(calls_of(ops, stage), 1) << stage;
  }
  EXPECT_THROW(profile_ops([] {}, 0), std::invalid_argument);
}

TEST(HicomexOptions, JsonRoundTripKeepsEveryField) {
  auto o = small_options(Variant::Hopfield).aus({1, 2, 25, 26}).hopfield_beta(0.25).attention_dropout(0.05);
  auto back = options_from_json(options_to_json(o));
  EXPECT_EQ(options_to_json(back), options_to_json(o));
  EXPECT_EQ(back.variant(), Variant::Hopfield);
  EXPECT_EQ(back.aus(), (std::vector<int>{1, 2, 25, 26}));
}

TEST(HicomexOptions, RejectsUnknownKeysAndBadValuesByName) {
  try {
    options_from_json(R"({"crop_sise": 176})");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("crop_sise"), std::string::npos);
  }
  try {
    options_from_json(R"({"crop_size": 100})");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("crop_size"), std::string::npos);
  }
  EXPECT_THROW(options_from_json(R"({"variant": "transformer"})"), std::invalid_argument);
}

TEST(HicomexWeights, SaveLoadRoundTripIsBitExact) {
  torch::manual_seed(11);
  Hicomex net{small_options()};
  // Make the BN running statistics non-trivial.
  net->train();
  net->forward(torch::randn({4, 3, 64, 64}), face_like_landmarks(4, 64.0));
  ModelInfo info;
  info.model_id = "round-trip";
  info.options = small_options();
  info.thresholds = std::vector<float>(12, 0.4f);
  info.provenance_json = R"({"dataset":"test"})";
  const auto path = temp_path("roundtrip.safetensors");
  save_hicomex(path, net, info);
  auto loaded = load_hicomex(path);
  EXPECT_EQ(loaded.info.model_id, "round-trip");
  EXPECT_EQ(loaded.info.thresholds, info.thresholds);
  EXPECT_EQ(loaded.info.provenance_json, info.provenance_json);
  auto a = net->named_parameters(true), b = loaded.net->named_parameters(true);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  auto ab = net->named_buffers(true), bb = loaded.net->named_buffers(true);
  for (const auto& p : ab) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
  net->eval();
  loaded.net->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({2, 3, 64, 64});
  EXPECT_TRUE(torch::equal(net->forward(x).au_logits, loaded.net->forward(x).au_logits));
  std::remove(path.c_str());
}

namespace {
// Saves a small model, lets `edit` corrupt the in-memory file, writes it, and
// returns the message load_hicomex throws.
template <typename Edit>
std::string load_error_after(Edit edit) {
  Hicomex net{small_options()};
  ModelInfo info;
  info.options = small_options();
  auto file = module_to_safetensors(*net, model_info_to_metadata(info));
  edit(file);
  const auto path = temp_path("broken.safetensors");
  write_safetensors(path, file);
  try {
    load_hicomex(path);
  } catch (const WeightsError& e) {
    std::remove(path.c_str());
    return e.what();
  }
  std::remove(path.c_str());
  return "no error";
}
}  // namespace

TEST(HicomexWeights, MissingTensorIsNamed) {
  auto msg = load_error_after([](SafetensorsFile& f) { f.tensors.erase(f.tensors.begin() + 3); });
  EXPECT_NE(msg.find("is missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("broken.safetensors"), std::string::npos) << msg;
}

TEST(HicomexWeights, WrongShapeIsNamed) {
  auto msg = load_error_after([](SafetensorsFile& f) {
    auto& t = f.tensors[0];
    t.shape = {static_cast<int64_t>(t.numel())};
  });
  EXPECT_NE(msg.find("has shape"), std::string::npos) << msg;
}

TEST(HicomexWeights, WrongDtypeIsNamed) {
  auto msg = load_error_after([](SafetensorsFile& f) {
    auto& t = f.tensors[0];
    t.dtype = DType::F16;
    t.data.resize(t.data.size() / 2);
  });
  EXPECT_NE(msg.find("dtype F16"), std::string::npos) << msg;
}

TEST(HicomexWeights, UnexpectedTensorIsNamed) {
  auto msg = load_error_after([](SafetensorsFile& f) {
    TensorRecord extra;
    extra.name = "stray.weight";
    extra.shape = {1};
    extra.data.resize(4);
    f.tensors.push_back(extra);
  });
  EXPECT_NE(msg.find("stray.weight"), std::string::npos) << msg;
}

TEST(HicomexWeights, MetadataWithoutOptionsIsRejected) {
  auto msg = load_error_after([](SafetensorsFile& f) { f.metadata.erase("options"); });
  EXPECT_NE(msg.find("'options' is missing"), std::string::npos) << msg;
}

TEST(HicomexWeights, FlippedBytesInTheTensorDataAreRefused) {
  torch::manual_seed(3);
  Hicomex net{small_options()};
  ModelInfo info;
  info.options = small_options();
  const auto path = temp_path("flipped.safetensors");
  save_hicomex(path, net, info);
  EXPECT_TRUE(load_hicomex(path).checksum_verified) << "save_hicomex stores a checksum";
  // Flip 50 bytes near the end of the file (tensor data, not the header).
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto size = static_cast<long>(f.tellg());
    for (long i = 0; i < 50; ++i) {
      f.seekg(size - 1000 - 7 * i);
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x5a);
      f.seekp(size - 1000 - 7 * i);
      f.write(&c, 1);
    }
  }
  try {
    load_hicomex(path);
    ADD_FAILURE() << "a corrupt file loaded";
  } catch (const WeightsError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("checksum"), std::string::npos) << msg;
    EXPECT_NE(msg.find("flipped.safetensors"), std::string::npos) << msg;
  }
  std::remove(path.c_str());
}

TEST(HicomexWeights, NanWeightsAreRefusedNamingTheTensor) {
  // No checksum (as in files written before it existed): the NaN scan catches it.
  auto msg = load_error_after([](SafetensorsFile& f) {
    auto& t = f.tensors[0];
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(t.data.data(), &nan, sizeof nan);
  });
  EXPECT_NE(msg.find("NaN"), std::string::npos) << msg;
  EXPECT_NE(msg.find("broken.safetensors"), std::string::npos) << msg;
}

TEST(HicomexWeights, ThresholdCountMustMatchTheAus) {
  auto msg = load_error_after([](SafetensorsFile& f) { f.metadata["thresholds"] = "[0.5, 0.5]"; });
  EXPECT_NE(msg.find("2 thresholds for 12 AUs"), std::string::npos) << msg;
}

TEST(AuEngine, RunsABatchAndMapsLandmarksBackToTheImage) {
  ModelInfo info;
  info.options = small_options().crop_size(160);  // engine crops 160 from the 200 aligned face
  EXPECT_EQ(info.options.aligned_size(), 200);
  auto engine = AuEngine::untrained(info, {}, 3);
  EXPECT_EQ(engine.device(), "cpu");
  AlignedFaceInput a, b;
  a.aligned = cv::Mat(200, 200, CV_8UC3, cv::Scalar(120, 90, 60));
  b.aligned = cv::Mat(200, 200, CV_8UC3, cv::Scalar(30, 200, 90));
  b.transform = cv::Matx23d(2, 0, 10, 0, 2, 20);  // image -> aligned: scale 2, shift
  auto out = engine.run({a, b});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].probabilities.size(), 12u);
  for (float p : out[0].probabilities) {
    EXPECT_GE(p, 0.f);
    EXPECT_LE(p, 1.f);
  }
  // The same face alone gives the same answer as in the batch (eval mode, no cross-talk).
  auto single = engine.run({b});
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(single[0].probabilities[i], out[1].probabilities[i], 1e-5);
  // Landmarks come back in image coordinates: with an identity transform they
  // are aligned coordinates, and mapping b's image points through b's transform
  // (aligned = 2 * image + shift) gives those same aligned points.
  AlignedFaceInput b_identity = b;
  b_identity.transform = cv::Matx23d::eye();
  auto in_aligned = engine.run({b_identity});
  for (int k = 0; k < 49; ++k) {
    EXPECT_NEAR(single[0].landmarks49[k].x * 2 + 10, in_aligned[0].landmarks49[k].x, 1e-3);
    EXPECT_NEAR(single[0].landmarks49[k].y * 2 + 20, in_aligned[0].landmarks49[k].y, 1e-3);
  }
}

TEST(AuEngine, MissingWeightsFileIsNamed) {
  try {
    AuEngine engine(AuEngineOptions{"/nonexistent/model.safetensors"});
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.safetensors"), std::string::npos) << e.what();
  }
}

// The engine reads its device through the one device parser
// (hicomex/option_parsers.h): a DeviceError naming the text.
TEST(AuEngine, UnknownDeviceIsRejected) {
  ModelInfo info;
  info.options = small_options();
  try {
    AuEngine::untrained(info, AuEngineOptions{"", "tpu"});
    FAIL() << "no exception";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.value(), "tpu");
    EXPECT_FALSE(e.valid_text());
    EXPECT_NE(std::string(e.what()).find("'tpu'"), std::string::npos) << e.what();
  }
}

TEST(AuEngine, MissingCudaDeviceIsADeviceError) {
  if (torch::cuda::device_count() > 7) GTEST_SKIP() << "this machine has a cuda:7";
  ModelInfo info;
  info.options = small_options();
  try {
    AuEngine::untrained(info, AuEngineOptions{"", "cuda:7"});
    FAIL() << "no exception";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.value(), "cuda:7");
    EXPECT_TRUE(e.valid_text()) << "the text is fine, the device is missing";
    EXPECT_NE(std::string(e.what()).find("cuda:7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

namespace {

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(AuEngine, Bf16OnTheCpuStaysCloseToFp32) {
  ModelInfo info;
  info.options = small_options();
  torch::manual_seed(5);
  std::vector<float> crops(4 * 3 * 64 * 64);
  auto x = torch::randn({4, 3, 64, 64});
  std::copy(x.data_ptr<float>(), x.data_ptr<float>() + x.numel(), crops.begin());
  auto run = [&](const std::string& precision, std::vector<float>& probs, std::vector<float>& lms) {
    AuEngineOptions o;
    o.device = "cpu";
    o.precision = precision;
    auto engine = AuEngine::untrained(info, o, 9);  // same seed: same weights
    EXPECT_EQ(engine.precision(), precision);
    probs.resize(4 * 12);
    lms.resize(4 * 98);
    engine.run_normalised(crops.data(), 4, nullptr, probs.data(), lms.data());
  };
  std::vector<float> p32, l32, p16, l16;
  run("fp32", p32, l32);
  run("bf16", p16, l16);
  float max_diff = 0.f;
  bool all_same = true;
  for (size_t i = 0; i < p32.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(p32[i] - p16[i]));
    all_same = all_same && p32[i] == p16[i];
  }
  EXPECT_LT(max_diff, 0.05f);
  EXPECT_FALSE(all_same) << "bf16 gave bit-identical output: autocast did not engage";
  for (size_t i = 0; i < l32.size(); ++i) EXPECT_NEAR(l32[i], l16[i], 1.0f);  // crop pixels
}

TEST(AuEngine, BadPrecisionIsNamed) {
  ModelInfo info;
  info.options = small_options();
  AuEngineOptions o;
  o.device = "cpu";
  o.precision = "int8";
  const auto unknown = message_of([&] { AuEngine::untrained(info, o); });
  EXPECT_NE(unknown.find("'int8'"), std::string::npos) << unknown;
  try {
    AuEngine::untrained(info, o);
    FAIL() << "no exception";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.option(), "precision");
    EXPECT_EQ(e.value(), "int8");
  }
  EXPECT_NE(unknown.find("fp32, bf16 or fp16"), std::string::npos) << unknown;
  o.precision = "fp16";
  const auto cpu_half = message_of([&] { AuEngine::untrained(info, o); });
  EXPECT_NE(cpu_half.find("needs a CUDA device"), std::string::npos) << cpu_half;
}

namespace {

std::vector<AlignedFaceInput> test_faces(int n, int seed, bool with_landmarks) {
  cv::RNG rng(seed);
  std::vector<AlignedFaceInput> faces(n);
  for (auto& f : faces) {
    f.aligned = cv::Mat(200, 200, CV_8UC3);
    rng.fill(f.aligned, cv::RNG::UNIFORM, 0, 255);
    if (with_landmarks)
      for (int k = 0; k < 49; ++k)
        f.landmarks49.emplace_back(60.f + rng.uniform(0.f, 80.f), 60.f + rng.uniform(0.f, 80.f));
  }
  return faces;
}

}  // namespace

TEST(AuEngine, CrossStreamBatchingMergesStreamsAndKeepsEachResult) {
  ModelInfo info;
  info.options = small_options().crop_size(160);
  AuEngineOptions plain_options;
  plain_options.device = "cpu";
  auto plain = AuEngine::untrained(info, plain_options, 4);
  AuEngineOptions batched_options = plain_options;
  batched_options.batch_timeout_us = 2000000;  // 2 s: streams in step never wait that long
  auto batched = AuEngine::untrained(info, batched_options, 4);

  constexpr int kStreams = 4, kFrames = 5;
  std::vector<std::vector<std::vector<AlignedFaceInput>>> inputs(kStreams);
  for (int s = 0; s < kStreams; ++s)
    for (int f = 0; f < kFrames; ++f) inputs[s].push_back(test_faces(1 + (s + f) % 3, 100 * s + f, s != 2));
  std::vector<std::vector<std::vector<AuPrediction>>> outputs(kStreams,
                                                              std::vector<std::vector<AuPrediction>>(kFrames));
  {
    std::vector<std::thread> threads;
    for (int s = 0; s < kStreams; ++s)
      threads.emplace_back([&, s] {
        auto membership = batched.join();
        for (int f = 0; f < kFrames; ++f) outputs[s][f] = batched.run(inputs[s][f]);
      });
    for (auto& t : threads) t.join();
  }
  const auto st = batched.stats();
  EXPECT_EQ(st.requests, static_cast<uint64_t>(kStreams * kFrames));
  EXPECT_LT(st.batches, st.requests) << "no two streams ever shared a batch";
  for (int s = 0; s < kStreams; ++s)
    for (int f = 0; f < kFrames; ++f) {
      const auto alone = plain.run(inputs[s][f]);
      ASSERT_EQ(outputs[s][f].size(), alone.size());
      for (size_t i = 0; i < alone.size(); ++i) {
        for (size_t k = 0; k < alone[i].probabilities.size(); ++k)
          EXPECT_NEAR(outputs[s][f][i].probabilities[k], alone[i].probabilities[k], 1e-5) << s << " " << f;
        for (size_t k = 0; k < 49; ++k) EXPECT_NEAR(outputs[s][f][i].landmarks49[k].x, alone[i].landmarks49[k].x, 1e-3);
      }
    }
}

TEST(AuEngine, ALoneStreamDoesNotWaitForTheBatchTimeout) {
  ModelInfo info;
  info.options = small_options().crop_size(160);
  AuEngineOptions o;
  o.device = "cpu";
  o.batch_timeout_us = 1000000 * 60;  // a minute: the test would time out if it waited
  auto engine = AuEngine::untrained(info, o, 4);
  const auto faces = test_faces(2, 1, true);
  EXPECT_EQ(engine.run(faces).size(), 2u);  // no stream joined
  auto membership = engine.join();
  EXPECT_EQ(engine.run(faces).size(), 2u);  // the only joined stream
  EXPECT_EQ(engine.stats().batches, 2u);
  o.batch_timeout_us = -1;
  EXPECT_THROW(AuEngine::untrained(info, o), std::invalid_argument);
}

TEST(AuEngine, SharedEngineIsOneInstancePerModelAndIsSafeAcrossThreads) {
  torch::manual_seed(21);
  Hicomex net{small_options()};
  ModelInfo info;
  info.options = small_options();
  const auto path = temp_path("shared.safetensors");
  save_hicomex(path, net, info);
  AuEngineOptions o{path, "cpu", 1};
  auto a = AuEngine::shared(o);
  auto b = AuEngine::shared(o);
  EXPECT_EQ(a.get(), b.get());
  auto other_threads = AuEngine::shared(AuEngineOptions{path, "cpu", 2});
  EXPECT_NE(a.get(), other_threads.get());

  // Two threads sharing the engine get what each would get alone.
  AlignedFaceInput f1, f2;
  f1.aligned = cv::Mat(200, 200, CV_8UC3, cv::Scalar(120, 90, 60));
  f2.aligned = cv::Mat(200, 200, CV_8UC3, cv::Scalar(30, 200, 90));
  const auto alone1 = a->run({f1})[0].probabilities, alone2 = a->run({f2})[0].probabilities;
  std::vector<float> got1, got2;
  std::thread t1([&] {
    for (int i = 0; i < 5; ++i) got1 = a->run({f1})[0].probabilities;
  });
  std::thread t2([&] {
    for (int i = 0; i < 5; ++i) got2 = b->run({f2})[0].probabilities;
  });
  t1.join();
  t2.join();
  EXPECT_EQ(got1, alone1);
  EXPECT_EQ(got2, alone2);

  // Released by every user: the next request loads it afresh.
  a.reset();
  b.reset();
  EXPECT_NE(AuEngine::shared(o), nullptr);
  std::remove(path.c_str());
}

TEST(IntensityHead, GivesOneIntensityPerAuOnTheFiveScale) {
  torch::manual_seed(2);
  Hicomex net{small_options().intensity_head(true)};
  net->eval();
  torch::NoGradGuard g;
  auto x = 3.0 * torch::randn({3, 3, 64, 64});
  auto out = net->forward(x, face_like_landmarks(3, 64.0));
  ASSERT_TRUE(out.intensities.defined());
  EXPECT_EQ(out.intensities.sizes(), torch::IntArrayRef({3, 12}));
  EXPECT_TRUE((out.intensities >= 0).all().item<bool>());
  EXPECT_TRUE((out.intensities <= 5).all().item<bool>());
  EXPECT_TRUE(net->has_intensity_head());
  EXPECT_FALSE(net->intensity_parameters().empty());
  // The paper's configuration has no head and no intensity output.
  Hicomex plain{small_options()};
  plain->eval();
  EXPECT_FALSE(plain->forward(x, face_like_landmarks(3, 64.0)).intensities.defined());
  EXPECT_TRUE(plain->intensity_parameters().empty());
  EXPECT_GT(net->macs_per_face(), plain->macs_per_face());
}

TEST(IntensityHead, IsPartOfStageTwoAndLeavesOccurrenceAlone) {
  torch::manual_seed(4);
  Hicomex net{small_options().intensity_head(true)};
  const auto stage2 = net->stage2_parameters();
  for (const auto& p : net->intensity_parameters()) {
    bool found = false;
    for (const auto& s : stage2) found |= s.unsafeGetTensorImpl() == p.unsafeGetTensorImpl();
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(net->feature_parameters().size() + stage2.size(), net->parameters().size());
  // Changing the intensity head changes no occurrence logit.
  net->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({2, 3, 64, 64});
  auto before = net->forward(x, face_like_landmarks(2, 64.0));
  for (auto& p : net->intensity_parameters()) p.add_(0.5);
  auto after = net->forward(x, face_like_landmarks(2, 64.0));
  EXPECT_TRUE(torch::equal(before.au_logits, after.au_logits));
  EXPECT_FALSE(torch::equal(before.intensities, after.intensities));
}

TEST(IntensityHead, SurvivesTheWeightsFileAndReachesTheEngine) {
  torch::manual_seed(6);
  ModelInfo info;
  info.options = small_options().crop_size(160).intensity_head(true);
  Hicomex net{info.options};
  const auto path = temp_path("intensity.safetensors");
  save_hicomex(path, net, info);
  auto loaded = load_hicomex(path);
  EXPECT_TRUE(loaded.info.options.intensity_head());
  EXPECT_TRUE(loaded.net->has_intensity_head());
  AuEngineOptions eo;
  eo.weights = path;
  AuEngine engine(eo);
  EXPECT_TRUE(engine.has_intensity());
  AlignedFaceInput a;
  a.aligned = cv::Mat(200, 200, CV_8UC3, cv::Scalar(120, 90, 60));
  auto out = engine.run({a});
  ASSERT_EQ(out[0].intensities.size(), 12u);
  for (float v : out[0].intensities) {
    EXPECT_GE(v, 0.f);
    EXPECT_LE(v, 5.f);
  }
  // An occurrence-only model: no intensities, and the flag says so.
  ModelInfo plain;
  plain.options = small_options().crop_size(160);
  auto engine2 = AuEngine::untrained(plain, {}, 1);
  EXPECT_FALSE(engine2.has_intensity());
  EXPECT_TRUE(engine2.run({a})[0].intensities.empty());
  std::remove(path.c_str());
}

TEST(HicomexWeights, OptionsAskingForAnImpossiblyLargeLayerNameTheFileAndOptions) {
  auto msg = load_error_after([](SafetensorsFile& f) {
    auto o = nlohmann::json::parse(f.metadata["options"]);
    o["feature_dim"] = 1LL << 40;  // a Linear of 2^40 x 2^40 floats
    f.metadata["options"] = o.dump();
  });
  EXPECT_NE(msg.find("broken.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot be built"), std::string::npos) << msg;
  EXPECT_NE(msg.find("feature_dim"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("frame #"), std::string::npos) << "no C++ backtrace: " << msg;
}

TEST(AuEngine, TellsWhetherTheWeightsCarriedAChecksum) {
  ModelInfo info;
  info.options = small_options().crop_size(160);
  Hicomex net{info.options};
  const auto with = temp_path("with-checksum.safetensors"), without = temp_path("without-checksum.safetensors");
  save_hicomex(with, net, info);
  auto file = read_safetensors(with);
  file.metadata.erase("tensor_checksum");  // as files written before checksums existed
  write_safetensors(without, file);
  AuEngineOptions eo;
  eo.weights = with;
  EXPECT_TRUE(AuEngine(eo).weights_checksummed());
  eo.weights = without;
  EXPECT_FALSE(AuEngine(eo).weights_checksummed());
  std::remove(with.c_str());
  std::remove(without.c_str());
}

TEST(AuEngine, FiniteWeightsThatComputeNaNAreRefusedAtLoad) {
  ModelInfo info;
  info.options = small_options().crop_size(160);
  Hicomex net{info.options};
  {
    torch::NoGradGuard g;
    // A negative BatchNorm variance: every number finite, the output NaN.
    for (auto& b : net->named_buffers())
      if (b.key().find("global") == 0 && b.key().find("running_var") != std::string::npos) {
        b.value().fill_(-1.0);
        break;
      }
  }
  const auto path = temp_path("nan-output.safetensors");
  save_hicomex(path, net, info);
  AuEngineOptions eo;
  eo.weights = path;
  try {
    AuEngine engine(eo);
    FAIL() << "loaded";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("nan-output.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("non-finite outputs"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}
