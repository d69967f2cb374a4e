#include "temp_dir.h"

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace hicomex::test {

namespace {

// Gives the owner full access to `p` and every folder below it, so that
// remove_all also gets through folders a test made read-only or unreadable.
void make_removable(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(p, ec))) return;
  fs::permissions(p, fs::perms::owner_all, fs::perm_options::add, ec);
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) make_removable(it->path());
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) {
    throw std::runtime_error("cannot create a temporary folder " + tmpl + ": " +
                             std::error_code(errno, std::generic_category()).message());
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty() || std::getenv("HICOMEX_KEEP_TEST_FILES")) return;
  std::error_code ec;
  make_removable(path_);
  fs::remove_all(path_, ec);
}

const TempDir& process_temp_dir() {
  static const TempDir dir("hicomex-test-process");
  return dir;
}

}  // namespace hicomex::test
