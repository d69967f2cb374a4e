// The plugin as users meet it: gst-inspect-1.0 and the gst-launch-1.0 lines
// of docs/elements.md, run through the build dir's registry.
#include <gtest/gtest.h>

#include <glib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "analyzer_test_util.h"
#include "gst_test_util.h"
#include "hicomex_config.h"

namespace {

using SpawnResult = hicomex::test::RunResult;

// Runs a program (tests/support's run), optionally with GST_DEBUG set.
SpawnResult spawn(const std::vector<std::string>& argv, const std::string& cwd = {}, const char* gst_debug = nullptr) {
  hicomex::test::RunOptions options;
  options.cwd = cwd;
  if (gst_debug) options.env = {{"GST_DEBUG", gst_debug}};
  return hicomex::test::run(argv, options);
}

// Lines starting with "gst-launch-1.0" inside ``` blocks of the doc.
std::vector<std::string> doc_pipelines() {
  std::ifstream in(std::string(HICOMEX_SOURCE_ROOT) + "/docs/elements.md");
  std::vector<std::string> out;
  bool in_code = false;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("```", 0) == 0) {
      in_code = !in_code;
      continue;
    }
    if (in_code && l.rfind("gst-launch-1.0 ", 0) == 0) out.push_back(l);
  }
  return out;
}

std::vector<std::string> shell_words(const std::string& line) {
  gchar** argv = nullptr;
  gint argc = 0;
  std::vector<std::string> words;
  if (g_shell_parse_argv(line.c_str(), &argc, &argv, nullptr)) {
    for (int i = 0; i < argc; ++i) words.push_back(argv[i]);
    g_strfreev(argv);
  }
  return words;
}

