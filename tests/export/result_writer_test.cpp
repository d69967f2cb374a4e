// ResultWriter: OpenFace-compatible CSV and JSON lines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hicomex/result_writer.h"
#include "temp_dir.h"
#include "text_files.h"

namespace fs = std::filesystem;
using hicomex::FaceResult;
using hicomex::ResultWriter;
using hicomex::test::read_lines;
using hicomex::test::TempDir;

namespace {

// A face from a model with an intensity head (calibrated and raw intensities).
FaceResult make_face(int track_id, float shift) {
  FaceResult f;
  f.track_id = track_id;
  f.box = {100.f + shift, 80.f, 120.f, 140.f};
  f.detection_score = 0.93f;
  f.confidence = 0.87f;
  f.success = true;
  for (int i = 0; i < 68; ++i) f.landmarks[i] = {110.f + i + shift, 90.f + 2 * i};
  f.pose = {10.f, -20.f, 5.f, 1.5f, -2.5f, 600.f};
  f.au_ids = {1, 2, 12};
  f.au_probability = {0.125f, 0.5f, 0.91f};
  f.au_occurrence = {0, 1, 1};
  f.au_intensity = {0.f, 1.25f, 3.5f};
  f.au_intensity_raw = {0.5f, 1.75f, 4.f};
  return f;
}

// The same face from an occurrence-only model: no intensities.
FaceResult make_occurrence_face(int track_id, float shift) {
  FaceResult f = make_face(track_id, shift);
  f.au_intensity.clear();
  f.au_intensity_raw.clear();
  return f;
}

ResultWriter::Options with_intensity(ResultWriter::Intensity intensity, bool probabilities = false) {
  ResultWriter::Options o;
  o.intensity = intensity;
  o.probabilities = probabilities;
  return o;
}

bool has_column(const std::vector<std::string>& header, const std::string& name) {
  return std::find(header.begin(), header.end(), name) != header.end();
}

// Splits on ", " the way OpenFace readers do (pandas with skipinitialspace).
std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = line.find(", ", start);
    out.push_back(line.substr(start, pos - start));
    if (pos == std::string::npos) break;
    start = pos + 2;
  }
  return out;
}

int column(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  ADD_FAILURE() << "no column " << name;
  return 0;
}

}  // namespace

TEST(ResultWriter, CsvHeaderHasOpenFaceColumnsInOrder) {
  auto h = split_row(ResultWriter::csv_header({1, 12}));
  ASSERT_EQ(h.size(), 5u + 6u + 136u + 4u);
  EXPECT_EQ(h[0], "frame");
  EXPECT_EQ(h[1], "face_id");
  EXPECT_EQ(h[2], "timestamp");
  EXPECT_EQ(h[3], "confidence");
  EXPECT_EQ(h[4], "success");
  EXPECT_EQ(h[5], "pose_Tx");
  EXPECT_EQ(h[10], "pose_Rz");
  EXPECT_EQ(h[11], "x_0");
  EXPECT_EQ(h[78], "x_67");
  EXPECT_EQ(h[79], "y_0");
  EXPECT_EQ(h[146], "y_67");
  EXPECT_EQ(h[147], "AU01_r");
  EXPECT_EQ(h[148], "AU12_r");
  EXPECT_EQ(h[149], "AU01_c");
  EXPECT_EQ(h[150], "AU12_c");
}

