// hicomex-analyze end to end: an image folder and a short video in, an
// OpenFace-style CSV (or JSON lines) out; bad inputs give clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "../support/small_model.h"
#include "analyzer_fixtures.h"
#include "nn/weights_io.h"
#include "process.h"

using namespace hicomex::test;
namespace fs = std::filesystem;

namespace {

struct ToolRun {
  int status = -1;
  std::string errors;
};

// Runs the tool with `args` (a shell fragment) in a shell, capturing stderr.
ToolRun analyze(const std::string& args) {
  const RunResult result = run_shell(std::string(HICOMEX_ANALYZE_TOOL) + " " + args + " --threads 2 --device cpu");
  ToolRun r;
  r.status = result.status;
  r.errors = result.err;
  return r;
}

std::string model_arg() {
  return "--model " + write_small_model(process_temp_dir().file("hicomex_analyzer_small.safetensors"));
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      const size_t b = cell.find_first_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b));
    }
    rows.push_back(cells);
  }
  return rows;
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  ADD_FAILURE() << "no column " << name;
  return 0;
}

// 5 ids, 6 pose, 136 landmark coordinates, 12 AUs twice (the small model has
// no intensity head: AUxx_c and AUxx_p).
constexpr size_t kColumns = 5 + 6 + 136 + 2 * 12;

}  // namespace

TEST(AnalyzeTool, WritesOneCsvRowPerFaceOfAnImageFolder) {
  const TempDir tmp_folder("hicomex-analyze-folder");
  const std::string dir = tmp_folder.str();
  const cv::Mat grace = cv::imread(kGraceHopper);
  cv::Mat flipped;
  cv::flip(grace, flipped, 1);
  cv::imwrite(dir + "/a_grace.jpg", grace);
  fs::copy_file(kLandscape, dir + "/b_landscape.jpg");
  cv::imwrite(dir + "/c_grace_flipped.png", flipped);
  std::ofstream(dir + "/notes.txt") << "not an image";
  const TempDir tmp_folder_out("hicomex-analyze-folder_out");
  const std::string out = tmp_folder_out.str() + "/faces.csv";

  const ToolRun r = analyze(dir + " -o " + out + " " + model_arg());
  ASSERT_EQ(r.status, 0) << r.errors;
  const auto rows = read_csv(out);
  ASSERT_EQ(rows.size(), 3u) << "header + one face in each Grace Hopper image";
  EXPECT_EQ(rows[0].size(), kColumns);
  // An occurrence-only model: probabilities as AUxx_p, never under AUxx_r.
  EXPECT_EQ(rows[0][column(rows[0], "AU12_p")], "AU12_p");
  for (const std::string& h : rows[0]) EXPECT_NE(h.back(), 'r') << h << ": no intensity without an intensity head";
  EXPECT_NE(r.errors.find("no intensity head"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("intensity calibration none"), std::string::npos) << "a folder of photos: " << r.errors;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].size(), kColumns);
    EXPECT_EQ(rows[i][column(rows[0], "success")], "1");
  }
  EXPECT_EQ(rows[1][column(rows[0], "frame")], "1");
  EXPECT_EQ(rows[2][column(rows[0], "frame")], "3");  // the landscape, frame 2, has no face
}

TEST(AnalyzeTool, WritesOneRowPerFrameOfAShortVideoWithOneTrackId) {
  const TempDir tmp_video("hicomex-analyze-video");
  const std::string dir = tmp_video.str();
  const std::string video = dir + "/clip.avi";
  const cv::Mat grace = cv::imread(kGraceHopper);
  {
    cv::VideoWriter w(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, grace.size());
    ASSERT_TRUE(w.isOpened());
    for (int i = 0; i < 12; ++i) {
      cv::Mat moved;
      cv::warpAffine(grace, moved, cv::Matx23d(1, 0, 2.0 * i, 0, 1, 0), grace.size(), cv::INTER_LINEAR,
                     cv::BORDER_REPLICATE);
      w.write(moved);
    }
  }
  const std::string out = dir + "/clip.csv";
  const ToolRun r = analyze(video + " -o " + out + " --detection-interval 4 --inference-interval 2 " + model_arg());
  ASSERT_EQ(r.status, 0) << r.errors;
  const auto rows = read_csv(out);
  ASSERT_EQ(rows.size(), 13u);
  const auto& h = rows[0];
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), kColumns);
    EXPECT_EQ(std::stoi(rows[i][column(h, "frame")]), static_cast<int>(i));
    EXPECT_EQ(rows[i][column(h, "face_id")], rows[1][column(h, "face_id")]);
    EXPECT_NEAR(std::stod(rows[i][column(h, "timestamp")]), (i - 1) / 10.0, 1e-3);
  }
}

