// A temporary folder for a test: created fresh and unique (mkdtemp) under the
// system temp dir, removed with everything in it when the object goes away.
#pragma once
#include <filesystem>
#include <string>

namespace hicomex::test {

class TempDir {
 public:
  /// Creates <temp dir>/<prefix>-XXXXXX; throws std::runtime_error on failure.
  explicit TempDir(const std::string& prefix = "hicomex-test");
  /// Removes the folder and its contents, read-only or unreadable folders
  /// inside it included. Kept when HICOMEX_KEEP_TEST_FILES is set (debugging).
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// The folder itself as a string.
  std::string str() const { return path_.string(); }
  /// The path of `name` (a file or a relative path) inside the folder.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string operator/(const std::string& rel) const { return file(rel); }

 private:
  std::filesystem::path path_;
};

/// A folder that lives as long as the test process: for files written once
/// per process (models, videos) and shared by its tests.
const TempDir& process_temp_dir();

}  // namespace hicomex::test
