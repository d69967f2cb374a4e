#include "hicomex/model_paths.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "hicomex/errors.h"
#include "hicomex_config.h"

namespace hicomex {
namespace {

bool exists(const std::string& path, bool want_dir) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

// `path` lies inside folder `root` (both made canonical; false when either does not resolve).
bool inside(const std::string& path, const std::string& root) {
  std::error_code ec;
  const auto p = std::filesystem::weakly_canonical(path, ec);
  if (ec) return false;
  const auto r = std::filesystem::weakly_canonical(root, ec);
  if (ec || r.empty()) return false;
  auto pi = p.begin();
  for (auto ri = r.begin(); ri != r.end(); ++ri, ++pi) {
    if (ri->empty()) continue;  // trailing separator of the root
    if (pi == p.end() || *pi != *ri) return false;
  }
  return true;
}

}  // namespace

bool running_from_build_tree() {
  // The file this function's code was loaded from: libhicomex.so, or the
  // executable or plugin it is linked into.
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&running_from_build_tree), &info) == 0 || !info.dli_fname) return false;
  return inside(info.dli_fname, HICOMEX_BUILD_ROOT);
}

std::vector<std::string> bundled_search_order(const std::string& installed, const std::string& source,
                                              bool from_build_tree) {
  if (from_build_tree) return {source, installed};
  return {installed, source};
}

std::string face_models_dir() {
  if (const char* env = std::getenv("HICOMEX_FACE_MODELS"); env && *env) return env;
  for (const auto& dir : bundled_search_order(std::string(HICOMEX_INSTALL_DATADIR) + "/face-models",
                                              HICOMEX_SOURCE_FACE_MODELS, running_from_build_tree())) {
    if (exists(dir, true)) return dir;
  }
  return HICOMEX_SOURCE_FACE_MODELS;
}

std::string face_model_path(const std::string& file) {
  const std::string path = face_models_dir() + "/" + file;
  if (!exists(path, false)) {
    throw ModelFileError(ModelFileError::Kind::NotFound, path,
                         "face model file not found: " + path +
                             " (fetch the models with scripts/fetch-face-models.sh [DEST], or point "
                             "HICOMEX_FACE_MODELS at a folder that holds them)");
  }
  return path;
}

}  // namespace hicomex
