// The analyzer in a real pipeline under valgrind's memcheck: a definite leak or
// an invalid read/write fails the test. Suite `slow` (LibTorch under valgrind
// takes minutes); a few frames of a face photo, so every stage runs.
#include <gtest/gtest.h>

#include <string>

#include "analyzer_test_util.h"
#include "hicomex_config.h"

using namespace gsttest;

namespace {

// The last `n` lines of `text` (valgrind's summary is at the end).
std::string tail(const std::string& text, int n) {
  size_t pos = text.size();
  for (int i = 0; i < n && pos != std::string::npos && pos > 0; ++i) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos ? text : text.substr(pos);
}

}  // namespace

TEST(HicomexUnderValgrind, AShortPipelineHasNoDefiniteLeakOrInvalidAccess) {
  init_gst();
  if (!g_find_program_in_path("valgrind")) GTEST_SKIP() << "valgrind is not installed";
  // Build this binary's registry outside valgrind: scanning plugins under it
  // would take longer than the pipeline.
  ASSERT_EQ(hicomex::test::run({"gst-inspect-1.0", "hicomex"}).status, 0);

  const std::string pipeline = "filesrc location=" + kGraceHopper +
                               " ! jpegdec ! videoconvert ! video/x-raw,format=I420 ! imagefreeze num-buffers=3"
                               " ! hicomex model=" +
                               small_model() + " threads=1 post-messages=true ! fakesink";
  std::vector<std::string> argv = {"valgrind", "--tool=memcheck", "--leak-check=full",
                                   "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                                   // Leaks and invalid accesses only: LibTorch's vectorised
                                   // kernels make uninitialised-value reports noise.
                                   "--undef-value-errors=no", "--error-exitcode=42", "--num-callers=30"};
  if (g_file_test("/usr/share/glib-2.0/valgrind/glib.supp", G_FILE_TEST_EXISTS))
    argv.push_back("--suppressions=/usr/share/glib-2.0/valgrind/glib.supp");
  // Reports from ld.so, libcpuinfo and GLib's constructor, none of them ours.
  argv.push_back(std::string("--suppressions=") + HICOMEX_SOURCE_ROOT + "/tests/gst/valgrind.supp");
  argv.push_back("gst-launch-1.0");
  argv.push_back("-q");
  for (const std::string& w :
       std::vector<std::string>{"filesrc", "location=" + kGraceHopper, "!", "jpegdec", "!", "videoconvert", "!",
                                "video/x-raw,format=I420", "!", "imagefreeze", "num-buffers=3", "!", "hicomex",
                                "model=" + small_model(), "threads=1", "post-messages=true", "!", "fakesink"})
    argv.push_back(w);
  hicomex::test::RunOptions options;
  options.env = {{"GST_REGISTRY_UPDATE", "no"},
                 {"G_SLICE", "always-malloc"},
                 {"G_DEBUG", "gc-friendly"},
                 {"ORC_CODE", "backup"},
                 {"OMP_NUM_THREADS", "1"}};
  const hicomex::test::RunResult r = hicomex::test::run(argv, options);
  EXPECT_EQ(r.status, 0) << pipeline << "\n" << tail(r.err, 80);
  EXPECT_NE(r.err.find("ERROR SUMMARY: 0 errors"), std::string::npos) << tail(r.err, 80);
}
