// Small strict text parsing helpers for the dataset readers (private header).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace hicomex::training::text {

/// Lines of a text file without trailing CR/LF; throws DataError(path, 0) if unreadable.
std::vector<std::string> read_lines(const std::string& path);
std::string trim(const std::string& s);
/// Splits on `sep` (no quoting); cells trimmed.
std::vector<std::string> split(const std::string& s, char sep);
/// Splits on runs of spaces / tabs.
std::vector<std::string> split_ws(const std::string& s);
/// CSV cells with "double quoted" fields; cells trimmed.
std::vector<std::string> split_csv(const std::string& s);
/// Whole-string integer / float, nullopt if anything else is there.
std::optional<long long> parse_int(const std::string& s);
std::optional<double> parse_float(const std::string& s);

}  // namespace hicomex::training::text