TEST(AnalyzeTool, WritesJsonLinesForAJsonlOutput) {
  const TempDir tmp_jsonl("hicomex-analyze-jsonl");
  const std::string out = tmp_jsonl.str() + "/faces.jsonl";
  const ToolRun r = analyze(kGraceHopper + " -o " + out + " " + model_arg());
  ASSERT_EQ(r.status, 0) << r.errors;
  std::ifstream in(out);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
  }
  EXPECT_EQ(lines, 1);
}

TEST(AnalyzeTool, NamesAMissingInput) {
  const ToolRun r = analyze("/nonexistent/clip.mp4 -o /tmp/unused.csv " + model_arg());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.errors.find("/nonexistent/clip.mp4"), std::string::npos) << r.errors;
}

TEST(AnalyzeTool, RejectsAFileThatIsNeitherImageNorVideo) {
  const TempDir tmp_garbage("hicomex-analyze-garbage");
  const std::string dir = tmp_garbage.str();
  std::ofstream(dir + "/clip.mp4") << "this is not a video";
  std::ofstream(dir + "/photo.jpg") << "this is not a jpeg";
  const ToolRun video = analyze(dir + "/clip.mp4 -o " + dir + "/a.csv " + model_arg());
  EXPECT_EQ(video.status, 1) << video.errors;
  EXPECT_NE(video.errors.find("clip.mp4"), std::string::npos) << video.errors;
  const ToolRun image = analyze(dir + "/photo.jpg -o " + dir + "/b.csv " + model_arg());
  EXPECT_EQ(image.status, 1) << image.errors;
  EXPECT_NE(image.errors.find("photo.jpg"), std::string::npos) << image.errors;
}

TEST(AnalyzeTool, RejectsAFolderWithoutImages) {
  const TempDir tmp_empty("hicomex-analyze-empty");
  const std::string dir = tmp_empty.str();
  const ToolRun r = analyze(dir + " -o " + dir + "/out.csv " + model_arg());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.errors.find("no image files"), std::string::npos) << r.errors;
}

TEST(AnalyzeTool, KeepsAnExistingOutputUnlessToldToOverwrite) {
  const TempDir tmp_existing("hicomex-analyze-existing");
  const std::string out = tmp_existing.str() + "/faces.csv";
  std::ofstream(out) << "precious";
  const ToolRun refused = analyze(kGraceHopper + " -o " + out + " " + model_arg());
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.errors.find("--overwrite"), std::string::npos) << refused.errors;
  EXPECT_EQ(refused.errors.find("overwrite"), refused.errors.rfind("overwrite")) << "one hint: " << refused.errors;
  const ToolRun replaced = analyze(kGraceHopper + " -o " + out + " --overwrite " + model_arg());
  EXPECT_EQ(replaced.status, 0) << replaced.errors;
  EXPECT_EQ(read_csv(out).size(), 2u);
}

TEST(AnalyzeTool, NamesAMissingModel) {
  const TempDir tmp_nomodel("hicomex-analyze-nomodel");
  const std::string out = tmp_nomodel.str() + "/faces.csv";
  const ToolRun r = analyze(kGraceHopper + " -o " + out + " --model /nonexistent/model.safetensors");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.errors.find("/nonexistent/model.safetensors"), std::string::npos) << r.errors;
}

