// The safetensors container: bit-exact round trips, the byte layout of the
// spec (checked against hand-assembled bytes, not only against ourselves), and
// one test per malformed-file case, each on a real file in a temporary dir.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "hicomex/safetensors.h"
#include "temp_dir.h"

namespace hicomex {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

TensorRecord tensor(const std::string& name, DType dtype, std::vector<std::int64_t> shape, unsigned seed = 1) {
  TensorRecord t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.data = random_bytes(static_cast<std::size_t>(t.numel()) * dtype_size(dtype), seed);
  return t;
}

// The 8-byte little-endian length, the header text, then the data buffer.
Bytes assemble(std::uint64_t header_len, const std::string& header, const Bytes& buffer) {
  Bytes b;
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(header_len >> (8 * i)));
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), buffer.begin(), buffer.end());
  return b;
}
Bytes assemble(const std::string& header, const Bytes& buffer) { return assemble(header.size(), header, buffer); }

void expect_same(const SafetensorsFile& a, const SafetensorsFile& b) {
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (std::size_t i = 0; i < a.tensors.size(); ++i) {
    SCOPED_TRACE(a.tensors[i].name);
    EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
    EXPECT_EQ(a.tensors[i].dtype, b.tensors[i].dtype);
    EXPECT_EQ(a.tensors[i].shape, b.tensors[i].shape);
    EXPECT_EQ(a.tensors[i].data, b.tensors[i].data);
  }
}

