// The training loop on a tiny learnable dataset: loss goes down, resume is exact,
// stage 2 freezes the feature modules, weights carry thresholds and provenance.
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "hicomex/errors.h"
#include "hicomex/safetensors.h"
#include "nn/weights_io.h"
#include "tiny_dataset.h"
#include "training/data_source.h"
#include "training/evaluate.h"
#include "training/metrics.h"
#include "training/trainer.h"

namespace fs = std::filesystem;
using namespace hicomex;
using namespace hicomex::training;
using namespace hicomex::training::test;

namespace {

void quiet(const std::string&) {}

class TinyTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    torch::set_num_threads(1);
    dir_ = new TempDir;
    cache_path_ = prepare_tiny_cache(write_tiny_manifest(*dir_ / "data"), dir_->path().string());
    cache_ = new CacheReader(cache_path_);
    SplitSpec s;
    s.test_folds = "none";
    s.val_fraction = 0.25;
    s.seed = 3;
    split_ = split_cache(*cache_, "manifest", s);
  }
  static void TearDownTestSuite() {
    delete cache_;
    delete dir_;
  }

  static TrainConfig config(const std::string& out) {
    TrainConfig c;
    c.out_dir = *dir_ / out;
    c.model = tiny_model();
    c.model_id = "tiny-test";
    c.stages = 1;
    c.epochs = 2;
    c.batch_size = 8;
    c.threads = 1;
    c.loader_threads = 2;
    c.device = "cpu";
    c.seed = 5;
    c.provenance = {{"dataset", {{"kind", "manifest"}, {"source", "tiny"}}}};
    return c;
  }
  static TrainResult run(const TrainConfig& c) {
    return train_hicomex(c, *cache_, split_.train, split_.validation, quiet);
  }

  static std::map<std::string, std::vector<std::uint8_t>> tensors(const std::string& path) {
    std::map<std::string, std::vector<std::uint8_t>> out;
    for (auto& t : read_safetensors(path).tensors) out[t.name] = t.data;
    return out;
  }

  static TempDir* dir_;
  static std::string cache_path_;
  static CacheReader* cache_;
  static CacheSplit split_;
};
TempDir* TinyTraining::dir_ = nullptr;
std::string TinyTraining::cache_path_;
CacheReader* TinyTraining::cache_ = nullptr;
CacheSplit TinyTraining::split_;

bool starts_with_any(const std::string& name, std::initializer_list<const char*> prefixes) {
  for (const char* p : prefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace

TEST_F(TinyTraining, SplitKeepsValidationSubjectsOutOfTraining) {
  EXPECT_EQ(split_.train.size() + split_.validation.size(), cache_->size());
  EXPECT_EQ(split_.validation.size() % 4, 0u);  // whole subjects (4 faces each)
  EXPECT_NO_THROW(check_subject_exclusive(subjects_of(*cache_, "manifest"), split_.train, split_.validation));
}

TEST_F(TinyTraining, TwoEpochsLowerTheTrainingLossAndLogEveryStep) {
  const auto r = run(config("smoke"));
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.epochs.size(), 2u);
  EXPECT_LT(r.epochs[1].train_loss, r.epochs[0].train_loss);
  ASSERT_TRUE(r.epochs[1].val_f1.has_value());
  // 24 training faces in batches of 8: 3 steps per epoch, one JSON line each.
  std::ifstream steps(*dir_ / "smoke/steps.jsonl");
  int lines = 0;
  for (std::string l; std::getline(steps, l); ++lines) EXPECT_TRUE(nlohmann::json::parse(l).contains("samples_per_s"));
  EXPECT_EQ(lines, 6);
  EXPECT_TRUE(fs::exists(*dir_ / "smoke/checkpoint/optimizer.pt"));
}

TEST_F(TinyTraining, ResumedRunEndsWithTheWeightsOfAnUninterruptedOne) {
  auto straight = config("straight");
  straight.stages = 3;  // both stages, so the resume also crosses into stage 2
  straight.epochs = 2;
  ASSERT_TRUE(run(straight).finished);

  auto first = straight;
  first.out_dir = *dir_ / "interrupted";
  first.stop_after_epochs = 1;
  ASSERT_FALSE(run(first).finished);
  auto second = first;
  second.stop_after_epochs = 2;  // stops inside stage 2
  second.resume = true;
  ASSERT_FALSE(run(second).finished);
  auto third = second;
  third.stop_after_epochs = 0;
  const auto r = run(third);
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.epochs.size(), 4u);

  const auto a = tensors(*dir_ / "straight/weights.safetensors");
  const auto b = tensors(*dir_ / "interrupted/weights.safetensors");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, bytes] : a) EXPECT_TRUE(b.at(name) == bytes) << name << " differs after resume";
}