TEST(ResultWriter, CsvWritesOneCompleteRowPerFaceThatParsesBack) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  {
    ResultWriter w;
    w.open(path, ResultWriter::Format::Csv, false);
    w.write_frame(1, 0.0, {make_face(0, 0.f), make_face(3, 200.f)});
    w.write_frame(2, 1.0 / 30.0, {make_face(0, 1.f)});
    w.write_frame(3, 2.0 / 30.0, {});
    EXPECT_EQ(w.rows_written(), 3);
    w.close();
  }
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 4u);  // header + 3 faces
  auto header = split_row(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) EXPECT_EQ(split_row(lines[i]).size(), header.size()) << lines[i];

  auto row = split_row(lines[2]);
  EXPECT_EQ(row[column(header, "frame")], "1");
  EXPECT_EQ(row[column(header, "face_id")], "3");
  EXPECT_EQ(row[column(header, "timestamp")], "0.000");
  EXPECT_EQ(row[column(header, "success")], "1");
  EXPECT_DOUBLE_EQ(std::stod(row[column(header, "confidence")]), 0.87);
  EXPECT_DOUBLE_EQ(std::stod(row[column(header, "pose_Tz")]), 600.0);
  // Pose angles are radians, like OpenFace: 10 deg pitch -> 0.175 rad.
  EXPECT_NEAR(std::stod(row[column(header, "pose_Rx")]), 10.0 * M_PI / 180.0, 1e-3);
  EXPECT_NEAR(std::stod(row[column(header, "pose_Ry")]), -20.0 * M_PI / 180.0, 1e-3);
  EXPECT_DOUBLE_EQ(std::stod(row[column(header, "x_5")]), 315.0);
  EXPECT_DOUBLE_EQ(std::stod(row[column(header, "y_67")]), 224.0);
  // AUxx_r is the intensity (0-5, two decimals, as OpenFace writes it).
  EXPECT_EQ(row[column(header, "AU01_r")], "0.00");
  EXPECT_EQ(row[column(header, "AU02_r")], "1.25");
  EXPECT_EQ(row[column(header, "AU12_r")], "3.50");
  EXPECT_FALSE(has_column(header, "AU12_p")) << "probabilities only when asked";
  EXPECT_EQ(row[column(header, "AU01_c")], "0.0");
  EXPECT_EQ(row[column(header, "AU12_c")], "1.0");
  EXPECT_EQ(split_row(lines[3])[column(header, "timestamp")], "0.033");
}

TEST(ResultWriter, FixesAuColumnsFromTheIdsGivenAtOpen) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false, {4, 6}, with_intensity(ResultWriter::Intensity::Present));
  w.flush();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], ResultWriter::csv_header({4, 6}));
  EXPECT_THROW(w.write_frame(1, 0.0, {make_face(0, 0.f)}), std::runtime_error);
}

TEST(ResultWriter, WithAutomaticIntensityTheFirstFacesDecideTheHeader) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false, {1, 2, 12});
  w.flush();
  EXPECT_TRUE(read_lines(path).empty()) << "no header before the intensity is known";
  EXPECT_FALSE(w.intensity().has_value());
  w.write_frame(1, 0.0, {});  // no faces: still undecided
  EXPECT_FALSE(w.intensity().has_value());
  w.write_frame(2, 0.1, {make_face(0, 0.f)});
  ASSERT_TRUE(w.intensity().has_value());
  EXPECT_TRUE(*w.intensity());
  EXPECT_THROW(w.set_intensity(false), std::runtime_error);
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], ResultWriter::csv_header({1, 2, 12}, true));
}

TEST(ResultWriter, AnOccurrenceOnlyModelGetsNoIntensityColumnsButProbabilities) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false);
  w.write_frame(1, 0.0, {make_occurrence_face(0, 0.f)});
  ASSERT_TRUE(w.intensity().has_value());
  EXPECT_FALSE(*w.intensity());
  EXPECT_TRUE(w.probability_columns());
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  const auto header = split_row(lines[0]);
  EXPECT_EQ(lines[0], ResultWriter::csv_header({1, 2, 12}, false));
  for (const auto& h : header) EXPECT_NE(h.substr(h.size() - 2), "_r") << "probabilities are never written as _r";
  const auto row = split_row(lines[1]);
  ASSERT_EQ(row.size(), header.size());
  // _c first, then _p, as with an intensity model asked for probabilities.
  EXPECT_LT(column(header, "AU12_c"), column(header, "AU01_p"));
  EXPECT_EQ(row[column(header, "AU01_p")], "0.125");
  EXPECT_EQ(row[column(header, "AU12_p")], "0.910");
  EXPECT_EQ(row[column(header, "AU02_c")], "1.0");
}

TEST(ResultWriter, ProbabilityColumnsFollowThePresenceColumnsWhenAsked) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  ResultWriter w;
  ResultWriter::Options o;
  o.probabilities = true;
  w.open(path, ResultWriter::Format::Csv, false, {}, o);
  w.write_frame(1, 0.0, {make_face(0, 0.f)});
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  const auto header = split_row(lines[0]);
  EXPECT_EQ(lines[0], ResultWriter::csv_header({1, 2, 12}, true, true));
  ASSERT_EQ(header.size(), 5u + 6u + 136u + 9u);
  EXPECT_EQ(header[147], "AU01_r");
  EXPECT_EQ(header[150], "AU01_c");
  EXPECT_EQ(header[153], "AU01_p");
  EXPECT_EQ(header[155], "AU12_p");
  const auto row = split_row(lines[1]);
  EXPECT_EQ(row[column(header, "AU12_r")], "3.50");
  EXPECT_EQ(row[column(header, "AU12_p")], "0.910");
}