class Safetensors : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_bytes(const Bytes& bytes, const std::string& name = "bad.safetensors") {
    const std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  static Bytes file_bytes(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  // The message of the WeightsError that reading `p` throws; it must start with the path.
  static std::string rejection(const std::string& p) {
    try {
      read_safetensors(p);
    } catch (const WeightsError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << "message does not start with the path: " << msg;
      return msg;
    }
    ADD_FAILURE() << p << " was accepted";
    return {};
  }

  void expect_rejected(const Bytes& bytes, const std::string& phrase) {
    const std::string msg = rejection(write_bytes(bytes));
    EXPECT_NE(msg.find(phrase), std::string::npos) << "expected \"" << phrase << "\" in: " << msg;
  }
  void expect_rejected(const std::string& header, const Bytes& buffer, const std::string& phrase) {
    expect_rejected(assemble(header, buffer), phrase);
  }

  // Writing must fail with a message that starts with the path and says `phrase`.
  static void expect_write_rejected(const std::string& p, const SafetensorsFile& f, const std::string& phrase) {
    try {
      write_safetensors(p, f);
      ADD_FAILURE() << p << " was written";
    } catch (const WeightsError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
      EXPECT_NE(msg.find(phrase), std::string::npos) << "expected \"" << phrase << "\" in: " << msg;
    }
  }

  // A fresh folder per test, removed after it.
  const hicomex::test::TempDir tmp_{"hicomex-io"};
  const fs::path dir_ = tmp_.path();
};

const Bytes kEight(8, 0x11);

// ---- round trips ---------------------------------------------------------

TEST_F(Safetensors, RoundTripIsBitExactForEveryDtype) {
  SafetensorsFile f;
  f.metadata = {{"options", R"({"heads": 4, "beta": 0.125})"},
                {"commit", "46fedd1"},
                {"empty", ""},
                {"multi line \"quoted\"", "a\nb\tc \\ d"},
                {"unicode",
                 "Gesichtsausdr\xc3\xbc"
                 "cke \xe9\xa1\x94"}};
  f.tensors = {tensor("layer.0.weight", DType::F32, {2, 3}, 1),
               tensor("f64", DType::F64, {4}, 2),
               tensor("f16", DType::F16, {3, 1}, 3),
               tensor("bf16", DType::BF16, {5}, 4),
               tensor("i64", DType::I64, {2}, 5),
               tensor("i32", DType::I32, {1, 1, 1}, 6),
               tensor("i16", DType::I16, {7}, 7),
               tensor("i8", DType::I8, {3}, 8),
               tensor("u8", DType::U8, {9}, 9),
               tensor("bool", DType::BOOL, {2, 2}, 10),
               tensor("name with \"quotes\" and \xc3\xbc", DType::F32, {1}, 11)};
  const std::string p = path("model.safetensors");
  write_safetensors(p, f);
  const SafetensorsFile back = read_safetensors(p);
  expect_same(f, back);
  EXPECT_EQ(serialise_safetensors(back), file_bytes(p)) << "re-serialising changes the bytes";
}

TEST_F(Safetensors, RoundTripKeepsEmptyTensorsAndScalars) {
  SafetensorsFile f;
  f.tensors = {tensor("empty_first", DType::F32, {0}), tensor("scalar", DType::F32, {}, 2),
               tensor("empty_2d", DType::U8, {0, 5}), tensor("bool_scalar", DType::BOOL, {}, 3),
               tensor("empty_last", DType::I64, {3, 0})};
  const std::string p = path("m.safetensors");
  write_safetensors(p, f);
  const SafetensorsFile back = read_safetensors(p);
  expect_same(f, back);
  EXPECT_EQ(back.find("scalar")->numel(), 1);
  EXPECT_EQ(back.find("scalar")->data.size(), 4u);
  EXPECT_EQ(back.find("empty_2d")->numel(), 0);
  EXPECT_TRUE(back.find("empty_2d")->data.empty());
}

TEST_F(Safetensors, RoundTripKeepsTheWritersTensorOrder) {
  SafetensorsFile f;
  f.tensors = {tensor("z", DType::F32, {2}), tensor("zz_empty", DType::F32, {0}), tensor("a_empty", DType::F32, {0}),
               tensor("a", DType::I8, {3}), tensor("m", DType::F64, {1})};
  const std::string p = path("m.safetensors");
  write_safetensors(p, f);
  expect_same(f, read_safetensors(p));
}

TEST_F(Safetensors, RoundTripOfAFileWithNothingInIt) {
  const std::string p = path("m.safetensors");
  write_safetensors(p, SafetensorsFile{});
  const SafetensorsFile back = read_safetensors(p);
  EXPECT_TRUE(back.metadata.empty());
  EXPECT_TRUE(back.tensors.empty());
}

TEST_F(Safetensors, ReadsTensorsInOffsetOrderWhateverTheHeaderOrder) {
  const SafetensorsFile f =
      read_safetensors(write_bytes(assemble(R"({"second":{"dtype":"U8","shape":[2],"data_offsets":[1,3]},)"
                                            R"("first":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                                            {7, 8, 9})));
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].name, "first");
  EXPECT_EQ(f.tensors[0].data, (Bytes{7}));
  EXPECT_EQ(f.tensors[1].name, "second");
  EXPECT_EQ(f.tensors[1].data, (Bytes{8, 9}));
}

// ---- the layout of the spec, byte by byte ----------------------------------

TEST_F(Safetensors, ParsesAHandAssembledFile) {
  // A 144-byte header (138 bytes of JSON, 6 spaces of padding) holding an F32 [2]
  // tensor and an I16 scalar; buffer = 1.0f, -2.0f, 0x1234, all little-endian.
  const char header[] =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"I16\",\"shape\":[],\"data_offsets\":[8,10]}}      ";
  static_assert(sizeof(header) - 1 == 0x90, "header length written below");
  const std::uint8_t length[8] = {0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  const std::uint8_t buffer[10] = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x34, 0x12};
  Bytes bytes(std::begin(length), std::end(length));
  for (std::size_t i = 0; i + 1 < sizeof(header); ++i) bytes.push_back(static_cast<std::uint8_t>(header[i]));
  for (std::uint8_t b : buffer) bytes.push_back(b);

  const SafetensorsFile f = read_safetensors(write_bytes(bytes, "hand.safetensors"));
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(f.tensors.size(), 2u);
  const TensorRecord* a = f.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::F32);
  EXPECT_EQ(a->shape, (std::vector<std::int64_t>{2}));
  float values[2];
  ASSERT_EQ(a->data.size(), sizeof(values));
  std::memcpy(values, a->data.data(), sizeof(values));  // host is little-endian (x86/ARM)
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -2.0f);
  const TensorRecord* b = f.find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, DType::I16);
  EXPECT_TRUE(b->shape.empty());
  EXPECT_EQ(b->data[0] | (b->data[1] << 8), 0x1234);
}