namespace {

// A video of Grace Hopper's portrait drifting right, `frames` long, 10 fps.
std::string drifting_video(const std::string& dir, int frames) {
  const std::string video = dir + "/drift.avi";
  const cv::Mat grace = cv::imread(kGraceHopper);
  cv::VideoWriter w(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, grace.size());
  EXPECT_TRUE(w.isOpened());
  for (int i = 0; i < frames; ++i) {
    cv::Mat moved;
    cv::warpAffine(grace, moved, cv::Matx23d(1, 0, (i % 40) - 20.0, 0, 1, 0), grace.size(), cv::INTER_LINEAR,
                   cv::BORDER_REPLICATE);
    w.write(moved);
  }
  return video;
}

}  // namespace

TEST(AnalyzeTool, BatchesOfFramesWriteTheRowsOfFrameAtATime) {
  const TempDir tmp_batches("hicomex-analyze-batches");
  const std::string dir = tmp_batches.str();
  const std::string video = drifting_video(dir, 45);
  ASSERT_EQ(analyze(video + " -o " + dir + "/b8.csv --au-batch 8 " + model_arg()).status, 0);
  ASSERT_EQ(analyze(video + " -o " + dir + "/b1.csv --au-batch 1 " + model_arg()).status, 0);
  const auto b8 = read_csv(dir + "/b8.csv"), b1 = read_csv(dir + "/b1.csv");
  ASSERT_EQ(b8.size(), 46u) << "one row per frame, none lost at the end of the input";
  ASSERT_EQ(b1.size(), b8.size());
  const auto& h = b8[0];
  for (size_t i = 1; i < b8.size(); ++i) {
    EXPECT_EQ(std::stoi(b8[i][column(h, "frame")]), static_cast<int>(i)) << "frames in order";
    for (size_t c = 0; c < h.size(); ++c) {
      if (h[c].rfind("AU", 0) == 0 && h[c].size() > 2 && h[c].back() == 'p') {
        EXPECT_NEAR(std::stod(b8[i][c]), std::stod(b1[i][c]), 2e-3) << "row " << i << " " << h[c];
      } else if (h[c] == "frame" || h[c] == "face_id" || h[c].rfind("x_", 0) == 0) {
        EXPECT_EQ(b8[i][c], b1[i][c]) << "row " << i << " " << h[c];
      }
    }
  }
}

TEST(AnalyzeTool, SigtermKeepsEveryRowReadBeforeIt) {
  const TempDir tmp_sigterm("hicomex-analyze-sigterm");
  const std::string dir = tmp_sigterm.str();
  const std::string video = drifting_video(dir, 600);
  const std::string out = dir + "/cut.csv";
  // `timeout` sends SIGTERM, as docker and systemd do.
  const RunResult result = run_shell("timeout --preserve-status -s TERM 3 " + std::string(HICOMEX_ANALYZE_TOOL) + " " +
                                     video + " -o " + out + " " + model_arg() + " --threads 2 --device cpu");
  const std::string& errors = result.err;
  EXPECT_EQ(result.status, 130) << errors;
  EXPECT_NE(errors.find("interrupted"), std::string::npos) << errors;
  const auto rows = read_csv(out);
  ASSERT_GT(rows.size(), 2u) << "frames analysed before the signal are written";
  ASSERT_LT(rows.size(), 601u) << "the run was cut short";
  const auto& h = rows[0];
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), h.size()) << "whole rows only";
    EXPECT_EQ(std::stoi(rows[i][column(h, "frame")]), static_cast<int>(i)) << "no frame missing";
  }
}

TEST(AnalyzeTool, ABadOptionExitsWithTheDocumentedOptionErrorCode) {
  const ToolRun r = analyze(kGraceHopper + " -o /tmp/x.csv --detection-interval 0 " + model_arg());
  EXPECT_EQ(r.status, 3) << r.errors;
  EXPECT_NE(r.errors.find("--detection-interval"), std::string::npos) << r.errors;
}

TEST(AnalyzeTool, ADirectoryGivenAsTheModelIsCalledADirectory) {
  const TempDir tmp_model_dir("hicomex-analyze-model_dir");
  const std::string dir = tmp_model_dir.str();
  const ToolRun r = analyze(kGraceHopper + " -o " + dir + "/x.csv --model " + dir);
  EXPECT_EQ(r.status, 3) << r.errors;
  EXPECT_NE(r.errors.find("is a directory"), std::string::npos) << r.errors;
  EXPECT_EQ(r.errors.find("not found"), std::string::npos) << r.errors;
}

