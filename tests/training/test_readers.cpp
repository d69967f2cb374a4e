// Dataset readers on tiny fixture datasets in each real layout.
#include <cmath>

#include <gtest/gtest.h>

#include "fixtures.h"
#include "hicomex/au_catalog.h"
#include "training/dataset.h"

using namespace hicomex::training;
using hicomex::training::test::TempDir;
using hicomex::training::test::write_image;
using hicomex::training::test::write_text;

namespace {

const char* kBp4dHeader = "0,1,2,4,6,7,10,12,14,15,17,23,24,27\n";

/// F001/T1 with zero-padded frame files (0001.jpg), F002/T2 with unpadded ones (7.jpg).
void write_bp4d(const TempDir& dir) {
  write_text(dir / "AUCoding/AU_OCC/F001_T1.csv", std::string(kBp4dHeader) +
                                                      "1,1,0,0,0,0,0,1,0,0,0,0,0,0\n"
                                                      "2,9,9,9,9,9,9,9,9,9,9,9,9,9\n"
                                                      "3,0,1,0,0,0,0,9,0,0,0,0,1,0\n");
  write_text(dir / "AUCoding/AU_OCC/F002_T2.csv", std::string(kBp4dHeader) + "7,0,0,1,0,0,0,0,0,0,0,0,0,0\n");
  for (const char* f : {"F001/T1/0001.jpg", "F001/T1/0002.jpg", "F001/T1/0003.jpg", "F002/T2/7.jpg"})
    write_image(dir / f, 8, 8);
}

void write_disfa(const TempDir& dir, const std::string& subject = "SN001") {
  const std::vector<int> aus = hicomex::disfa_aus();
  for (int au : aus) {
    // Frame 1: all 0; frame 2: intensity 1 (below threshold); frame 3: intensity 2 or 3 (AU1 5).
    const std::string f3 = au == 1 ? "5" : (au == 2 ? "3" : "2");
    write_text(dir / ("ActionUnit_Labels/" + subject + "/" + subject + "_au" + std::to_string(au) + ".txt"),
               "1,0\n2,1\n3," + f3 + "\n");
  }
  write_text(dir / ("Videos_LeftCamera/LeftVideo" + subject + "_comp.avi"), "not decoded by the reader");
}

std::string numbers98(float base) {
  std::string s;
  for (int i = 0; i < 98; ++i) s += std::to_string(base + float(i)) + (i < 97 ? " " : "\n");
  return s;
}

}  // namespace

TEST(Bp4dReader, ReadsLabelsAndMarksNineAsNotCoded) {
  TempDir dir;
  write_bp4d(dir);
  BadDataLog log;
  const Dataset d = read_bp4d(dir.path().string(), {}, log);
  ASSERT_EQ(d.aus, hicomex::bp4d_aus());
  ASSERT_EQ(d.samples.size(), 4u);
  const Sample& s1 = d.samples[0];
  EXPECT_EQ(s1.subject, "F001");
  EXPECT_EQ(s1.frame, 1);
  EXPECT_EQ(s1.labels[0], 1);               // AU1
  EXPECT_EQ(s1.labels[d.au_index(12)], 1);  // AU12
  EXPECT_EQ(s1.labels[d.au_index(2)], 0);
  for (auto l : d.samples[1].labels) EXPECT_EQ(l, kNotCoded);  // a row of 9s
  EXPECT_EQ(d.samples[2].labels[d.au_index(12)], kNotCoded);
  EXPECT_EQ(d.samples[2].labels[d.au_index(24)], 1);  // column order follows the header, not position
}

TEST(Bp4dReader, FindsZeroPaddedAndUnpaddedFrameFiles) {
  TempDir dir;
  write_bp4d(dir);
  BadDataLog log;
  const Dataset d = read_bp4d(dir.path().string(), {}, log);
  EXPECT_EQ(std::filesystem::path(d.samples[0].image).filename(), "0001.jpg");
  EXPECT_EQ(std::filesystem::path(d.samples[3].image).filename(), "7.jpg");
  EXPECT_EQ(d.samples[3].subject, "F002");
}

TEST(Bp4dReader, ExcludesNotCodedLabelsFromOccurrenceRates) {
  TempDir dir;
  write_bp4d(dir);
  BadDataLog log;
  const Dataset d = read_bp4d(dir.path().string(), {}, log);
  const auto rates = occurrence_rates(d);
  EXPECT_DOUBLE_EQ(rates[0], 1.0 / 3.0);               // AU1: 1, (9), 0, 0
  EXPECT_DOUBLE_EQ(rates[d.au_index(12)], 1.0 / 2.0);  // AU12: 1, (9), (9), 0
}