TEST_F(Safetensors, WritesTheLayoutOfTheSpecByteForByte) {
  SafetensorsFile f;
  f.metadata = {{"format", "pt"}};
  TensorRecord a;
  a.name = "a";
  a.dtype = DType::F32;
  a.shape = {2};
  a.data = {0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0};
  f.tensors = {a};
  const std::string p = path("spec.safetensors");
  write_safetensors(p, f);
  // 85 bytes of JSON padded with 3 spaces to 88 = 0x58.
  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ";
  Bytes expected = {0x58, 0, 0, 0, 0, 0, 0, 0};
  expected.insert(expected.end(), header.begin(), header.end());
  expected.insert(expected.end(), a.data.begin(), a.data.end());
  EXPECT_EQ(file_bytes(p), expected);
}

TEST_F(Safetensors, PadsTheHeaderWithSpacesToAMultipleOfEight) {
  for (std::size_t len = 1; len <= 9; ++len) {
    SafetensorsFile f;
    f.tensors = {tensor(std::string(len, 'n'), DType::U8, {3})};
    const Bytes b = serialise_safetensors(f);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | b[static_cast<std::size_t>(i)];
    EXPECT_EQ(n % 8, 0u) << "name length " << len;
    EXPECT_EQ(b[8], '{');
    const std::string text(b.begin() + 8, b.begin() + 8 + static_cast<std::ptrdiff_t>(n));
    const auto close = text.find_last_of('}');
    EXPECT_EQ(text.find_first_not_of(' ', close + 1), std::string::npos) << text;
    EXPECT_LT(text.size() - close - 1, 8u);
    EXPECT_EQ(b.size(), 8 + n + 3);
  }
}

TEST_F(Safetensors, AcceptsAPaddedHeaderWithNoMetadataAndNoTensors) {
  const SafetensorsFile f = read_safetensors(write_bytes(assemble("{}      ", {})));
  EXPECT_TRUE(f.metadata.empty());
  EXPECT_TRUE(f.tensors.empty());
}

// ---- the file itself ---------------------------------------------------------

TEST_F(Safetensors, RejectsAMissingFile) {
  const std::string msg = rejection(path("nope.safetensors"));
  EXPECT_NE(msg.find("cannot open file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file"), std::string::npos) << msg;
}

TEST_F(Safetensors, RejectsADirectory) {
  fs::create_directory(path("dir.safetensors"));
  EXPECT_NE(rejection(path("dir.safetensors")).find("not a regular file"), std::string::npos);
}

TEST_F(Safetensors, RejectsAnEmptyFile) {
  expect_rejected(Bytes{}, "file is 0 bytes, too short for the 8-byte header length");
}

TEST_F(Safetensors, RejectsAFileShorterThanEightBytes) {
  expect_rejected(Bytes{2, 0, 0, 0, 0}, "file is 5 bytes, too short for the 8-byte header length");
}

TEST_F(Safetensors, RejectsHeaderLongerThanFile) {
  expect_rejected(assemble(1000, "{}", {}),
                  "header length 1000 exceeds the 2 bytes after the 8-byte length field (file size 10)");
}

TEST_F(Safetensors, RejectsHeaderLongerThanTheLimit) {
  expect_rejected(assemble(kMaxSafetensorsHeader + 1, "{}", {}),
                  "header length 104857601 exceeds the limit of 104857600 bytes");
}

