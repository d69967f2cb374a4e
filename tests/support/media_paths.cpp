#include "media_paths.h"

#include <cstdlib>

#ifndef HICOMEX_TEST_FACE_MODELS_DIR
#error "HICOMEX_TEST_FACE_MODELS_DIR must be set by tests/support/meson.build"
#endif

namespace hicomex::test {

std::string source_root() { return HICOMEX_TEST_SOURCE_ROOT; }

std::string source_face_models_dir() { return HICOMEX_TEST_FACE_MODELS_DIR; }

std::string face_models_dir() {
  if (const char* env = std::getenv("HICOMEX_FACE_MODELS"); env && *env) return env;
  return source_face_models_dir();
}

std::vector<std::string> sample_photos() {
  std::vector<std::string> out;
  const std::string dir = face_models_dir();
  for (int i = 1; i <= 6; ++i) out.push_back(dir + "/samples/sample" + std::to_string(i) + ".jpg");
  return out;
}

}  // namespace hicomex::test