TEST(ResultWriter, IntensityColumnsOfAFaceWithoutIntensitiesAreZero) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false);
  w.write_frame(1, 0.0, {make_face(0, 0.f), make_occurrence_face(1, 0.f)});
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  const auto header = split_row(lines[0]);
  EXPECT_EQ(split_row(lines[2])[column(header, "AU12_r")], "0.00");
}

TEST(ResultWriter, RejectsIntensitiesOfTheWrongSize) {
  TempDir dir;
  ResultWriter w;
  w.open(dir.file("out.csv"), ResultWriter::Format::Csv, false);
  FaceResult bad = make_face(0, 0.f);
  bad.au_intensity.pop_back();
  EXPECT_THROW(w.write_frame(1, 0.0, {bad}), std::runtime_error);
}

TEST(ResultWriter, RejectsAFrameWhoseAuIdsDifferAndKeepsEarlierRows) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false);
  w.write_frame(1, 0.0, {make_face(0, 0.f)});
  FaceResult other = make_face(1, 0.f);
  other.au_ids = {1, 2, 4};
  EXPECT_THROW(w.write_frame(2, 0.1, {make_face(0, 0.f), other}), std::runtime_error);
  w.close();
  EXPECT_EQ(read_lines(path).size(), 2u);  // header + frame 1 only, no half frame
}