TEST_F(Safetensors, RejectsHeaderLengthNearTheLargestU64WithoutOverflow) {
  expect_rejected(assemble(~std::uint64_t{0}, "{}", {}), "exceeds the limit");
  expect_rejected(assemble(~std::uint64_t{0} - 7, "{}", {}), "exceeds the limit");
}

TEST_F(Safetensors, RejectsATruncatedFile) {
  SafetensorsFile f;
  f.tensors = {tensor("w", DType::F32, {4})};
  Bytes b = serialise_safetensors(f);
  b.resize(b.size() - 3);
  expect_rejected(b,
                  "tensor \"w\": data_offsets [0, 16] run past the end of the 13-byte data buffer (truncated file?)");
}

TEST_F(Safetensors, RejectsEveryTruncationOfAValidFile) {
  SafetensorsFile f;
  f.metadata = {{"k", "v"}};
  f.tensors = {tensor("a", DType::F32, {2, 2}), tensor("b", DType::I8, {3})};
  const Bytes full = serialise_safetensors(f);
  for (std::size_t n = 0; n < full.size(); ++n) {
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      parse_safetensors(cut, "cut");
      ADD_FAILURE() << "prefix of " << n << " bytes accepted";
    } catch (const WeightsError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cut: ", 0), 0u) << e.what();
    }
  }
  EXPECT_EQ(parse_safetensors(full, "full").tensors.size(), 2u);
}

// ---- the header ---------------------------------------------------------------

TEST_F(Safetensors, RejectsAnEmptyHeader) { expect_rejected("", {}, "header is not valid JSON"); }

TEST_F(Safetensors, RejectsAHeaderThatIsNotJson) { expect_rejected("{not json}", {}, "header is not valid JSON"); }

TEST_F(Safetensors, RejectsAHeaderThatIsNotAnObject) { expect_rejected("[1, 2]  ", {}, "header is not a JSON object"); }

TEST_F(Safetensors, RejectsAHeaderWithInvalidUtf8) {
  expect_rejected("{\"\xff\xfe\":{}}", {}, "header is not valid JSON");
}

TEST_F(Safetensors, RejectsDuplicateTensorNames) {
  expect_rejected(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                  R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                  {1, 2}, "duplicate key \"w\" in header");
}

TEST_F(Safetensors, RejectsADuplicateFieldInsideATensorEntry) {
  expect_rejected(R"({"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})", {1},
                  "duplicate key \"dtype\" in header");
}

TEST_F(Safetensors, RejectsMetadataThatIsNotAnObject) {
  expect_rejected(R"({"__metadata__":"pt"})", {}, "__metadata__ is not an object of string values");
}

TEST_F(Safetensors, RejectsMetadataWithANonStringValue) {
  expect_rejected(R"({"__metadata__":{"format":"pt","epochs":3}})", {},
                  "__metadata__ value of \"epochs\" is not a string");
}

// ---- tensor entries -------------------------------------------------------------

TEST_F(Safetensors, RejectsATensorEntryThatIsNotAnObject) {
  expect_rejected(R"({"w":[0,8]})", kEight, "tensor \"w\": entry is not a JSON object");
}

TEST_F(Safetensors, RejectsATensorWithoutDtype) {
  expect_rejected(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", kEight, "tensor \"w\": missing \"dtype\"");
}

TEST_F(Safetensors, RejectsATensorWithoutShape) {
  expect_rejected(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", kEight, "tensor \"w\": missing \"shape\"");
}

TEST_F(Safetensors, RejectsATensorWithoutDataOffsets) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2]}})", kEight, "tensor \"w\": missing \"data_offsets\"");
}

TEST_F(Safetensors, RejectsADtypeThatIsNotAString) {
  expect_rejected(R"({"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", kEight,
                  "tensor \"w\": \"dtype\" is not a string");
}

TEST_F(Safetensors, RejectsAnUnknownDtype) {
  expect_rejected(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", kEight,
                  "tensor \"w\": unknown dtype \"Q4\"");
}

TEST_F(Safetensors, RejectsDtypeNamesInTheWrongCase) {
  expect_rejected(R"({"w":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", kEight, "unknown dtype \"f32\"");
}