// ---- intensity, calibration and the column sets ----

namespace {

// The small model with an intensity head (untrained: intensities near 0.2).
std::string intensity_model_arg() {
  static const std::string path = [] {
    const std::string p = process_temp_dir().file("hicomex_analyzer_small_intensity.safetensors");
    hicomex::HicomexOptions o = small_test_options_with_intensity();
    torch::manual_seed(5);
    hicomex::nn::Hicomex net(o);
    hicomex::ModelInfo info;
    info.model_id = "hicomex-test-small-intensity";
    info.options = o;
    info.thresholds.assign(o.aus().size(), 0.5f);
    hicomex::nn::save_hicomex(p, net, info);
    return p;
  }();
  return "--model " + path;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::vector<size_t> au_columns(const std::vector<std::string>& header, char suffix) {
  std::vector<size_t> out;
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i].rfind("AU", 0) == 0 && header[i].size() == 6 && header[i].back() == suffix) out.push_back(i);
  return out;
}

// A still video: Grace Hopper's portrait, the same in every frame (one person,
// one constant expression), 10 fps.
std::string still_video(const std::string& dir, int frames) {
  const std::string video = dir + "/still.avi";
  cv::Mat grace;
  cv::resize(cv::imread(kGraceHopper), grace, {320, 320}, 0, 0, cv::INTER_AREA);
  cv::VideoWriter w(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, grace.size());
  EXPECT_TRUE(w.isOpened());
  for (int i = 0; i < frames; ++i) w.write(grace);
  return video;
}

}  // namespace

// --threshold reads the library's one threshold grammar, as the element does
// (hicomex/option_parsers.h): AU=value pairs, one value, or one per AU in order.
TEST(AnalyzeTool, ThresholdsUseTheGrammarOfTheElement) {
  const TempDir tmp_thresholds("hicomex-analyze-thresholds");
  const std::string dir = tmp_thresholds.str();
  auto presence = [&dir](const std::string& csv) {
    const auto rows = read_csv(dir + "/" + csv);
    std::map<std::string, std::string> out;
    if (rows.size() < 2) return out;
    for (size_t c : au_columns(rows[0], 'c')) out[rows[0][c]] = rows[1][c];
    return out;
  };
  const ToolRun pairs = analyze(kGraceHopper + " -o " + dir + "/pairs.csv --threshold AU1=0,2=1 " + model_arg());
  ASSERT_EQ(pairs.status, 0) << pairs.errors;
  EXPECT_EQ(presence("pairs.csv")["AU01_c"], "1.0");
  EXPECT_EQ(presence("pairs.csv")["AU02_c"], "0.0");
  // One value per AU of the (12-AU) model, in its order.
  const ToolRun list =
      analyze(kGraceHopper + " -o " + dir + "/list.csv --threshold 0,1,0,1,0,1,0,1,0,1,0,1 " + model_arg());
  ASSERT_EQ(list.status, 0) << list.errors;
  EXPECT_EQ(presence("list.csv")["AU01_c"], "1.0");
  EXPECT_EQ(presence("list.csv")["AU02_c"], "0.0");
  const ToolRun unknown = analyze(kGraceHopper + " -o " + dir + "/unknown.csv --threshold AU99=0.5 " + model_arg());
  EXPECT_EQ(unknown.status, 3) << unknown.errors;
  EXPECT_NE(unknown.errors.find("no AU99"), std::string::npos) << unknown.errors;
  const ToolRun short_list = analyze(kGraceHopper + " -o " + dir + "/short.csv --threshold 0.1,0.2 " + model_arg());
  EXPECT_EQ(short_list.status, 3) << short_list.errors;
  EXPECT_NE(short_list.errors.find("2 values for a model with 12 AUs"), std::string::npos) << short_list.errors;
  const ToolRun bad = analyze(kGraceHopper + " -o " + dir + "/bad.csv --threshold AU12=high " + model_arg());
  EXPECT_EQ(bad.status, 3) << bad.errors;
  EXPECT_NE(bad.errors.find("\"high\" is not a number"), std::string::npos) << bad.errors;
}

