// Intensity labels in the dataset readers (BP4D's per-AU intensity codes, the
// manifest's AU<n>_int columns) and the frame-folder layouts BP4D copies come in.
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

bool mentions(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

/// BP4D's occurrence codes: F001/T1 frames 1-4, F002/T2 frame 7 (BP4D's 12 AUs + AU27).
void write_bp4d_occurrence(const TempDir& dir) {
  const std::string header = "0,1,2,4,6,7,10,12,14,15,17,23,24,27\n";
  write_text(dir / "AUCoding/AU_OCC/F001_T1.csv", header +
                                                      "1,0,0,0,0,0,0,0,0,0,0,0,0,0\n"
                                                      "2,0,0,0,1,0,0,1,0,0,0,0,0,0\n"
                                                      "3,0,0,0,1,0,0,1,0,0,0,0,0,0\n"
                                                      "4,0,0,0,1,0,0,1,0,0,0,0,0,0\n");
  write_text(dir / "AUCoding/AU_OCC/F002_T2.csv", header + "7,0,0,0,1,0,0,0,0,0,0,0,0,0\n");
}

/// Frames under `base` (relative to the root): F001/T1/1-4.jpg, F002/T2/7.jpg.
void write_frames(const TempDir& dir, const std::string& base) {
  const std::string prefix = base.empty() ? "" : base + "/";
  for (const char* f : {"F001/T1/1.jpg", "F001/T1/2.jpg", "F001/T1/3.jpg", "F001/T1/4.jpg", "F002/T2/7.jpg"})
    write_image(dir / (prefix + f), 8, 8);
}

/// FERA 2015's intensity codes: a folder per AU, one frame,intensity file per sequence
/// (no header, 9 = not coded). AU6 codes every F001/T1 frame (frame 3 with 9), AU12 all
/// but frame 4; F002/T2 has AU6 only.
void write_fera2015_intensities(const TempDir& dir, const std::string& au12_frame2 = "2") {
  write_text(dir / "AU Intensity Codes3.0/AU06/F001_T1_AU06.csv", "1,0\n2,3\n3,9\n4,5\n");
  write_text(dir / "AU Intensity Codes3.0/AU12/F001_T1_AU12.csv", "1,1\n2," + au12_frame2 + "\n3,4\n");
  write_text(dir / "AU Intensity Codes3.0/AU06/F002_T2_AU06.csv", "7,2\n");
}

const Sample& frame_of(const Dataset& d, const std::string& subject, int frame) {
  for (const auto& s : d.samples)
    if (s.subject == subject && s.frame == frame) return s;
  throw std::runtime_error("no sample " + subject + " frame " + std::to_string(frame));
}

float intensity(const Dataset& d, const Sample& s, int au) { return s.intensities.at(d.au_index(au)); }

}  // namespace

TEST(Bp4dIntensity, ReadsTheFera2015IntensityCodesBesideTheOccurrenceLabels) {
  TempDir dir;
  write_bp4d_occurrence(dir);
  write_frames(dir, "");
  write_fera2015_intensities(dir);
  BadDataLog log;
  const Dataset d = read_bp4d(dir.path().string(), {}, log);
  ASSERT_EQ(d.samples.size(), 5u);
  EXPECT_TRUE(mentions(d.intensity_source, "AU Intensity Codes3.0")) << d.intensity_source;
  for (const auto& s : d.samples) ASSERT_EQ(s.intensities.size(), d.aus.size()) << s.origin;
  const Sample& f1 = frame_of(d, "F001", 1);
  EXPECT_EQ(intensity(d, f1, 6), 0.f);
  EXPECT_EQ(intensity(d, f1, 12), 1.f);
  EXPECT_TRUE(std::isnan(intensity(d, f1, 1)));  // AU1 has no intensity codes at all
  const Sample& f2 = frame_of(d, "F001", 2);
  EXPECT_EQ(intensity(d, f2, 6), 3.f);
  EXPECT_EQ(intensity(d, f2, 12), 2.f);
  EXPECT_TRUE(std::isnan(intensity(d, frame_of(d, "F001", 3), 6)));  // 9 = not coded
  EXPECT_EQ(intensity(d, frame_of(d, "F001", 3), 12), 4.f);
  EXPECT_EQ(intensity(d, frame_of(d, "F001", 4), 6), 5.f);
  EXPECT_TRUE(std::isnan(intensity(d, frame_of(d, "F001", 4), 12)));  // absent from the AU12 file
  const Sample& g = frame_of(d, "F002", 7);
  EXPECT_EQ(intensity(d, g, 6), 2.f);
  EXPECT_TRUE(std::isnan(intensity(d, g, 12)));  // no AU12 file for F002/T2
  // The occurrence labels are the AU_OCC ones, untouched by the intensities.
  EXPECT_EQ(f2.labels[d.au_index(6)], 1);
  EXPECT_EQ(f1.labels[d.au_index(6)], 0);

  // Only the AUs kept get intensities, in the kept order.
  ReadOptions o;
  o.aus = {12, 6, 1};
  BadDataLog log2;
  const Dataset k = read_bp4d(dir.path().string(), o, log2);
  const Sample& k2 = frame_of(k, "F001", 2);
  ASSERT_EQ(k2.intensities.size(), 3u);
  EXPECT_EQ(k2.intensities[0], 2.f);
  EXPECT_EQ(k2.intensities[1], 3.f);
  EXPECT_TRUE(std::isnan(k2.intensities[2]));
}