TEST_F(TinyTraining, ResumeRefusesChangedSettings) {
  auto c = config("changed");
  c.stop_after_epochs = 1;
  run(c);
  c.resume = true;
  c.lr = 0.05;
  try {
    run(c);
    FAIL() << "resume with another learning rate was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("lr"), std::string::npos) << e.what();
  }
}

TEST_F(TinyTraining, StageTwoFreezesFeatureModulesAndTrainsRelationModules) {
  auto s1 = config("stage1");
  s1.epochs = 1;
  const auto w1 = run(s1).weights_path;
  auto s2 = config("stage2");
  s2.stages = 2;
  s2.epochs = 1;
  s2.init_weights = w1;
  const auto w2 = run(s2).weights_path;

  // Stage 2 starts its relation modules from the seeded initialisation.
  torch::manual_seed(s2.seed);
  nn::Hicomex fresh(tiny_model());
  std::map<std::string, std::vector<std::uint8_t>> initial;
  for (auto& t : nn::module_to_safetensors(*fresh, {}).tensors) initial[t.name] = t.data;

  const auto a = tensors(w1), b = tensors(w2);
  int frozen = 0, relation_changed = 0, head_changed = 0;
  for (const auto& [name, bytes] : b) {
    if (starts_with_any(name, {"region1.", "region2.", "global.", "local."})) {
      EXPECT_TRUE(a.at(name) == bytes) << name << " changed in stage 2";  // parameters and BatchNorm statistics
      ++frozen;
    } else if (starts_with_any(name, {"lstm.", "attention.", "hopfield."})) {
      EXPECT_EQ(a.count(name), 0u) << "stage 1 weights hold the untrained relation tensor " << name;
      relation_changed += initial.at(name) != bytes;
    } else if (starts_with_any(name, {"au_head."})) {
      head_changed += a.at(name) != bytes;
    }
  }
  EXPECT_GT(frozen, 10);
  EXPECT_GT(relation_changed, 0);
  EXPECT_GT(head_changed, 0);
}

TEST_F(TinyTraining, WeightsLoadWithCalibratedThresholdsAndProvenance) {
  auto c = config("final");
  c.epochs = 1;
  const auto r = run(c);
  auto loaded = nn::load_hicomex(r.weights_path);
  EXPECT_EQ(loaded.info.model_id, "tiny-test");
  EXPECT_EQ(loaded.info.options.aus(), (std::vector<int>{1, 12}));
  EXPECT_EQ(loaded.info.options.aligned_size(), 80);
  ASSERT_EQ(loaded.info.thresholds.size(), 2u);
  EXPECT_EQ(loaded.info.thresholds, r.thresholds);

  // The stored thresholds are the validation-calibrated ones of the final model.
  const auto p = predict(loaded.net, *cache_, split_.validation, torch::kCPU, {});
  EXPECT_EQ(calibrate_thresholds(p.probs, p.labels, 2), loaded.info.thresholds);

  const auto prov = nlohmann::json::parse(loaded.info.provenance_json);
  EXPECT_EQ(prov.at("dataset").at("kind"), "manifest");
  EXPECT_EQ(prov.at("seed"), 5);
  EXPECT_EQ(prov.at("epochs_per_stage"), 1);
  EXPECT_TRUE(prov.contains("commit"));
  EXPECT_TRUE(prov.contains("finished_at"));
  EXPECT_EQ(prov.at("thresholds_from"), "validation subjects");
}