TEST_F(Safetensors, RejectsAShapeThatIsNotAnArray) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", kEight,
                  "tensor \"w\": \"shape\" is not an array of integers");
}

TEST_F(Safetensors, RejectsAFractionalOrTextDimension) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", kEight,
                  "\"shape\" is not an array of integers");
  expect_rejected(R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", kEight,
                  "\"shape\" is not an array of integers");
}

TEST_F(Safetensors, RejectsANegativeDimension) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[-2,-1],"data_offsets":[0,8]}})", kEight,
                  "tensor \"w\": negative dimension -2 in shape");
}

TEST_F(Safetensors, RejectsADimensionBeyondInt64) {
  expect_rejected(R"({"w":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,8]}})", kEight,
                  "dimension 9223372036854775808 is too large");
}

TEST_F(Safetensors, RejectsAShapeWhoseByteSizeOverflows) {
  // 2^62 * 4 elements * 4 bytes wraps to 0 in 64 bits; it must not pass as an empty tensor.
  expect_rejected(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", {},
                  "shape [4611686018427387904,4] is too large (byte size overflows)");
}

TEST_F(Safetensors, RejectsAShapeThatDisagreesWithTheByteSpan) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", kEight,
                  "tensor \"w\": shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8");
}

TEST_F(Safetensors, RejectsDataOffsetsThatAreNotAPair) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", kEight,
                  "\"data_offsets\" is not [begin, end]");
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", kEight,
                  "\"data_offsets\" is not [begin, end]");
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":{"0":8}}})", kEight,
                  "\"data_offsets\" is not [begin, end]");
}

TEST_F(Safetensors, RejectsNegativeOrFractionalDataOffsets) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[-1,7]}})", kEight,
                  "\"data_offsets\" is not [begin, end] with non-negative integers");
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}})", kEight,
                  "\"data_offsets\" is not [begin, end] with non-negative integers");
}

TEST_F(Safetensors, RejectsBeginAfterEnd) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", kEight,
                  "tensor \"w\": data_offsets [8, 0] has begin after end");
}

TEST_F(Safetensors, RejectsOffsetsOutsideTheBuffer) {
  expect_rejected(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", kEight,
                  "tensor \"w\": data_offsets [4, 12] run past the end of the 8-byte data buffer");
}

TEST_F(Safetensors, RejectsAnOffsetNearTheLargestU64WithoutOverflow) {
  expect_rejected(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", kEight,
                  "has begin after end");
  expect_rejected(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[18446744073709551614,18446744073709551615]}})",
                  kEight, "run past the end of the 8-byte data buffer");
}

TEST_F(Safetensors, RejectsOverlappingTensors) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                  Bytes(12, 0), "tensor \"b\" overlaps tensor \"a\" (begins at 4, before 8)");
}

TEST_F(Safetensors, RejectsTwoTensorsSharingTheSameBytes) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                  kEight, "overlaps tensor");
}

TEST_F(Safetensors, RejectsAGapBetweenTensors) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                  Bytes(12, 0), "gap of 4 bytes before tensor \"b\" at offset 4");
}

TEST_F(Safetensors, RejectsABufferThatDoesNotStartAtTheFirstTensor) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", kEight,
                  "gap of 4 bytes before tensor \"a\" at offset 0");
}

TEST_F(Safetensors, RejectsTrailingBytesAfterTheLastTensor) {
  expect_rejected(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", Bytes(12, 0),
                  "4 trailing bytes after the last tensor");
}

TEST_F(Safetensors, RejectsABufferWithNoTensorsToHoldIt) {
  expect_rejected("{}", Bytes(3, 0), "3 trailing bytes after the last tensor");
}

// ---- writing --------------------------------------------------------------------

