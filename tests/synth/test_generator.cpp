// The generator as a whole: determinism per seed, AU statistics rules, the
// dataset manifest round trip, and the demo video against its CSV.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/videoio.hpp>

#include "dataset_writer.h"
#include "temp_dir.h"
#include "video_writer.h"

using namespace hicomex::synth;
using hicomex::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SceneOptions small_scene() {
  SceneOptions o;
  o.size = 96;
  return o;
}

}  // namespace

TEST(Generator, SameSeedGivesTheSameImageAndGroundTruth) {
  const SynthIdentity who = make_identity(5, 2);
  const auto rules = default_expression_rules();
  const Sample a = render_sample(5, 17, who, small_scene(), rules);
  const Sample b = render_sample(5, 17, who, small_scene(), rules);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);
  EXPECT_EQ(a.face.landmarks, b.face.landmarks);
  EXPECT_EQ(a.expression.aus, b.expression.aus);
  const Sample c = render_sample(6, 17, who, small_scene(), rules);
  EXPECT_GT(cv::norm(a.image, c.image, cv::NORM_L1), 0.0);
}

TEST(Generator, IdentitiesDependOnlyOnSeedAndNumber) {
  const SynthIdentity a = make_identity(9, 4), b = make_identity(9, 4), c = make_identity(9, 5);
  EXPECT_EQ(a.subject, "syn0004");
  EXPECT_EQ(a.look.texture_seed, b.look.texture_seed);
  EXPECT_NE(a.look.texture_seed, c.look.texture_seed);
}

TEST(ExpressionRules, JawDropImpliesLipsPartAndPressorExcludesThem) {
  const auto rules = default_expression_rules();
  Rng rng(123);
  int n12 = 0, n12_15 = 0;
  std::map<int, int> positives;
  for (int i = 0; i < 3000; ++i) {
    Rng r = rng.fork(static_cast<std::uint64_t>(i));
    const Expression e = sample_expression(r, rules);
    const auto on = [&](int au) { return au_intensity(e.aus, au) > 0.f; };
    if (on(26)) {
      EXPECT_TRUE(on(25)) << "sample " << i;
    }
    EXPECT_FALSE(on(24) && on(25)) << "sample " << i;
    EXPECT_FALSE(on(24) && on(26)) << "sample " << i;
    n12 += on(12);
    n12_15 += on(12) && on(15);
    for (int au : rendered_aus()) positives[au] += occurrence(au_intensity(e.aus, au), rules);
  }
  EXPECT_LT(n12_15, n12 / 20);  // 12 with 15: rare
  for (int au : rendered_aus()) EXPECT_GT(positives[au], 3000 / 50) << "AU" << au << " is too rare to learn";
}

TEST(ExpressionRules, RoundTripThroughJsonAndRejectBadValues) {
  const auto rules = default_expression_rules();
  const auto back = expression_rules_from_json(to_json(rules));
  EXPECT_EQ(to_json(back), to_json(rules));
  EXPECT_THROW(expression_rules_from_json(nlohmann::json{{"occurrence_threshold", 9.0}}), std::invalid_argument);
  EXPECT_THROW(expression_rules_from_json(nlohmann::json::parse(R"({"exclusions": [{"a": 3, "b": 4}]})")),
               std::invalid_argument);
}

TEST(Dataset, ManifestRoundTripsWithSubjectsSplitByIdentity) {
  const TempDir tmp("hicomex-synth-dataset");
  const fs::path dir = tmp.path();
  DatasetOptions o;
  o.out_dir = (dir / "a").string();
  o.count = 12;
  o.identities = 4;
  o.seed = 77;
  o.jobs = 2;
  o.scene = small_scene();
  write_dataset(o, nullptr);
  std::ifstream in(dir / "a" / "manifest.jsonl");
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto header = nlohmann::json::parse(line);
  EXPECT_EQ(header.at("hicomex_manifest"), 1);
  EXPECT_EQ(header.at("aus").get<std::vector<int>>(), rendered_aus());
  std::map<std::string, int> per_subject;
  int samples = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    ++samples;
    EXPECT_TRUE(fs::exists(dir / "a" / j.at("image").get<std::string>()));
    per_subject[j.at("subject").get<std::string>()]++;
    EXPECT_EQ(j.at("landmarks").size(), 68u);
    for (int au : rendered_aus()) {
      const std::string k = std::to_string(au);
      const double v = j.at("intensity").at(k).get<double>();
      EXPECT_EQ(j.at("aus").at(k).get<int>(), v >= 2.0 ? 1 : 0) << "AU" << au;
    }
  }
  EXPECT_EQ(samples, 12);
  EXPECT_EQ(per_subject, (std::map<std::string, int>{{"syn0000", 3}, {"syn0001", 3}, {"syn0002", 3}, {"syn0003", 3}}));
  // One worker writes the same bytes as two.
  o.out_dir = (dir / "b").string();
  o.jobs = 1;
  write_dataset(o, nullptr);
  EXPECT_EQ(read_all(dir / "a" / "manifest.jsonl"), read_all(dir / "b" / "manifest.jsonl"));
  EXPECT_EQ(read_all(dir / "a" / "images" / "000007.jpg"), read_all(dir / "b" / "images" / "000007.jpg"));
  // An existing manifest is not replaced silently.
  EXPECT_THROW(write_dataset(o, nullptr), std::runtime_error);
  fs::remove_all(dir);
}

TEST(Dataset, RejectsBadOptions) {
  DatasetOptions o;
  o.out_dir = "x";
  o.count = 10;
  o.identities = 11;
  EXPECT_THROW(validate(o), std::invalid_argument);
  o.identities = 2;
  o.format = "gif";
  EXPECT_THROW(validate(o), std::invalid_argument);
}

TEST(Video, FrameCountEqualsTheCsvFrames) {
  const TempDir tmp("hicomex-synth-video");
  const fs::path dir = tmp.path();
  VideoOptions o;
  o.out_path = (dir / "demo.mp4").string();
  o.csv_path = (dir / "demo.csv").string();
  o.faces = 2;
  o.seconds = 1.2;
  o.fps = 10;
  o.size = cv::Size(192, 144);
  const VideoSummary sum = write_video(o, nullptr);
  EXPECT_EQ(sum.frames, 12);
  cv::VideoCapture cap(o.out_path);
  ASSERT_TRUE(cap.isOpened());
  int decoded = 0;
  cv::Mat frame;
  while (cap.read(frame)) {
    EXPECT_EQ(frame.size(), o.size);
    ++decoded;
  }
  std::ifstream csv(o.csv_path);
  std::string line;
  ASSERT_TRUE(std::getline(csv, line));
  EXPECT_EQ(line, video_csv_header());
  std::set<int> frames;
  int rows = 0;
  while (std::getline(csv, line)) {
    frames.insert(std::stoi(line.substr(0, line.find(','))));
    ++rows;
  }
  EXPECT_EQ(decoded, static_cast<int>(frames.size()));
  EXPECT_EQ(rows, 2 * decoded);
  fs::remove_all(dir);
}

TEST(Video, RejectsAnUnknownContainer) {
  VideoOptions o;
  o.out_path = "demo.webm";
  o.csv_path = "demo.csv";
  EXPECT_THROW(validate(o), std::invalid_argument);
}