TEST_F(TinyTraining, IntensityStageTrainsOnlyTheIntensityHead) {
  auto s1 = config("occurrence");
  s1.stages = 3;  // a finished model: both stages, relation modules trained
  s1.epochs = 1;
  const auto r1 = run(s1);
  auto si = config("intensity");
  si.stages = TrainConfig::kIntensityStage;
  si.model.intensity_head(true);
  si.epochs = 3;
  si.init_weights = r1.weights_path;
  const auto ri = run(si);
  ASSERT_TRUE(ri.finished);

  const auto a = tensors(r1.weights_path), b = tensors(ri.weights_path);
  int head = 0;
  for (const auto& [name, bytes] : b) {
    if (name.rfind("intensity_head.", 0) == 0) {
      ++head;
      EXPECT_EQ(a.count(name), 0u);
    } else {
      EXPECT_TRUE(a.at(name) == bytes) << name << " changed while training the intensity head";
    }
  }
  EXPECT_GT(head, 0);
  EXPECT_EQ(a.size() + head, b.size());
  // Occurrence is untouched: the finished model's thresholds are kept as they were.
  EXPECT_EQ(ri.thresholds, r1.thresholds);
  EXPECT_EQ(nlohmann::json::parse(nn::load_hicomex(ri.weights_path).info.provenance_json).at("thresholds_from"),
            "--init " + r1.weights_path);
  // The intensity loss falls, and only it counts in the training loss.
  ASSERT_EQ(ri.epochs.size(), 3u);
  EXPECT_LT(ri.epochs.back().intensity_loss, ri.epochs.front().intensity_loss);
  EXPECT_DOUBLE_EQ(ri.epochs.front().train_loss, ri.epochs.front().intensity_loss);
  auto loaded = nn::load_hicomex(ri.weights_path);
  EXPECT_TRUE(loaded.info.options.intensity_head());
}

TEST_F(TinyTraining, IntensityStageNeedsAFinishedModelAndAHead) {
  auto c = config("intensity-bad");
  c.stages = TrainConfig::kIntensityStage;
  c.model.intensity_head(true);
  EXPECT_THROW(run(c), std::invalid_argument);  // no --init
  c.model.intensity_head(false);
  c.init_weights = "x";
  EXPECT_THROW(run(c), std::invalid_argument);  // no head to train
  // A stage-1 (base) model: the relation modules would stay untrained.
  auto s1 = config("intensity-base");
  s1.epochs = 1;
  c.init_weights = run(s1).weights_path;
  c.model.intensity_head(true);
  try {
    run(c);
    FAIL() << "a base model was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("finished model"), std::string::npos) << e.what();
  }
}

// The training library reads the device through the one device parser
// (hicomex/option_parsers.h): DeviceError naming the text, for a text that is
// no device and for a CUDA device this machine does not have.
TEST_F(TinyTraining, BadDeviceIsADeviceErrorNamingIt) {
  TrainConfig c = config("bad-device");
  c.device = "bogus";
  try {
    run(c);
    FAIL() << "no exception";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.value(), "bogus");
    EXPECT_NE(std::string(e.what()).find("'bogus'"), std::string::npos) << e.what();
  }
  if (torch::cuda::device_count() > 7) return;
  c.device = "cuda:7";
  try {
    run(c);
    FAIL() << "no exception";
  } catch (const DeviceError& e) {
    EXPECT_EQ(e.value(), "cuda:7");
    EXPECT_TRUE(e.valid_text());
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}