TEST_F(Safetensors, RefusesToWriteDataThatDisagreesWithTheShape) {
  SafetensorsFile f;
  f.tensors = {tensor("w", DType::F32, {2})};
  f.tensors[0].data.pop_back();
  const std::string p = path("w.safetensors");
  expect_write_rejected(p, f, "tensor \"w\": data has 7 bytes, shape [2] of F32 needs 8");
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(Safetensors, RefusesToWriteDuplicateNames) {
  SafetensorsFile f;
  f.tensors = {tensor("w", DType::F32, {2}), tensor("w", DType::U8, {1})};
  expect_write_rejected(path("w.safetensors"), f, "tensor \"w\": duplicate tensor name");
}

TEST_F(Safetensors, RefusesToWriteATensorNamedLikeTheMetadata) {
  SafetensorsFile f;
  f.tensors = {tensor("__metadata__", DType::U8, {1})};
  expect_write_rejected(path("w.safetensors"), f, "reserved for metadata");
}

TEST_F(Safetensors, RefusesToWriteANegativeDimension) {
  SafetensorsFile f;
  TensorRecord t;
  t.name = "w";
  t.shape = {-1, 2};
  f.tensors = {t};
  expect_write_rejected(path("w.safetensors"), f, "negative dimension in shape [-1,2]");
}

TEST_F(Safetensors, RefusesToWriteANameThatIsNotUtf8) {
  SafetensorsFile f;
  f.tensors = {tensor("bad\xff", DType::U8, {1})};
  expect_write_rejected(path("w.safetensors"), f, "not valid UTF-8");
}

TEST_F(Safetensors, NamesThePathWhenTheDirectoryIsMissing) {
  expect_write_rejected(path("missing/dir/w.safetensors"), SafetensorsFile{}, "cannot create temporary file");
}

TEST_F(Safetensors, ReplacesAnExistingFileAndLeavesNoTemporaryFile) {
  const std::string p = path("w.safetensors");
  SafetensorsFile first, second;
  first.tensors = {tensor("old", DType::F32, {100})};
  second.tensors = {tensor("new", DType::U8, {3})};
  write_safetensors(p, first);
  write_safetensors(p, second);
  expect_same(second, read_safetensors(p));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
}

TEST_F(Safetensors, LeavesNoTemporaryFileWhenTheRenameFails) {
  const std::string p = path("occupied");
  fs::create_directories(fs::path(p) / "child");  // a non-empty directory cannot be replaced
  expect_write_rejected(p, SafetensorsFile{}, "cannot rename");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
}

// ---- dtypes and records -----------------------------------------------------------

TEST(SafetensorsDtype, NamesAndSizesFollowTheFormat) {
  const std::vector<std::tuple<DType, std::string, std::size_t>> table = {
      {DType::F64, "F64", 8}, {DType::F32, "F32", 4},  {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
      {DType::I64, "I64", 8}, {DType::I32, "I32", 4},  {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
      {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1}};
  for (const auto& [dtype, name, size] : table) {
    EXPECT_EQ(to_string(dtype), name);
    EXPECT_EQ(dtype_from_string(name), dtype);
    EXPECT_EQ(dtype_size(dtype), size) << name;
  }
}

TEST(SafetensorsDtype, UnknownNameThrowsInvalidArgument) {
  EXPECT_THROW(dtype_from_string("F8_E4M3"), std::invalid_argument);
  EXPECT_THROW(dtype_from_string(""), std::invalid_argument);
}

TEST(SafetensorsRecord, ScalarHasOneElementAndZeroDimensionHasNone) {
  TensorRecord t;
  EXPECT_EQ(t.numel(), 1);
  t.shape = {3, 0, 2};
  EXPECT_EQ(t.numel(), 0);
  t.shape = {3, 4, 2};
  EXPECT_EQ(t.numel(), 24);
}

TEST(SafetensorsRecord, FindReturnsNullForAnUnknownName) {
  SafetensorsFile f;
  f.tensors = {tensor("a", DType::U8, {1})};
  EXPECT_NE(f.find("a"), nullptr);
  EXPECT_EQ(f.find("b"), nullptr);
}

}  // namespace
}  // namespace hicomex