TEST(Bp4dReader, MissingFrameImageIsAnErrorWithFileAndLine) {
  TempDir dir;
  write_bp4d(dir);
  std::filesystem::remove(dir / "F001/T1/0003.jpg");
  BadDataLog log;
  try {
    read_bp4d(dir.path().string(), {}, log);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("F001_T1.csv:4:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
}

TEST(Bp4dReader, RowWithWrongNumberOfAusIsAnErrorWithFileAndLine) {
  TempDir dir;
  write_bp4d(dir);
  write_text(dir / "AUCoding/AU_OCC/F002_T2.csv", std::string(kBp4dHeader) + "7,0,0,1\n");
  BadDataLog log;
  try {
    read_bp4d(dir.path().string(), {}, log);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("F002_T2.csv:2: 4 cells, the header has 14"), std::string::npos) << e.what();
  }
}

TEST(Bp4dReader, SkipModeCountsEachProblemAndKeepsTheRest) {
  TempDir dir;
  write_bp4d(dir);
  std::filesystem::remove(dir / "F001/T1/0003.jpg");
  write_text(dir / "AUCoding/AU_OCC/F002_T2.csv", std::string(kBp4dHeader) + "7,0,0,1\n8,0,0,5,0,0,0,0,0,0,0,0,0,0\n");
  BadDataLog log(/*skip=*/true);
  const Dataset d = read_bp4d(dir.path().string(), {}, log);
  EXPECT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(log.count(BadDataReason::MissingFile), 1);
  EXPECT_EQ(log.count(BadDataReason::WrongAuCount), 1);
  EXPECT_EQ(log.count(BadDataReason::BadLabelValue), 1);
  EXPECT_EQ(log.total(), 3);
  EXPECT_NE(log.summary().find("3 sample(s) skipped"), std::string::npos) << log.summary();
  EXPECT_NE(log.summary().find("F002_T2.csv:2"), std::string::npos) << log.summary();
}

TEST(DisfaReader, OccurrenceIsIntensityAtLeastTwoAndIntensitiesAreKept) {
  TempDir dir;
  write_disfa(dir);
  BadDataLog log;
  const Dataset d = read_disfa(dir.path().string(), {}, log);
  ASSERT_EQ(d.aus, hicomex::disfa_aus());
  ASSERT_EQ(d.samples.size(), 3u);
  for (auto l : d.samples[1].labels) EXPECT_EQ(l, 0);  // intensity 1
  for (auto l : d.samples[2].labels) EXPECT_EQ(l, 1);  // intensity >= 2
  EXPECT_FLOAT_EQ(d.samples[2].intensities[0], 5.f);
  EXPECT_FLOAT_EQ(d.samples[2].intensities[1], 3.f);
  EXPECT_EQ(d.samples[2].frame, 3);
  EXPECT_EQ(d.samples[2].video_frame, 2);  // DISFA frames are 1-based
  EXPECT_EQ(d.samples[0].subject, "SN001");
  EXPECT_NE(d.samples[0].image.find("LeftVideoSN001_comp.avi"), std::string::npos);
}

TEST(DisfaReader, ThresholdIsConfigurable) {
  TempDir dir;
  write_disfa(dir);
  BadDataLog log;
  ReadOptions o;
  o.disfa_threshold = 3.f;
  const Dataset d = read_disfa(dir.path().string(), o, log);
  EXPECT_EQ(d.samples[2].labels[0], 1);  // AU1 = 5
  EXPECT_EQ(d.samples[2].labels[1], 1);  // AU2 = 3
  EXPECT_EQ(d.samples[2].labels[2], 0);  // AU4 = 2
}

TEST(DisfaReader, MalformedLineIsAnErrorWithFileAndLine) {
  TempDir dir;
  write_disfa(dir);
  write_text(dir / "ActionUnit_Labels/SN001/SN001_au4.txt", "1,0\n2;1\n3,2\n");
  BadDataLog log;
  try {
    read_disfa(dir.path().string(), {}, log);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("SN001_au4.txt:2:"), std::string::npos) << e.what();
  }
  BadDataLog skip(true);
  const Dataset d = read_disfa(dir.path().string(), {}, skip);
  EXPECT_EQ(d.samples.size(), 2u);  // frame 2 is missing from AU4's file, so it is dropped - and counted
  EXPECT_EQ(skip.count(BadDataReason::MalformedLine), 1);
  EXPECT_EQ(skip.count(BadDataReason::MissingFrame), 1);
}

TEST(DisfaReader, MissingVideoIsReported) {
  TempDir dir;
  write_disfa(dir);
  std::filesystem::remove(dir / "Videos_LeftCamera/LeftVideoSN001_comp.avi");
  BadDataLog log;
  EXPECT_THROW(read_disfa(dir.path().string(), {}, log), DataError);
}

