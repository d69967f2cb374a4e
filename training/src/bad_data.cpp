// Strict-or-skip handling of bad input data (see bad_data.h).
#include "training/bad_data.h"

#include <sstream>

namespace hicomex::training {

std::string format_location(const std::string& file, int line, const std::string& problem) {
  std::ostringstream os;
  os << file;
  if (line > 0) os << ':' << line;
  os << ": " << problem;
  return os.str();
}

DataError::DataError(std::string file, int line, std::string problem)
    : std::runtime_error(format_location(file, line, problem)),
      file_(std::move(file)),
      line_(line),
      problem_(std::move(problem)) {}

const char* to_string(BadDataReason r) {
  switch (r) {
    case BadDataReason::MissingFile: return "missing file";
    case BadDataReason::UnreadableImage: return "unreadable image";
    case BadDataReason::WrongAuCount: return "wrong number of AU labels";
    case BadDataReason::BadLabelValue: return "bad label value";
    case BadDataReason::WrongLandmarkCount: return "wrong landmark count";
    case BadDataReason::MalformedLine: return "malformed line";
    case BadDataReason::NoLandmarks: return "no landmarks (none given, none detected)";
    case BadDataReason::MissingFrame: return "frame missing from some label files";
  }
  return "unknown";
}

void BadDataLog::report(BadDataReason reason, const std::string& file, int line, const std::string& problem) {
  if (!skip_) throw DataError(file, line, problem);
  if (counts_[reason]++ == 0) first_[reason] = format_location(file, line, problem);
}

std::int64_t BadDataLog::total() const {
  std::int64_t n = 0;
  for (const auto& [r, c] : counts_) n += c;
  return n;
}

std::int64_t BadDataLog::count(BadDataReason reason) const {
  auto it = counts_.find(reason);
  return it == counts_.end() ? 0 : it->second;
}

void BadDataLog::merge(const BadDataLog& other) {
  for (const auto& [r, c] : other.counts_) {
    if (counts_[r] == 0) first_[r] = other.first_.at(r);
    counts_[r] += c;
  }
}

std::string BadDataLog::summary() const {
  if (counts_.empty()) return "bad data: none";
  std::ostringstream os;
  os << "bad data: " << total() << " sample(s) skipped";
  for (const auto& [r, c] : counts_) os << "\n  " << c << " x " << to_string(r) << " (first: " << first_.at(r) << ")";
  return os.str();
}

}  // namespace hicomex::training