TEST(AnalyzeTool, AnImageGetsIntensityColumnsInRangeAndNoCalibrationByDefault) {
  const TempDir tmp_intensity_image("hicomex-analyze-intensity_image");
  const std::string dir = tmp_intensity_image.str();
  // threshold 0: without calibration presence is the probability test alone,
  // so every AU is present; with calibration it needs intensity >= 1 too.
  const ToolRun plain = analyze(kGraceHopper + " -o " + dir + "/plain.csv --threshold 0 " + intensity_model_arg());
  ASSERT_EQ(plain.status, 0) << plain.errors;
  EXPECT_NE(plain.errors.find("intensity calibration none"), std::string::npos) << plain.errors;
  EXPECT_EQ(plain.errors.find("no intensity head"), std::string::npos) << plain.errors;
  const auto rows = read_csv(dir + "/plain.csv");
  ASSERT_EQ(rows.size(), 2u);
  const auto& h = rows[0];
  EXPECT_EQ(h.size(), 5u + 6u + 136u + 2u * 12u) << "AUxx_r and AUxx_c; AUxx_p only when asked";
  EXPECT_TRUE(au_columns(h, 'p').empty());
  ASSERT_EQ(au_columns(h, 'r').size(), 12u);
  EXPECT_LT(au_columns(h, 'r').back(), au_columns(h, 'c').front()) << "OpenFace order: all _r, then all _c";
  for (size_t c : au_columns(h, 'r')) {
    const double v = std::stod(rows[1][c]);
    EXPECT_GE(v, 0.0) << h[c];
    EXPECT_LE(v, 5.0) << h[c];
    EXPECT_EQ(rows[1][c].size() - rows[1][c].find('.'), 3u) << h[c] << " has two decimals: " << rows[1][c];
  }
  for (size_t c : au_columns(h, 'c')) EXPECT_EQ(rows[1][c], "1.0") << h[c];

  const ToolRun calibrated =
      analyze(kGraceHopper + " -o " + dir + "/calibrated.csv --threshold 0 --calibration dynamic " +
              "--probabilities " + intensity_model_arg());
  ASSERT_EQ(calibrated.status, 0) << calibrated.errors;
  EXPECT_NE(calibrated.errors.find("intensity calibration dynamic"), std::string::npos) << calibrated.errors;
  const auto cal = read_csv(dir + "/calibrated.csv");
  ASSERT_EQ(cal.size(), 2u);
  const auto& ch = cal[0];
  ASSERT_EQ(au_columns(ch, 'p').size(), 12u) << "--probabilities";
  EXPECT_LT(au_columns(ch, 'c').back(), au_columns(ch, 'p').front()) << "_p after _c";
  int differ = 0;
  for (size_t k = 0; k < 12; ++k) {
    const double r = std::stod(cal[1][au_columns(ch, 'r')[k]]);
    const std::string& c = cal[1][au_columns(ch, 'c')[k]];
    EXPECT_EQ(c, r >= 1.0 ? "1.0" : "0.0") << ch[au_columns(ch, 'c')[k]] << ": present only from intensity 1";
    const double p = std::stod(cal[1][au_columns(ch, 'p')[k]]);
    EXPECT_GE(p, 0.0);
    EXPECT_LE(p, 1.0);
    differ += c != rows[1][au_columns(h, 'c')[k]];
  }
  EXPECT_GT(differ, 0) << "calibration's presence rule changed nothing: the default was not 'none'";
}