TEST(JaanetReader, ReadsTheListFiles) {
  TempDir dir;
  const std::string prefix = dir / "list/BP4D_part1";
  write_text(prefix + "_path.txt", "F001/T1/1.jpg\nF003/T2/20.jpg\n");
  write_text(prefix + "_AUoccur.txt", "1 0 0 0 0 0 1 0 0 0 0 0\n0 1 0 0 0 0 0 0 0 0 0 1\n");
  write_text(prefix + "_land.txt", numbers98(10) + numbers98(20));
  write_text(prefix + "_biocular.txt", "1600\n1700\n");
  write_text(prefix + "_weight.txt", "1 1 1 1 1 1 1 1 1 1 1 1.5\n");
  write_image(dir / "imgs/F001/T1/1.jpg", 200, 200);
  write_image(dir / "imgs/F003/T2/20.jpg", 200, 200);
  ReadOptions o;
  o.image_root = dir / "imgs";
  BadDataLog log;
  const Dataset d = read_dataset("auto", prefix, o, log);
  EXPECT_EQ(d.kind, "jaanet");
  EXPECT_EQ(d.aus, hicomex::bp4d_aus());
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.samples[1].subject, "F003");
  EXPECT_EQ(d.samples[1].frame, 20);
  EXPECT_TRUE(d.samples[1].aligned);
  EXPECT_EQ(d.samples[1].labels[1], 1);
  ASSERT_EQ(d.samples[1].landmarks49.size(), 49u);
  EXPECT_FLOAT_EQ(d.samples[1].landmarks49[1].x, 22.f);  // x1 y1 x2 y2 ... interleaved
  EXPECT_FLOAT_EQ(d.samples[1].landmarks49[1].y, 23.f);
  EXPECT_FLOAT_EQ(d.list_weights.back(), 1.5f);
}

TEST(JaanetReader, LandmarksWithTheWrongCountAreAnErrorWithFileAndLine) {
  TempDir dir;
  const std::string prefix = dir / "l";
  write_text(prefix + "_path.txt", "F001/T1/1.jpg\n");
  write_text(prefix + "_AUoccur.txt", "1 0 0 0 0 0 1 0\n");
  write_text(prefix + "_land.txt", "1 2 3 4\n");
  write_image(dir / "F001/T1/1.jpg", 200, 200);
  BadDataLog log;
  try {
    read_jaanet(prefix, {}, log);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("l_land.txt:1: 4 numbers, expected 98"), std::string::npos) << e.what();
  }
}

TEST(ManifestReader, ReadsJsonLinesWithHeaderIntensitiesAndLandmarks) {
  TempDir dir;
  write_image(dir / "images/a.png", 16, 16);
  write_image(dir / "images/b.png", 16, 16);
  const std::string lm68 = hicomex::training::test::points_json(hicomex::training::test::face68());
  write_text(dir / "manifest.jsonl",
             "{\"hicomex_manifest\": 1, \"aus\": [1, 2, 12], \"description\": \"tiny\"}\n"
             "{\"image\": \"images/a.png\", \"subject\": \"syn1\", \"aus\": {\"1\": 0, \"2\": 1, \"12\": 9}, "
             "\"intensity\": {\"1\": 0.0, \"2\": 2.5}, \"landmarks\": " +
                 lm68 +
                 ", \"frame\": 4}\n"
                 "{\"image\": \"images/b.png\", \"subject\": \"syn2\", \"aus\": {\"1\": 1, \"2\": null, \"12\": 1}}\n");
  BadDataLog log;
  const Dataset d = read_dataset("auto", dir.path().string(), {}, log);
  EXPECT_EQ(d.kind, "manifest");
  EXPECT_EQ(d.aus, (std::vector<int>{1, 2, 12}));
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.samples[0].labels, (std::vector<std::int8_t>{0, 1, kNotCoded}));
  EXPECT_EQ(d.samples[1].labels, (std::vector<std::int8_t>{1, kNotCoded, 1}));
  EXPECT_FLOAT_EQ(d.samples[0].intensities[1], 2.5f);
  EXPECT_TRUE(std::isnan(d.samples[0].intensities[2]));
  EXPECT_EQ(d.samples[0].landmarks49.size(), 49u);
  EXPECT_EQ(d.samples[0].landmarks_full.size(), 68u);
  EXPECT_EQ(d.samples[0].frame, 4);
  EXPECT_EQ(d.samples[1].subject, "syn2");
}

