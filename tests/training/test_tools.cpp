// The training tools as a user runs them: clear errors with a non-zero exit on bad
// input; hicomex-eval's metrics from known predictions and after a real training run.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "process.h"
#include "tiny_dataset.h"
#include "training/evaluate.h"
#include "training/metrics.h"

namespace fs = std::filesystem;
using namespace hicomex::training;
using namespace hicomex::training::test;

namespace {

struct Run {
  int code = 0;
  std::string out, err;
};

/// Runs tool `env_var` (its path comes from meson) with `args` (a shell
/// fragment) in a shell; captures stdout / stderr. `env` (e.g. "VAR=value ")
/// is put in front of the command. `dir` is the test's folder (unused: the
/// output is captured through pipes).
Run run_tool_env(const std::string& env, const char* env_var, const std::string& args, const TempDir& /*dir*/) {
  const char* exe = std::getenv(env_var);
  if (!exe) throw std::runtime_error(std::string(env_var) + " is not set (run through meson test)");
  const hicomex::test::RunResult result = hicomex::test::run_shell(env + std::string(exe) + " " + args);
  Run r;
  r.code = result.status;
  r.out = result.out;
  r.err = result.err;
  return r;
}

Run run_tool(const char* env_var, const std::string& args, const TempDir& dir) {
  return run_tool_env("", env_var, args, dir);
}

bool mentions(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST(HicomexTrainCli, HelpListsEveryOptionWithDefaults) {
  TempDir d;
  const auto r = run_tool("HICOMEX_TRAIN", "--help", d);
  EXPECT_EQ(r.code, 0);
  for (const char* o : {"--data", "--kind", "--test-fold", "--val-fraction", "--variant", "--stage", "--size",
                        "--epochs", "--lr-step", "--nesterov", "--dice", "--resume", "--device", "--skip-bad"})
    EXPECT_TRUE(mentions(r.out, o)) << o;
  EXPECT_TRUE(mentions(r.out, "0.01"));
}

TEST(HicomexTrainCli, MissingDataOptionIsAnError) {
  TempDir d;
  const auto r = run_tool("HICOMEX_TRAIN", "--out " + (d / "out"), d);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(mentions(r.err, "--data")) << r.err;
}

TEST(HicomexTrainCli, NonexistentDataPathIsNamed) {
  TempDir d;
  const auto r = run_tool("HICOMEX_TRAIN", "--data " + (d / "nowhere") + " --out " + (d / "out"), d);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(mentions(r.err, "nowhere") && mentions(r.err, "does not exist")) << r.err;
}

TEST(HicomexTrainCli, UnknownKindIsAnError) {
  TempDir d;
  const auto r = run_tool("HICOMEX_TRAIN", "--data " + d.path().string() + " --kind affectnet --out " + (d / "o"), d);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(mentions(r.err, "--kind") && mentions(r.err, "affectnet")) << r.err;
}

TEST(HicomexTrainCli, BadFoldIsAnError) {
  TempDir d;
  const auto manifest = write_tiny_manifest(d / "data", 3, 1);
  auto r = run_tool("HICOMEX_TRAIN", "--data " + manifest + " --test-fold 7 --size tiny --out " + (d / "o"), d);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(mentions(r.err, "test fold 7 out of range 1-3")) << r.err;
  r = run_tool("HICOMEX_TRAIN", "--data " + manifest + " --test-fold one --out " + (d / "o"), d);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(mentions(r.err, "'one'")) << r.err;
}

// The device goes through the one device parser (hicomex/option_parsers.h):
// an unknown text is refused before any work, naming the text and the forms.
TEST(HicomexTrainCli, UnknownDeviceIsNamed) {
  TempDir d;
  const auto manifest = write_tiny_manifest(d / "data", 3, 1);
  const auto r = run_tool("HICOMEX_TRAIN", "--data " + manifest + " --device bogus --size tiny --out " + (d / "o"), d);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(mentions(r.err, "'bogus'")) << r.err;
  EXPECT_TRUE(mentions(r.err, "cuda:N")) << r.err;
  EXPECT_FALSE(fs::exists(d / "o")) << "nothing written for a bad device";
}

TEST(HicomexEvalCli, ScoresKnownPredictions) {
  TempDir d;
  // AU1: tp 2, fp 1, fn 1, tn 1 -> F1 = 4 / 6; AU12: no positives, none predicted -> F1 0, accuracy 1.
  write_text(d / "pred.csv",
             "record,subject,AU1_prob,AU12_prob,AU1_label,AU12_label\n"
             "0,a,0.9,0.1,1,0\n1,a,0.7,0.2,1,0\n2,b,0.6,0.3,0,0\n3,b,0.2,0.4,1,0\n4,c,0.1,0.0,0,0\n5,c,0.8,0.9,9,9\n");
  const auto r = run_tool("HICOMEX_EVAL", "--from-predictions " + (d / "pred.csv") + " --json " + (d / "r.json"), d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(mentions(r.out, "| AU1 | AU12 | Avg |")) << r.out;
  EXPECT_TRUE(mentions(r.out, "66.7")) << r.out;
  std::ifstream in(d / "r.json");
  const auto j = nlohmann::json::parse(in);
  const auto& row = j.at("rows").at(0);
  EXPECT_NEAR(row.at("f1").at("AU1").get<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(row.at("counts").at("AU1").at("fp"), 1);
  EXPECT_EQ(row.at("counts").at("AU12").at("tn"), 5);
  EXPECT_NEAR(row.at("avg_f1").get<double>(), 1.0 / 3.0, 1e-9);
}

TEST(HicomexEvalCli, MissingWeightsIsAnError) {
  TempDir d;
  const auto r = run_tool("HICOMEX_EVAL", "--data " + d.path().string(), d);
  EXPECT_NE(r.code, 0);
  EXPECT_TRUE(mentions(r.err, "--weights")) << r.err;
}

TEST(HicomexTools, TrainThenEvaluateOnTheTestFold) {
  TempDir d;
  const auto manifest = write_tiny_manifest(d / "data", 6, 4);
  auto r = run_tool("HICOMEX_TRAIN",
                    "--data " + manifest + " --size tiny --stage 1 --epochs 1 --batch-size 8 " +
                        "--threads 1 --val-fraction 0.25 --seed 2 --out " + (d / "run"),
                    d);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(fs::exists(d / "run/weights.safetensors"));
  EXPECT_TRUE(mentions(r.err, "ETA")) << r.err;
  r = run_tool("HICOMEX_EVAL",
               "--weights " + (d / "run/weights.safetensors") + " --data " + manifest +
                   " --seed 2 --threads 1 --predictions " + (d / "p.csv") + " --json " + (d / "e.json"),
               d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(mentions(r.err, "using the prepared cache")) << r.err;  // the training run's cache is reused
  // The report is the metrics of the written predictions at the stored thresholds.
  const auto p = read_predictions_csv(d / "p.csv");
  EXPECT_EQ(p.rows(), 8u);  // 2 of 6 subjects in the test fold, 4 faces each
  std::ifstream in(d / "e.json");
  const auto j = nlohmann::json::parse(in);
  const std::vector<float> thr = j.at("thresholds").get<std::vector<float>>();
  AuMetrics m(p.aus);
  m.add_batch(p.labels.data(), p.probs.data(), p.rows(), thr);
  EXPECT_NEAR(j.at("rows").at(0).at("avg_f1").get<double>(), m.mean_f1(), 1e-6);
}

TEST(HicomexTools, EvalPreparesIntoTheUserCacheNotBesideAReadOnlyModel) {
  TempDir d;
  const auto manifest = write_tiny_manifest(d / "data", 6, 4);
  auto r = run_tool("HICOMEX_TRAIN",
                    "--data " + manifest + " --size tiny --stage 1 --epochs 1 --batch-size 8 " +
                        "--threads 1 --val-fraction 0.25 --seed 2 --cache-dir " + (d / "train-cache") + " --out " +
                        (d / "run"),
                    d);
  ASSERT_EQ(r.code, 0) << r.err;
  // The model alone in a read-only folder.
  fs::create_directories(d / "models");
  fs::copy_file(d / "run/weights.safetensors", d / "models/w.safetensors");
  fs::permissions(d / "models", fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                  fs::perm_options::remove);
  const std::string env = "XDG_CACHE_HOME=" + (d / "xdg") + " ";
  r = run_tool_env(env, "HICOMEX_EVAL",
                   "--weights " + (d / "models/w.safetensors") + " --data " + manifest + " --seed 2 --threads 1", d);
  fs::permissions(d / "models", fs::perms::owner_write, fs::perm_options::add);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(d / "models/cache"));
  bool in_xdg = false;
  for (const auto& e : fs::directory_iterator(d / "xdg/hicomex")) in_xdg |= e.path().extension() == ".cache";
  EXPECT_TRUE(in_xdg);

  // A cache made with --skip-bad is not the one a strict run uses.
  r = run_tool_env(
      env, "HICOMEX_EVAL",
      "--weights " + (d / "models/w.safetensors") + " --data " + manifest + " --seed 2 --threads 1 --skip-bad", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(mentions(r.err, "using the prepared cache")) << r.err;
  int caches = 0;
  for (const auto& e : fs::directory_iterator(d / "xdg/hicomex")) caches += e.path().extension() == ".cache";
  EXPECT_EQ(caches, 2);
}