TEST(Bp4dIntensity, WithoutIntensityCodesSamplesHaveNoIntensities) {
  TempDir dir;
  write_bp4d_occurrence(dir);
  write_frames(dir, "");
  BadDataLog log;
  const Dataset d = read_bp4d(dir.path().string(), {}, log);
  ASSERT_EQ(d.samples.size(), 5u);
  EXPECT_TRUE(d.intensity_source.empty());
  for (const auto& s : d.samples) EXPECT_TRUE(s.intensities.empty());
}

TEST(Bp4dIntensity, ABadIntensityCellIsAnErrorWithFileAndLineOrSkipsItsFrame) {
  TempDir dir;
  write_bp4d_occurrence(dir);
  write_frames(dir, "");
  write_fera2015_intensities(dir, "7");
  try {
    BadDataLog strict;
    read_bp4d(dir.path().string(), {}, strict);
    FAIL() << "an intensity of 7 must be bad data";
  } catch (const DataError& e) {
    EXPECT_TRUE(mentions(e.what(), "F001_T1_AU12.csv:2:") && mentions(e.what(), "'7'")) << e.what();
  }
  BadDataLog skip(true);
  const Dataset d = read_bp4d(dir.path().string(), {}, skip);
  EXPECT_EQ(skip.count(BadDataReason::BadLabelValue), 1);
  ASSERT_EQ(d.samples.size(), 4u);  // frame 2 of F001/T1 is left out, the rest is kept
  for (const auto& s : d.samples) EXPECT_FALSE(s.subject == "F001" && s.frame == 2);
  EXPECT_EQ(intensity(d, frame_of(d, "F001", 3), 12), 4.f);

  write_text(dir / "AU Intensity Codes3.0/AU12/F001_T1_AU12.csv", "1,1\nframe two,2\n");
  try {
    BadDataLog strict;
    read_bp4d(dir.path().string(), {}, strict);
    FAIL() << "a row without a frame number must be bad data";
  } catch (const DataError& e) {
    EXPECT_TRUE(mentions(e.what(), "F001_T1_AU12.csv:2:")) << e.what();
  }
}

TEST(Bp4dIntensity, FindsTheIntensityFolderWhateverItsNameAndAcceptsNameVariants) {
  TempDir dir;
  write_bp4d_occurrence(dir);
  write_frames(dir, "");
  // Another copy's spelling: AUCoding/AU_INT/AU6, files named <Subject>_<Task>.csv with a header row.
  write_text(dir / "AUCoding/AU_INT/AU6/F001_T1.csv", "frame,intensity\n1,4\n2,1\n");
  write_text(dir / "AUCoding/AU_INT/AU_12/F002-T2-AU12.csv", "7,3\n");
  BadDataLog log;
  const Dataset d = read_bp4d(dir.path().string(), {}, log);
  EXPECT_TRUE(mentions(d.intensity_source, "AU_INT")) << d.intensity_source;
  EXPECT_EQ(intensity(d, frame_of(d, "F001", 1), 6), 4.f);
  EXPECT_EQ(intensity(d, frame_of(d, "F001", 2), 6), 1.f);
  EXPECT_EQ(intensity(d, frame_of(d, "F002", 7), 12), 3.f);
  // A file whose name names another AU than its folder is bad data.
  write_text(dir / "AUCoding/AU_INT/AU6/F002_T2_AU10.csv", "7,3\n");
  try {
    BadDataLog strict;
    read_bp4d(dir.path().string(), {}, strict);
    FAIL() << "an AU10 file in the AU6 folder must be bad data";
  } catch (const DataError& e) {
    EXPECT_TRUE(mentions(e.what(), "F002_T2_AU10.csv") && mentions(e.what(), "AU10")) << e.what();
  }
}

TEST(Bp4dFrames, AreFoundInEachOfTheCommonLayouts) {
  for (const std::string base : {"", "Sequences", "BP4D-training"}) {
    TempDir dir;
    write_bp4d_occurrence(dir);
    write_frames(dir, base);
    BadDataLog log;
    const Dataset d = read_bp4d(dir.path().string(), {}, log);
    ASSERT_EQ(d.samples.size(), 5u) << base;
    const std::string expected = (dir.path() / base / "F001/T1/3.jpg").lexically_normal().string();
    EXPECT_EQ(std::filesystem::path(frame_of(d, "F001", 3).image).lexically_normal().string(), expected) << base;
  }
}