TEST(ResultWriter, WritesZerosForAFaceWithoutAuValues) {
  TempDir dir;
  const std::string path = dir.file("out.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false);
  FaceResult failed = make_face(2, 0.f);
  failed.success = false;
  failed.au_ids.clear();
  failed.au_probability.clear();
  failed.au_occurrence.clear();
  w.write_frame(1, 0.0, {failed, make_face(0, 0.f)});
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  auto header = split_row(lines[0]);
  auto row = split_row(lines[1]);
  ASSERT_EQ(row.size(), header.size());
  EXPECT_EQ(row[column(header, "success")], "0");
  EXPECT_EQ(row[column(header, "AU12_r")], "0.00");
  EXPECT_EQ(row[column(header, "AU12_c")], "0.0");
}

TEST(ResultWriter, RefusesToOverwriteAnExistingFileAndNamesIt) {
  TempDir dir;
  const std::string path = dir.file("exists.csv");
  std::ofstream(path) << "precious\n";
  ResultWriter w;
  try {
    w.open(path, ResultWriter::Format::Csv, false);
    FAIL() << "open did not refuse";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_FALSE(w.is_open());
  EXPECT_EQ(read_lines(path), std::vector<std::string>{"precious"});

  w.open(path, ResultWriter::Format::Csv, true);
  w.close();
  EXPECT_EQ(read_lines(path).size(), 1u);  // the header replaced the old content
}

TEST(ResultWriter, CreatesTheFileAtOpen) {
  TempDir dir;
  const std::string path = dir.file("created.jsonl");
  ResultWriter w;
  w.open(path, ResultWriter::Format::JsonLines, false);
  EXPECT_TRUE(fs::exists(path));
}

TEST(ResultWriter, ReportsAnUncreatableFileByPath) {
  ResultWriter w;
  const std::string path = "/nonexistent-dir/out.csv";
  try {
    w.open(path, ResultWriter::Format::Csv, false);
    FAIL() << "open did not fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(ResultWriter, JsonLinesHoldOneValidTypedObjectPerFace) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  ResultWriter w;
  w.open(path, ResultWriter::Format::JsonLines, false);
  w.write_frame(7, 0.25, {make_face(0, 0.f), make_face(5, 200.f)});
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  auto j = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(j["frame"], 7);
  EXPECT_EQ(j["face_id"], 5);
  EXPECT_DOUBLE_EQ(j["timestamp"].get<double>(), 0.25);
  EXPECT_EQ(j["success"], true);
  ASSERT_EQ(j["landmarks"].size(), 68u);
  EXPECT_DOUBLE_EQ(j["landmarks"][5][0].get<double>(), 315.0);
  EXPECT_DOUBLE_EQ(j["landmarks"][5][1].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["aus"]["AU12"]["p"].get<double>(), 0.91);
  EXPECT_EQ(j["aus"]["AU12"]["c"], 1);
  EXPECT_EQ(j["aus"]["AU01"]["c"], 0);
  EXPECT_DOUBLE_EQ(j["aus"]["AU12"]["i"].get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(j["aus"]["AU12"]["i_raw"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(j["aus"]["AU01"]["i"].get<double>(), 0.0);
  EXPECT_NEAR(j["pose"]["Ry"].get<double>(), -20.0 * M_PI / 180.0, 1e-3);
  EXPECT_EQ(j["box"].size(), 4u);
}

TEST(ResultWriter, JsonRecordsCarryTheSchemaVersionAndTheGivenWallClockTime) {
  TempDir dir;
  const std::string path = dir.file("stamped.jsonl");
  ResultWriter w;
  w.open(path, ResultWriter::Format::JsonLines, false);
  w.write_frame(3, 0.1, {make_face(2, 0.f)}, "2026-12-05T04:40:12.345Z");
  w.write_frame(4, 0.2, {make_face(2, 0.f)});  // no time given: now
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  auto a = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(a["schema"], "hicomex-results/1");
  EXPECT_EQ(a["utc"], "2026-12-05T04:40:12.345Z");
  auto b = nlohmann::json::parse(lines[1]);
  const std::string utc = b["utc"];
  // The year of the current time, in the ISO 8601 UTC form with milliseconds.
  ASSERT_EQ(utc.size(), 24u) << utc;
  EXPECT_EQ(utc[4], '-');
  EXPECT_EQ(utc[10], 'T');
  EXPECT_EQ(utc[19], '.');
  EXPECT_EQ(utc.back(), 'Z');
  EXPECT_EQ(utc.substr(0, 4), ResultWriter::utc_now().substr(0, 4));
}

TEST(ResultWriter, UtcIso8601FormatsMicrosecondsSinceTheEpoch) {
  EXPECT_EQ(ResultWriter::utc_iso8601(0), "1970-01-01T00:00:00.000Z");
  // 2026-12-05 04:40:12.345678 UTC
  EXPECT_EQ(ResultWriter::utc_iso8601(1796445612345678LL), "2026-12-05T04:40:12.345Z");
  EXPECT_EQ(ResultWriter::utc_iso8601(-1000), "1969-12-31T23:59:59.999Z");
}

TEST(ResultWriter, FrameRecordHoldsEveryFaceWithTheFaceRecordsFields) {
  ResultWriter::FrameStamp stamp;
  stamp.frame = 9;
  stamp.timestamp_s = 0.3;
  stamp.utc = "2026-12-05T00:00:00.000Z";
  stamp.model_id = "hicomex-test";
  const std::vector<int> ids = make_face(0, 0.f).au_ids;
  auto frame =
      nlohmann::json::parse(ResultWriter::frame_record_json(stamp, {make_face(0, 0.f), make_face(5, 200.f)}, ids));
  EXPECT_EQ(frame["schema"], "hicomex-results/1");
  EXPECT_EQ(frame["frame"], 9);
  EXPECT_DOUBLE_EQ(frame["timestamp"].get<double>(), 0.3);
  EXPECT_EQ(frame["model"], "hicomex-test");
  EXPECT_EQ(frame["au_ids"].get<std::vector<int>>(), ids);
  ASSERT_EQ(frame["faces"].size(), 2u);
  auto face = nlohmann::json::parse(ResultWriter::face_record_json(stamp, make_face(5, 200.f), ids));
  // The frame's face entry is the face record without the stamp.
  for (const char* key : {"schema", "frame", "timestamp", "utc", "model"}) face.erase(key);
  EXPECT_EQ(frame["faces"][1], face);
  EXPECT_EQ(frame["faces"][1]["face_id"], 5);
  EXPECT_EQ(frame["faces"][1]["aus"]["AU12"]["c"], 1);
  // No face: an empty list, still a valid record.
  auto empty = nlohmann::json::parse(ResultWriter::frame_record_json(stamp, {}, ids));
  EXPECT_TRUE(empty["faces"].is_array());
  EXPECT_EQ(empty["faces"].size(), 0u);
}

TEST(ResultWriter, JsonLinesOfAnOccurrenceOnlyModelHaveNoIntensityFields) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  ResultWriter w;
  w.open(path, ResultWriter::Format::JsonLines, false);
  w.write_frame(1, 0.0, {make_occurrence_face(0, 0.f)});
  EXPECT_EQ(w.intensity(), std::optional<bool>(false));
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  auto au = nlohmann::json::parse(lines[0])["aus"]["AU12"];
  EXPECT_DOUBLE_EQ(au["p"].get<double>(), 0.91);
  EXPECT_EQ(au["c"], 1);
  EXPECT_FALSE(au.contains("i"));
  EXPECT_FALSE(au.contains("i_raw"));
}

TEST(ResultWriter, AHeaderOnlyFileWithAuIdsButNoFaceHasNoIntensityColumns) {
  TempDir dir;
  const std::string path = dir.file("empty.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false, {4, 6});
  w.close();
  EXPECT_EQ(read_lines(path), std::vector<std::string>{ResultWriter::csv_header({4, 6}, false)});
}

TEST(ResultWriter, CloseIsIdempotentAndAHeaderOnlyFileStillParses) {
  TempDir dir;
  const std::string path = dir.file("empty.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false);
  w.close();
  w.close();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], ResultWriter::csv_header({}));
}

TEST(ResultWriter, FlushMakesRowsVisibleBeforeClose) {
  TempDir dir;
  const std::string path = dir.file("flushed.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false);
  w.write_frame(1, 0.0, {make_face(0, 0.f)});
  w.flush();
  EXPECT_EQ(read_lines(path).size(), 2u);
}

TEST(ResultWriter, ParsesFormatNames) {
  EXPECT_EQ(ResultWriter::format_from_string("csv"), ResultWriter::Format::Csv);
  EXPECT_EQ(ResultWriter::format_from_string("jsonl"), ResultWriter::Format::JsonLines);
  EXPECT_THROW(ResultWriter::format_from_string("xml"), std::invalid_argument);
}

#include <sys/resource.h>
#include <csignal>

TEST(ResultWriter, AShortWriteLeavesOnlyWholeLines) {
  // A file size limit makes write() stop part-way, as a full disk does.
  TempDir dir;
  const std::string path = dir.file("full.csv");
  ResultWriter w;
  w.open(path, ResultWriter::Format::Csv, false);
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 100000;  // not a line boundary
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  bool failed = false;
  std::string message;
  try {
    for (int frame = 1; frame <= 2000; ++frame) w.write_frame(frame, frame / 25.0, {make_face(1, frame % 7)});
    w.flush();
  } catch (const std::exception& e) {
    failed = true;
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(failed) << "the limit must stop the writer";
  EXPECT_NE(message.find(path), std::string::npos) << message;
  {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    ASSERT_GT(text.size(), 1000u);
    EXPECT_LT(text.size(), 100000u) << "cut back below the limit";
    EXPECT_EQ(text.back(), '\n') << "the file ends at a line boundary after the failed write";
  }
  // With room again, closing writes the records that were held back.
  w.close();
  const auto lines = read_lines(path);
  const auto header = split_row(lines[0]);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    ASSERT_EQ(split_row(lines[i]).size(), header.size()) << "line " << i;
    EXPECT_EQ(std::stol(split_row(lines[i])[0]), static_cast<long>(i)) << "line " << i;
  }
}

TEST(ResultWriter, DiscardRemovesTheFileButNeverADevice) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  ResultWriter w;
  w.open(path, ResultWriter::Format::JsonLines, false, {1, 12});
  EXPECT_EQ(w.frames_written(), 0);
  EXPECT_TRUE(fs::exists(path));
  w.discard();
  EXPECT_FALSE(w.is_open());
  EXPECT_FALSE(fs::exists(path));
  w.discard();  // idempotent

  // Frames are counted with or without faces.
  w.open(path, ResultWriter::Format::Csv, false);
  w.write_frame(0, 0.0, {make_face(0, 0.f)});
  w.write_frame(1, 0.04, {});
  EXPECT_EQ(w.frames_written(), 2);
  EXPECT_EQ(w.rows_written(), 1);
  w.close();

  // A device given as the location stays where it is.
  ResultWriter d;
  d.open("/dev/null", ResultWriter::Format::Csv, true, {1});
  d.discard();
  EXPECT_TRUE(fs::exists("/dev/null"));
}