TEST(AnalyzeTool, AVideoIsCalibratedPerPersonByDefault) {
  const TempDir tmp_intensity_video("hicomex-analyze-intensity_video");
  const std::string dir = tmp_intensity_video.str();
  const int frames = 130;  // the prior (10 neutral frames at the 10th percentile) is outweighed after 90
  const std::string video = still_video(dir, frames);
  const ToolRun dynamic = analyze(video + " -o " + dir + "/dynamic.jsonl " + intensity_model_arg());
  ASSERT_EQ(dynamic.status, 0) << dynamic.errors;
  EXPECT_NE(dynamic.errors.find("intensity calibration dynamic"), std::string::npos) << dynamic.errors;
  const ToolRun none = analyze(video + " -o " + dir + "/none.jsonl --calibration none " + intensity_model_arg());
  ASSERT_EQ(none.status, 0) << none.errors;
  EXPECT_NE(none.errors.find("intensity calibration none"), std::string::npos) << none.errors;

  const auto with = read_jsonl(dir + "/dynamic.jsonl"), without = read_jsonl(dir + "/none.jsonl");
  ASSERT_EQ(with.size(), static_cast<size_t>(frames)) << "one face per frame";
  ASSERT_EQ(without.size(), with.size());
  double first_i = 0, first_raw = 0, last_i = 0, last_raw = 0;
  for (size_t n = 0; n < with.size(); ++n) {
    EXPECT_EQ(with[n]["face_id"], with[0]["face_id"]) << "one track through the still video";
    for (const auto& [au, v] : with[n]["aus"].items()) {
      ASSERT_TRUE(v.contains("i") && v.contains("i_raw")) << au;
      const double i = v["i"].get<double>(), raw = v["i_raw"].get<double>();
      EXPECT_GE(i, 0.0) << au;
      EXPECT_LE(i, raw + 0.011) << au << " frame " << n << ": calibration only subtracts";
      EXPECT_EQ(v["c"].get<int>(), v["p"].get<double>() >= 0.5 && i >= 1.0 ? 1 : 0) << au << " frame " << n;
      if (n < 10) first_i += i, first_raw += raw;
      if (n + 10 >= with.size()) last_i += i, last_raw += raw;
    }
    for (const auto& [au, v] : without[n]["aus"].items())
      EXPECT_DOUBLE_EQ(v["i"].get<double>(), v["i_raw"].get<double>()) << au << " frame " << n << " (none)";
  }
  ASSERT_GT(first_raw, 0.5) << "the untrained head gives intensities well above 0";
  EXPECT_NEAR(first_i, first_raw, 0.1 * first_raw) << "the first frames are not calibrated away (the prior)";
  EXPECT_LT(last_i, 0.25 * last_raw) << "a constant face falls towards 0 once its own level is learnt";
}

namespace {
// A still portrait as an n-frame MJPEG AVI at `fps`.
void write_portrait_avi(const std::string& path, int n, double fps) {
  const cv::Mat grace = cv::imread(kGraceHopper);
  cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, grace.size());
  ASSERT_TRUE(w.isOpened());
  for (int i = 0; i < n; ++i) w.write(grace);
}
}  // namespace