TEST(Bp4dFrames, NoFrameFolderAnywhereIsAnErrorListingThePlacesTried) {
  TempDir dir;
  write_bp4d_occurrence(dir);
  write_frames(dir, "Sequences");
  std::filesystem::remove_all(dir / "Sequences/F002");
  try {
    BadDataLog strict;
    read_bp4d(dir.path().string(), {}, strict);
    FAIL() << "F002/T2 has no frames anywhere";
  } catch (const DataError& e) {
    const std::string m = e.what();
    EXPECT_TRUE(mentions(m, "F002_T2.csv:2:")) << m;
    for (const std::string& tried : {dir / "F002/T2", dir / "Sequences/F002/T2", dir / "BP4D-training/F002/T2"})
      EXPECT_TRUE(mentions(m, tried)) << m;
  }
  // --image-root replaces the layouts: only it is tried.
  ReadOptions o;
  o.image_root = dir / "Sequences";
  BadDataLog skip(true);
  const Dataset d = read_bp4d(dir.path().string(), o, skip);
  EXPECT_EQ(d.samples.size(), 4u);
  EXPECT_EQ(skip.count(BadDataReason::MissingFile), 1);
}

TEST(ManifestIntensity, CsvAuIntColumnsZeroPaddedOrNotGiveIntensities) {
  TempDir dir;
  write_image(dir / "a.png", 16, 16);
  write_text(dir / "m.csv",
             "image,subject,AU6,AU12,AU06_int,AU12_int\n"
             "a.png,p1,1,0,2.5,\n"
             "a.png,p2,0,1,0,5\n");
  BadDataLog log;
  const Dataset d = read_dataset("auto", dir / "m.csv", {}, log);
  EXPECT_EQ(d.aus, (std::vector<int>{6, 12}));
  ASSERT_EQ(d.samples.size(), 2u);
  ASSERT_EQ(d.samples[0].intensities.size(), 2u);
  EXPECT_EQ(d.samples[0].intensities[0], 2.5f);
  EXPECT_TRUE(std::isnan(d.samples[0].intensities[1]));  // empty = not coded
  EXPECT_EQ(d.samples[1].intensities[0], 0.f);
  EXPECT_EQ(d.samples[1].intensities[1], 5.f);
}

TEST(ManifestIntensity, CsvIntensityOutsideZeroToFiveIsBadDataNamingLineAndColumn) {
  TempDir dir;
  write_image(dir / "a.png", 16, 16);
  write_text(dir / "m.csv",
             "image,subject,AU6,AU12,AU6_int,AU12_int\n"
             "a.png,p1,1,0,2,1\n"
             "a.png,p2,0,1,0,6\n"
             "a.png,p3,0,1,strong,1\n");
  try {
    BadDataLog strict;
    read_dataset("auto", dir / "m.csv", {}, strict);
    FAIL() << "an intensity of 6 must be bad data";
  } catch (const DataError& e) {
    EXPECT_TRUE(mentions(e.what(), "m.csv:3:") && mentions(e.what(), "AU12_int") && mentions(e.what(), "'6'"))
        << e.what();
  }
  BadDataLog skip(true);
  const Dataset d = read_dataset("auto", dir / "m.csv", {}, skip);
  EXPECT_EQ(d.samples.size(), 1u);
  EXPECT_EQ(skip.count(BadDataReason::BadLabelValue), 2);
  // Two columns for one AU (AU6_int and AU06_int) are a header error.
  write_text(dir / "dup.csv", "image,subject,AU6,AU6_int,AU06_int\na.png,p1,1,2,2\n");
  BadDataLog log;
  EXPECT_THROW(read_dataset("auto", dir / "dup.csv", {}, log), DataError);
}

TEST(ManifestIntensity, JsonIntensityOutsideZeroToFiveIsBadData) {
  TempDir dir;
  write_image(dir / "a.png", 16, 16);
  write_text(dir / "manifest.jsonl",
             "{\"image\": \"a.png\", \"subject\": \"p1\", \"aus\": {\"6\": 1}, \"intensity\": {\"6\": 4.5}}\n"
             "{\"image\": \"a.png\", \"subject\": \"p2\", \"aus\": {\"6\": 1}, \"intensity\": {\"6\": null}}\n"
             "{\"image\": \"a.png\", \"subject\": \"p3\", \"aus\": {\"6\": 1}, \"intensity\": {\"6\": 8}}\n");
  try {
    BadDataLog strict;
    read_dataset("auto", dir / "manifest.jsonl", {}, strict);
    FAIL() << "an intensity of 8 must be bad data";
  } catch (const DataError& e) {
    EXPECT_TRUE(mentions(e.what(), "manifest.jsonl:3:") && mentions(e.what(), "AU6 intensity 8")) << e.what();
  }
  BadDataLog skip(true);
  const Dataset d = read_dataset("auto", dir / "manifest.jsonl", {}, skip);
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.samples[0].intensities[0], 4.5f);
  EXPECT_TRUE(std::isnan(d.samples[1].intensities[0]));
}
