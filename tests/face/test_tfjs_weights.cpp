// The tfjs weights reader against face-api's 68-point manifest and its .bin,
// and against small hand-written weight files for the cases the model lacks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "face/tfjs_weights.h"
#include "hicomex/model_paths.h"
#include "temp_dir.h"

using hicomex::TfjsWeights;
using hicomex::test::TempDir;

namespace {

const std::string kManifest = "face_landmark_68_model-weights_manifest.json";

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string error_of(const std::string& manifest) {
  try {
    TfjsWeights::load(manifest);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TfjsWeights, ReadsEveryTensorOfTheLandmarkManifestWithItsShape) {
  const auto w = TfjsWeights::load(hicomex::face_model_path(kManifest));
  ASSERT_EQ(w.tensors().size(), 49u);
  EXPECT_EQ(w.tensors().front().name, "dense0/conv0/filters");
  EXPECT_EQ(w.at("dense0/conv0/filters").shape, (std::vector<int64_t>{3, 3, 3, 32}));
  EXPECT_EQ(w.at("dense3/conv2/pointwise_filter").shape, (std::vector<int64_t>{1, 1, 256, 256}));
  EXPECT_EQ(w.at("fc/weights").shape, (std::vector<int64_t>{256, 136}));
  size_t total = 0;
  for (const auto& t : w.tensors()) {
    size_t n = 1;
    for (auto d : t.shape) n *= d;
    EXPECT_EQ(t.values.size(), n) << t.name;
    total += n;
  }
  // Every value is one uint8 in the .bin.
  EXPECT_EQ(total, read_bytes(hicomex::face_model_path("face_landmark_68_model.bin")).size());
}

TEST(TfjsWeights, DequantisesAsByteTimesScalePlusMin) {
  const std::string manifest_path = hicomex::face_model_path(kManifest);
  const auto w = TfjsWeights::load(manifest_path);
  const auto bytes = read_bytes(hicomex::face_model_path("face_landmark_68_model.bin"));
  const auto manifest = nlohmann::json::parse(std::ifstream(manifest_path));
  const auto& entries = manifest[0]["weights"];
  // Offsets computed here from the manifest's shapes, one byte per value.
  size_t offset = 0;
  for (const auto& e : entries) {
    size_t n = 1;
    for (auto d : e["shape"]) n *= d.get<size_t>();
    const std::string name = e["name"];
    if (name == "dense0/conv0/filters" || name == "dense2/conv1/bias" || name == "fc/bias") {
      const double scale = e["quantization"]["scale"], min = e["quantization"]["min"];
      const auto& values = w.at(name).values;
      for (size_t i : {size_t(0), size_t(1), n / 2, n - 1}) {
        EXPECT_NEAR(values[i], bytes[offset + i] * scale + min, 1e-6) << name << "[" << i << "]";
      }
    }
    offset += n;
  }
  EXPECT_EQ(offset, bytes.size());
  // A known value: the first filter tap of the first layer.
  EXPECT_NEAR(w.at("dense0/conv0/filters").values[0], bytes[0] * 0.004853619781194949 - 0.5872879935245888, 1e-6);
}

TEST(TfjsWeights, ReadsUnquantisedFloatsAndUint16AcrossTwoShards) {
  const TempDir tmp("hicomex-tfjs-plain");
  const std::string dir = tmp.str();
  const float f[3] = {1.5f, -2.25f, 3.0f};
  std::string a(reinterpret_cast<const char*>(f), sizeof f);
  const uint16_t q[2] = {0, 1000};
  std::string b(reinterpret_cast<const char*>(q), sizeof q);
  // Split the stream mid-tensor: shards are one byte stream.
  write_file(dir + "/s1.bin", a.substr(0, 5));
  write_file(dir + "/s2.bin", a.substr(5) + b);
  write_file(dir + "/m.json", R"([{"paths": ["s1.bin", "s2.bin"], "weights": [
      {"name": "f", "shape": [3], "dtype": "float32"},
      {"name": "q", "shape": [2, 1], "dtype": "float32",
       "quantization": {"dtype": "uint16", "scale": 0.5, "min": -1.0}}]}])");
  const auto w = TfjsWeights::load(dir + "/m.json");
  EXPECT_EQ(w.at("f").values, (std::vector<float>{1.5f, -2.25f, 3.0f}));
  EXPECT_EQ(w.at("q").values, (std::vector<float>{-1.0f, 499.0f}));
}

TEST(TfjsWeights, NamesTheShardWhenItIsTruncated) {
  const TempDir tmp("hicomex-tfjs-truncated");
  const std::string dir = tmp.str();
  std::filesystem::copy_file(hicomex::face_model_path(kManifest), dir + "/" + kManifest);
  auto bytes = read_bytes(hicomex::face_model_path("face_landmark_68_model.bin"));
  write_file(dir + "/face_landmark_68_model.bin", std::string(bytes.begin(), bytes.begin() + bytes.size() / 2));
  const std::string msg = error_of(dir + "/" + kManifest);
  EXPECT_NE(msg.find(dir + "/face_landmark_68_model.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(TfjsWeights, NamesTheManifestWhenItsJsonIsBroken) {
  const TempDir tmp("hicomex-tfjs-badjson");
  const std::string dir = tmp.str();
  write_file(dir + "/m.json", "[{\"paths\": [\"x.bin\"], \"weights\": [");
  const std::string msg = error_of(dir + "/m.json");
  EXPECT_NE(msg.find(dir + "/m.json"), std::string::npos) << msg;
}

TEST(TfjsWeights, NamesAMissingShardAndAMissingManifest) {
  const TempDir tmp("hicomex-tfjs-noshard");
  const std::string dir = tmp.str();
  write_file(dir + "/m.json", R"([{"paths": ["gone.bin"], "weights": []}])");
  EXPECT_NE(error_of(dir + "/m.json").find(dir + "/gone.bin"), std::string::npos);
  EXPECT_NE(error_of(dir + "/nothing.json").find(dir + "/nothing.json"), std::string::npos);
}

TEST(TfjsWeights, NamesAMissingTensorAndTheManifest) {
  const auto w = TfjsWeights::load(hicomex::face_model_path(kManifest));
  try {
    w.at("dense4/conv0/bias");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("dense4/conv0/bias"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(kManifest), std::string::npos);
  }
}

TEST(TfjsWeights, RejectsTrailingBytesTheManifestDoesNotDescribe) {
  const TempDir tmp("hicomex-tfjs-trailing");
  const std::string dir = tmp.str();
  write_file(dir + "/s.bin", std::string(5, '\0'));
  write_file(dir + "/m.json", R"([{"paths": ["s.bin"], "weights": [
      {"name": "f", "shape": [1], "dtype": "float32"}]}])");
  EXPECT_NE(error_of(dir + "/m.json").find(dir + "/s.bin"), std::string::npos);
}
