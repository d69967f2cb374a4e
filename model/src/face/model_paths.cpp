#include "hicomex/model_paths.h"

#include <cstdlib>
#include <stdexcept>
#include <sys/stat.h>

#include "hicomex/errors.h"
#include "hicomex_config.h"

namespace hicomex {
namespace {

bool exists(const std::string& path, bool want_dir) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

}  // namespace

std::string face_models_dir() {
  if (const char* env = std::getenv("HICOMEX_FACE_MODELS"); env && *env) return env;
  const std::string installed = std::string(HICOMEX_INSTALL_DATADIR) + "/face-models";
  if (exists(installed, true)) return installed;
  return HICOMEX_SOURCE_FACE_MODELS;
}

std::string face_model_path(const std::string& file) {
  const std::string path = face_models_dir() + "/" + file;
  if (!exists(path, false)) {
    throw ModelFileError(
        ModelFileError::Kind::NotFound, path,
        "face model file not found: " + path +
        " (fetch the models with scripts/fetch-face-models.sh [DEST], or point "
        "HICOMEX_FACE_MODELS at a folder that holds them)");
  }
  return path;
}

}  // namespace hicomex