TEST(ManifestReader, MalformedJsonLineIsAnErrorWithFileAndLine) {
  TempDir dir;
  write_image(dir / "a.png", 16, 16);
  write_text(dir / "m.jsonl",
             "{\"image\": \"a.png\", \"subject\": \"s\", \"aus\": {\"1\": 1}}\n{\"image\": \"a.png\", \n");
  BadDataLog log;
  try {
    read_manifest(dir / "m.jsonl", {}, log);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("m.jsonl:2: not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(ManifestReader, WrongLandmarkCountAndMissingImageAreCountedInSkipMode) {
  TempDir dir;
  write_image(dir / "a.png", 16, 16);
  write_text(dir / "m.jsonl",
             "{\"image\": \"a.png\", \"subject\": \"s\", \"aus\": {\"1\": 1}, \"landmarks\": [[1, 2], [3, 4]]}\n"
             "{\"image\": \"gone.png\", \"subject\": \"s\", \"aus\": {\"1\": 1}}\n"
             "{\"image\": \"a.png\", \"subject\": \"s\", \"aus\": {\"1\": 0}}\n");
  BadDataLog strict;
  try {
    read_manifest(dir / "m.jsonl", {}, strict);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("m.jsonl:1: 2 landmarks, expected 68, 66 or 49"), std::string::npos)
        << e.what();
  }
  BadDataLog skip(true);
  const Dataset d = read_manifest(dir / "m.jsonl", {}, skip);
  EXPECT_EQ(d.samples.size(), 1u);
  EXPECT_EQ(skip.count(BadDataReason::WrongLandmarkCount), 1);
  EXPECT_EQ(skip.count(BadDataReason::MissingFile), 1);
}

TEST(ManifestReader, ReadsTheCsvVariant) {
  TempDir dir;
  write_image(dir / "a.png", 16, 16);
  std::string header = "image,subject,AU1,AU4,AU1_int,AU4_int";
  for (int i = 0; i < 49; ++i) header += ",x_" + std::to_string(i);
  for (int i = 0; i < 49; ++i) header += ",y_" + std::to_string(i);
  std::string row = "a.png,p7,1,,3.5,";
  for (int i = 0; i < 98; ++i) row += "," + std::to_string(i);
  write_text(dir / "m.csv", header + "\n" + row + "\na.png,p8,0,9,,,\n");
  BadDataLog log(true);
  const Dataset d = read_dataset("auto", dir / "m.csv", {}, log);
  EXPECT_EQ(d.aus, (std::vector<int>{1, 4}));
  ASSERT_EQ(d.samples.size(), 1u);  // the second row has 7 cells
  EXPECT_EQ(log.count(BadDataReason::WrongAuCount), 1);
  EXPECT_EQ(d.samples[0].labels, (std::vector<std::int8_t>{1, kNotCoded}));
  EXPECT_FLOAT_EQ(d.samples[0].intensities[0], 3.5f);
  ASSERT_EQ(d.samples[0].landmarks49.size(), 49u);
  EXPECT_FLOAT_EQ(d.samples[0].landmarks49[2].x, 2.f);
  EXPECT_FLOAT_EQ(d.samples[0].landmarks49[2].y, 51.f);
}

TEST(DatasetKind, IsDetectedFromTheFolderLayout) {
  TempDir bp4d, disfa, other;
  write_bp4d(bp4d);
  write_disfa(disfa);
  EXPECT_EQ(detect_dataset_kind(bp4d.path().string()), "bp4d");
  EXPECT_EQ(detect_dataset_kind(disfa.path().string()), "disfa");
  EXPECT_THROW(detect_dataset_kind(other.path().string()), std::invalid_argument);
  BadDataLog log;
  EXPECT_THROW(read_dataset("celeba", other.path().string(), {}, log), std::invalid_argument);
}

TEST(ManifestReader, InvalidUtf8IsNamedAndAStrictRunStopsAtTheFirstBadLine) {
  TempDir dir;
  write_image(dir / "a.png", 16, 16);
  write_text(dir / "m.jsonl",
             "{\"image\": \"a.png\", \"subject\": \"s\", \"aus\": {\"1\": 1}}\n"
             "{\"image\": \"gone.png\", \"subject\": \"s\", \"aus\": {\"1\": 1}}\n"
             "{\"image\": \"a.png\", \"subject\": \"s\xff\xfe\", \"aus\": {\"1\": 0}}\n"
             "[1, 2]\n");
  BadDataLog strict;
  try {
    read_manifest(dir / "m.jsonl", {}, strict);
    FAIL() << "no error";
  } catch (const DataError& e) {
    // Line 2 (a missing image) comes first, not the undecodable line 3.
    EXPECT_NE(std::string(e.what()).find("m.jsonl:2:"), std::string::npos) << e.what();
  }
  BadDataLog skip(true);
  const Dataset d = read_manifest(dir / "m.jsonl", {}, skip);
  EXPECT_EQ(d.samples.size(), 1u);
  const std::string summary = skip.summary();
  EXPECT_NE(summary.find("m.jsonl:3: invalid UTF-8"), std::string::npos) << summary;
  EXPECT_EQ(skip.count(BadDataReason::MalformedLine), 2) << summary;  // line 3 and the array on line 4
}
