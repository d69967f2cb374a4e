// Bad input data: a clear "file:line: problem" error, or - only when the user asks
// for it - skip the sample and count it per reason, so a run never trains on fewer
// samples than the user thinks without saying so.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace hicomex::training {

/// A problem with input data, located at file:line (line 0 = the whole file).
class DataError : public std::runtime_error {
 public:
  DataError(std::string file, int line, std::string problem);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string file_;
  int line_;
  std::string problem_;
};

/// "file:line: problem" ("file: problem" when line is 0).
std::string format_location(const std::string& file, int line, const std::string& problem);

/// Reasons a sample can be dropped; the summary counts them separately.
enum class BadDataReason {
  MissingFile,         ///< an image, video or list file that does not exist
  UnreadableImage,     ///< the file exists but does not decode (found at prepare time)
  WrongAuCount,        ///< a label row with the wrong number of cells / AUs
  BadLabelValue,       ///< a label cell that is not 0, 1 or the not-coded mark
  WrongLandmarkCount,  ///< landmarks that are not 68, 66 or 49 points
  MalformedLine,       ///< a JSON / CSV / list line that does not parse
  NoLandmarks,         ///< neither the dataset nor the detector gave landmarks
  MissingFrame,        ///< a frame absent from some of a subject's label files
};
const char* to_string(BadDataReason r);

/// Either throws at the first problem (default) or, with skip = true, counts.
class BadDataLog {
 public:
  explicit BadDataLog(bool skip = false) : skip_(skip) {}

  /// Throws DataError in strict mode; counts (and remembers the first example) in skip mode.
  void report(BadDataReason reason, const std::string& file, int line, const std::string& problem);

  std::int64_t total() const;
  std::int64_t count(BadDataReason reason) const;
  /// Counts of another log added to this one (e.g. read + prepare).
  void merge(const BadDataLog& other);
  /// One line per reason with its count and first example; "no bad data" when empty.
  std::string summary() const;

 private:
  bool skip_;
  std::map<BadDataReason, std::int64_t> counts_;
  std::map<BadDataReason, std::string> first_;
};

}  // namespace hicomex::training