TEST(AnalyzeTool, AVideoCutShortIsReportedWithTheFramesItHolds) {
  const TempDir tmp_truncated("hicomex-analyze-truncated");
  const std::string dir = tmp_truncated.str();
  const std::string full = dir + "/full.avi", cut = dir + "/cut.avi";
  write_portrait_avi(full, 40, 10.0);
  {
    std::ifstream in(full, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 3 / 10);
  }
  const ToolRun whole = analyze(full + " -o " + dir + "/full.csv -q " + model_arg());
  EXPECT_EQ(whole.status, 0) << whole.errors;
  EXPECT_EQ(read_csv(dir + "/full.csv").size(), 41u);

  const ToolRun r = analyze(cut + " -o " + dir + "/cut.csv -q " + model_arg());
  EXPECT_EQ(r.status, 1) << r.errors;
  EXPECT_NE(r.errors.find("truncated"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("4.00 s (40 frames)"), std::string::npos) << r.errors;
  const auto rows = read_csv(dir + "/cut.csv");
  ASSERT_GE(rows.size(), 3u) << "the frames read are written";
  EXPECT_LT(rows.size(), 30u);
  EXPECT_NE(r.errors.find("holds the " + std::to_string(rows.size() - 1) + " frames read"), std::string::npos)
      << r.errors;
  // Told to accept it: the same report as a warning, exit 0.
  const ToolRun accepted = analyze(cut + " -o " + dir + "/cut2.csv -q --accept-truncated " + model_arg());
  EXPECT_EQ(accepted.status, 0) << accepted.errors;
  EXPECT_NE(accepted.errors.find("warning: "), std::string::npos) << accepted.errors;
  EXPECT_EQ(read_csv(dir + "/cut2.csv").size(), rows.size());
}

TEST(AnalyzeTool, VariableFrameRateVideoGetsEachFramesOwnTimestamp) {
  const TempDir tmp_vfr("hicomex-analyze-vfr");
  const std::string dir = tmp_vfr.str();
  const std::string video = dir + "/vfr.mkv";
  // 25 frames/s nominal with frames dropped at random: gaps of 0.08 s, 0.12 s ...
  const std::string make = "gst-launch-1.0 -q filesrc location=" + kGraceHopper +
                           " ! jpegdec ! videoconvert ! imagefreeze num-buffers=30 ! video/x-raw,framerate=25/1 ! "
                           "identity drop-probability=0.5 ! videoconvert ! x264enc bframes=0 ! matroskamux ! "
                           "filesink location=" +
                           video;
  const RunResult made = run_shell(make);
  ASSERT_EQ(made.status, 0) << make << "\n" << made.err;
  // The file's presentation times as GStreamer reads them.
  const std::string listing =
      run_shell("gst-launch-1.0 -v filesrc location=" + video + " ! matroskademux ! fakesink silent=false 2>&1").out;
  std::vector<double> pts;
  for (size_t at = listing.find("pts: "); at != std::string::npos; at = listing.find("pts: ", at + 5)) {
    int h = 0, m = 0;
    double s = 0;
    if (std::sscanf(listing.c_str() + at + 5, "%d:%d:%lf", &h, &m, &s) == 3) pts.push_back(h * 3600.0 + m * 60.0 + s);
  }
  ASSERT_GE(pts.size(), 5u) << listing.substr(0, 2000);
  const std::string out = dir + "/vfr.csv";
  const ToolRun r = analyze(video + " -o " + out + " -q " + model_arg());
  ASSERT_EQ(r.status, 0) << r.errors;  // not "truncated": the file is as long as it says
  const auto rows = read_csv(out);
  ASSERT_EQ(rows.size(), pts.size() + 1) << "one face per frame";
  const size_t t = column(rows[0], "timestamp");
  bool irregular = false;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_NEAR(std::stod(rows[i][t]) - std::stod(rows[1][t]), pts[i - 1] - pts[0], 1.5e-3) << "frame " << i;
    if (i > 1) irregular |= std::abs((pts[i - 1] - pts[i - 2]) - 0.04) > 1e-3;
  }
  EXPECT_TRUE(irregular) << "the test video should have gaps";
}

TEST(AnalyzeTool, AFolderAsOutputIsCalledAFolderAndGarbageInputGivesOneMessage) {
  const TempDir tmp_outfolder("hicomex-analyze-outfolder");
  const std::string dir = tmp_outfolder.str();
  for (const std::string& o : {dir, dir + "/"}) {
    const ToolRun r = analyze(kGraceHopper + " -o " + o + " " + model_arg());
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.errors.find("is a folder"), std::string::npos) << r.errors;
    EXPECT_EQ(r.errors.find("--overwrite"), std::string::npos) << r.errors;
  }
  std::ofstream(dir + "/empty.mp4").close();
  const ToolRun empty = analyze(dir + "/empty.mp4 -o " + dir + "/e.csv " + model_arg());
  EXPECT_EQ(empty.status, 1);
  EXPECT_NE(empty.errors.find("empty (0 bytes)"), std::string::npos) << empty.errors;
  {
    std::ofstream g(dir + "/garbage.mp4", std::ios::binary);
    for (int i = 0; i < 5000; ++i) g.put(static_cast<char>((i * 7919) % 251));
  }
  const ToolRun garbage = analyze(dir + "/garbage.mp4 -o " + dir + "/g.csv " + model_arg());
  EXPECT_EQ(garbage.status, 1);
  EXPECT_NE(garbage.errors.find("garbage.mp4"), std::string::npos) << garbage.errors;
  EXPECT_EQ(garbage.errors.find("GStreamer"), std::string::npos) << "backend noise: " << garbage.errors;
  EXPECT_LE(std::count(garbage.errors.begin(), garbage.errors.end(), '\n'), 3) << garbage.errors;
}
