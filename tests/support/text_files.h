// Reading the text files tests write or that programs under test leave behind.
#pragma once
#include <string>
#include <vector>

namespace hicomex::test {

/// The whole file; empty if it is missing or unreadable.
std::string read_text(const std::string& path);
/// The file's lines without their line ends; empty if it is missing.
std::vector<std::string> read_lines(const std::string& path);

}  // namespace hicomex::test