class Inspect : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(Inspect, ListsEveryPropertyWithoutWarnings) {
  const SpawnResult r = spawn({"gst-inspect-1.0", GetParam()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "") << "stderr not empty";
  EXPECT_EQ(r.out.find("WARN"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CRITICAL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hicomex"), std::string::npos);
  // GStreamer's own WARN level: other plugins may complain while the registry
  // is scanned, ours must not (e.g. an unknown license string).
  const SpawnResult verbose = spawn({"gst-inspect-1.0", GetParam()}, {}, "*:2");
  EXPECT_EQ(verbose.status, 0);
  std::istringstream lines(verbose.err);
  for (std::string l; std::getline(lines, l);) EXPECT_EQ(l.find("hicomex"), std::string::npos) << l;
}

INSTANTIATE_TEST_SUITE_P(HicomexPlugin, Inspect, ::testing::Values("hicomex", "hicomexoverlay", "hicomexexport"));

TEST(HicomexPlugin, InspectShowsEachPropertyOfTheElements) {
  const SpawnResult analyzer = spawn({"gst-inspect-1.0", "hicomex"});
  for (const char* p :
       {"model", "device", "precision", "batch-timeout", "threads", "detector", "detection-interval",
        "inference-interval", "max-faces", "min-face-size", "threshold", "landmark-smoothing", "au-smoothing",
        "calibration", "post-messages", "skipped-inferences", "qos", "blazeface-back", "Analyzer/Video"})
    EXPECT_NE(analyzer.out.find(p), std::string::npos) << p;
  const SpawnResult overlay = spawn({"gst-inspect-1.0", "hicomexoverlay"});
  for (const char* p : {"draw-boxes", "draw-landmarks", "draw-labels", "draw-bars", "min-probability"})
    EXPECT_NE(overlay.out.find(p), std::string::npos) << p;
  const SpawnResult exporter = spawn({"gst-inspect-1.0", "hicomexexport"});
  for (const char* p : {"location", "format", "overwrite", "probabilities", "jsonl"})
    EXPECT_NE(exporter.out.find(p), std::string::npos) << p;
}

TEST(HicomexPlugin, DocExamplesRunAsWritten) {
  const auto pipelines = doc_pipelines();
  ASSERT_GE(pipelines.size(), 2u) << "docs/elements.md has no gst-launch-1.0 examples";
  for (const std::string& line : pipelines) {
    // Examples needing a camera, a file or the analyzer are documentation only.
    if (line.find("v4l2src") != std::string::npos || line.find("filesrc") != std::string::npos ||
        line.find("autovideosink") != std::string::npos || std::regex_search(line, std::regex("! hicomex( |$)")))
      continue;
    gsttest::TempDir dir;  // examples write relative paths
    const SpawnResult r = spawn(shell_words(line), dir.path().string());
    EXPECT_EQ(r.status, 0) << line << "\n" << r.out << r.err;
  }
}

// The analyzer examples read face.jpg and my-model.safetensors from the
// working directory; the test puts the test photo and the small model there.
TEST(HicomexPlugin, AnalyzerDocExamplesRunAsWritten) {
  gsttest::init_gst();
  int ran = 0;
  for (const std::string& line : doc_pipelines()) {
    if (!std::regex_search(line, std::regex("! hicomex( |$)")) || line.find("face.jpg") == std::string::npos) continue;
    gsttest::TempDir dir;
    std::filesystem::copy_file(gsttest::kGraceHopper, dir.file("face.jpg"));
    std::filesystem::copy_file(gsttest::small_model(), dir.file("my-model.safetensors"));
    const SpawnResult r = spawn(shell_words(line), dir.path().string());
    EXPECT_EQ(r.status, 0) << line << "\n" << r.out << r.err;
    if (line.find("hicomexexport") != std::string::npos) {
      const auto csv = gsttest::read_lines(dir.file("face.csv"));
      EXPECT_EQ(csv.size(), 11u) << "a header and one row per frame: " << line;
    }
    if (line.find(" -m ") != std::string::npos) {
      EXPECT_NE(r.out.find("hicomex, frame=(guint64)"), std::string::npos) << r.out;
    }
    ++ran;
  }
  EXPECT_GE(ran, 2) << "docs/elements.md lost its analyzer examples";
}

TEST(HicomexPlugin, PrecisionRunsBf16AndNamesABadValue) {
  gsttest::init_gst();
  const std::string head =
      "gst-launch-1.0 -q filesrc location=" + gsttest::kGraceHopper +
      " ! jpegdec ! videoconvert ! imagefreeze num-buffers=2 ! hicomex device=cpu model=" + gsttest::small_model();
  gsttest::TempDir dir;
  const SpawnResult bf16 =
      spawn(shell_words(head + " precision=bf16 ! hicomexexport location=out.csv ! fakesink"), dir.path().string());
  EXPECT_EQ(bf16.status, 0) << bf16.out << bf16.err;
  EXPECT_EQ(gsttest::read_lines(dir.file("out.csv")).size(), 3u) << "a header and one row per frame";
  const SpawnResult half = spawn(shell_words(head + " precision=fp16 ! fakesink"));
  EXPECT_NE(half.status, 0);
  EXPECT_NE((half.out + half.err).find("precision 'fp16' needs a CUDA device"), std::string::npos)
      << half.out << half.err;
  const SpawnResult bad = spawn(shell_words(head + " precision=int4 ! fakesink"));
  EXPECT_NE(bad.status, 0);
  EXPECT_NE((bad.out + bad.err).find("unknown precision 'int4'"), std::string::npos) << bad.out << bad.err;
}

// Two streams in one process share the model and, with batch-timeout, its
// batches; each still gets its own results (one row per frame and face).
TEST(HicomexPlugin, TwoStreamsWithCrossStreamBatchingEachGetTheirResults) {
  gsttest::init_gst();
  gsttest::TempDir dir;
  auto branch = [&](const std::string& out) {
    return "filesrc location=" + gsttest::kGraceHopper +
           " ! jpegdec ! videoconvert ! imagefreeze num-buffers=6 ! hicomex device=cpu batch-timeout=200000 model=" +
           gsttest::small_model() + " ! hicomexexport location=" + out + " ! fakesink ";
  };
  const SpawnResult r =
      spawn(shell_words("gst-launch-1.0 -q " + branch("a.csv") + branch("b.csv")), dir.path().string());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(gsttest::read_lines(dir.file("a.csv")).size(), 7u);
  EXPECT_EQ(gsttest::read_lines(dir.file("b.csv")).size(), 7u);
}

TEST(HicomexPlugin, MetaReaderReadsWhatTheAnalyzerWrote) {
  gsttest::init_gst();
  const char* reader = g_getenv("HICOMEX_META_READER");
  ASSERT_NE(reader, nullptr);
  const SpawnResult r = spawn({reader, "filesrc location=" + gsttest::kGraceHopper +
                                           " ! jpegdec ! videoconvert ! imagefreeze num-buffers=3 ! hicomex model=" +
                                           gsttest::small_model() + " threshold=0 ! appsink name=sink"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("frames=3 with-meta=3 faces=3"), std::string::npos) << r.out;
  // threshold=0: every AU occurs, so the reader lists AU01 first.
  EXPECT_NE(r.out.find("frame 1 face 0 box"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AU01("), std::string::npos) << r.out;
}

TEST(HicomexPlugin, MetaReaderPrintsIntensitiesOfAModelWithAnIntensityHead) {
  gsttest::init_gst();
  const char* reader = g_getenv("HICOMEX_META_READER");
  ASSERT_NE(reader, nullptr);
  const std::string head = "filesrc location=" + gsttest::kGraceHopper +
                           " ! jpegdec ! videoconvert ! imagefreeze num-buffers=2 ! hicomex threshold=0 "
                           "calibration=none model=";
  const SpawnResult with = spawn({reader, head + gsttest::intensity_model() + " ! appsink name=sink"});
  EXPECT_EQ(with.status, 0) << with.err;
  EXPECT_TRUE(std::regex_search(with.out, std::regex(R"(AU01\(p=[0-9.]+ i=[0-9.]+ raw=[0-9.]+\))"))) << with.out;
  const SpawnResult without = spawn({reader, head + gsttest::small_model() + " ! appsink name=sink"});
  EXPECT_EQ(without.status, 0) << without.err;
  EXPECT_TRUE(std::regex_search(without.out, std::regex(R"(AU01\(p=[0-9.]+\))"))) << without.out;
  EXPECT_EQ(without.out.find(" i="), std::string::npos) << without.out;
}

// gst-launch-1.0 with the calibration property, and the exporter's columns.
TEST(HicomexPlugin, CalibrationAndProbabilitiesWorkFromGstLaunch) {
  gsttest::init_gst();
  gsttest::TempDir dir;
  const std::string head =
      "gst-launch-1.0 -q filesrc location=" + gsttest::kGraceHopper +
      " ! jpegdec ! videoconvert ! imagefreeze num-buffers=3 ! hicomex device=cpu model=" + gsttest::intensity_model();
  const SpawnResult r =
      spawn(shell_words(head + " calibration=none ! hicomexexport location=out.csv probabilities=true ! fakesink"),
            dir.path().string());
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  const auto lines = gsttest::read_lines(dir.file("out.csv"));
  ASSERT_EQ(lines.size(), 4u) << "a header and one row per frame";
  const auto h = gsttest::split_row(lines[0]);
  int r_cols = 0, c_cols = 0, p_cols = 0;
  for (const auto& name : h) {
    if (name.rfind("AU", 0) != 0) continue;
    r_cols += name.back() == 'r';
    c_cols += name.back() == 'c';
    p_cols += name.back() == 'p';
  }
  EXPECT_EQ(r_cols, 12);
  EXPECT_EQ(c_cols, 12);
  EXPECT_EQ(p_cols, 12);
  for (std::size_t l = 1; l < lines.size(); ++l) {
    const auto row = gsttest::split_row(lines[l]);
    ASSERT_EQ(row.size(), h.size());
    for (std::size_t c = 0; c < h.size(); ++c) {
      if (h[c].rfind("AU", 0) != 0) continue;
      const double v = std::stod(row[c]);
      if (h[c].back() == 'r') {
        EXPECT_GE(v, 0.0) << h[c];
        EXPECT_LE(v, 5.0) << h[c];
      } else if (h[c].back() == 'c') {
        EXPECT_TRUE(row[c] == "0.0" || row[c] == "1.0") << h[c] << " " << row[c];
      } else {
        EXPECT_GE(v, 0.0) << h[c];
        EXPECT_LE(v, 1.0) << h[c];
      }
    }
  }
  // Set before the pipeline exists: the warning comes when the element starts; the run goes on.
  // (without -q, which hides warnings)
  std::string loud = head;
  loud.replace(loud.find(" -q "), 4, " ");
  const SpawnResult bad = spawn(shell_words(loud + " calibration=sometimes ! fakesink"), dir.path().string());
  EXPECT_EQ(bad.status, 0) << bad.out << bad.err;
  EXPECT_NE((bad.out + bad.err).find("Invalid value \"sometimes\" for property 'calibration'"), std::string::npos)
      << bad.out << bad.err;
}

TEST(HicomexPlugin, MetaReaderExampleRunsAndCountsFrames) {
  const char* reader = g_getenv("HICOMEX_META_READER");
  ASSERT_NE(reader, nullptr) << "HICOMEX_META_READER not set by meson";
  const SpawnResult r = spawn({reader, "videotestsrc num-buffers=3 ! appsink name=sink"});
  EXPECT_EQ(r.status, 0) << r.err;
  // No analyzer in this pipeline: frames arrive, none carries the meta.
  EXPECT_NE(r.out.find("frames=3 with-meta=0 faces=0"), std::string::npos) << r.out;
  const SpawnResult bad = spawn({reader, "videotestsrc ! fakesink"});
  EXPECT_EQ(bad.status == 0, false);
}
