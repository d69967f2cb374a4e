// BP4D reader (docs/training.md, "Preparing BP4D and DISFA"): AUCoding/AU_OCC/<Subject>_<Task>.csv, a header row
// whose first column is the frame and the others AU numbers; cells 0 / 1 / 9 (not
// coded). Frames are <image_root>/<Subject>/<Task>/<frame>.jpg. Copies of BP4D differ
// in how frame names are zero-padded (2440.jpg vs 0044.jpg vs 044.jpg), so the width
// is probed on disk per task folder.
#include <algorithm>
#include <filesystem>
#include <map>

#include "hicomex/au_catalog.h"
#include "text_util.h"
#include "training/dataset.h"

namespace fs = std::filesystem;

namespace hicomex::training {
namespace {

std::string frame_name(long long frame, int width) {
  std::string n = std::to_string(frame);
  if (static_cast<int>(n.size()) < width) n.insert(0, width - n.size(), '0');
  return n + ".jpg";
}

/// Finds the frame file trying the padding that worked last for this folder first.
std::string find_frame(const fs::path& dir, long long frame, int& width) {
  if (width >= 0) {
    fs::path p = dir / frame_name(frame, width);
    if (fs::exists(p)) return p.string();
  }
  for (int w : {0, 3, 4, 5, 6}) {
    fs::path p = dir / frame_name(frame, w);
    if (fs::exists(p)) {
      width = w;
      return p.string();
    }
  }
  return {};
}

}  // namespace

Dataset read_bp4d(const std::string& root, const ReadOptions& options, BadDataLog& log) {
  const fs::path label_dir = fs::path(root) / "AUCoding" / "AU_OCC";
  if (!fs::is_directory(label_dir))
    throw DataError(label_dir.string(), 0, "BP4D label folder not found");
  const fs::path image_root = options.image_root.empty() ? fs::path(root) : fs::path(options.image_root);

  Dataset d;
  d.kind = "bp4d";
  d.source = root;
  d.aus = options.aus.empty() ? bp4d_aus() : options.aus;

  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(label_dir))
    if (e.is_regular_file() && e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw DataError(label_dir.string(), 0, "no <Subject>_<Task>.csv label files");

  for (const auto& file : files) {
    const std::string fname = file.string();
    const std::string stem = file.stem().string();
    const auto us = stem.find('_');
    if (us == std::string::npos || us == 0 || us + 1 == stem.size()) {
      log.report(BadDataReason::MalformedLine, fname, 0,
                 "file name is not <Subject>_<Task>.csv; whole file skipped");
      continue;
    }
    const std::string subject = stem.substr(0, us), task = stem.substr(us + 1);
    const auto lines = text::read_lines(fname);
    if (lines.empty()) {
      log.report(BadDataReason::MalformedLine, fname, 1, "empty label file; whole file skipped");
      continue;
    }
    // Header: column of each wanted AU.
    const auto header = text::split(lines[0], ',');
    std::map<long long, std::size_t> column_of;
    bool header_ok = true;
    for (std::size_t c = 1; c < header.size(); ++c) {
      auto au = text::parse_int(header[c]);
      if (!au) {
        log.report(BadDataReason::MalformedLine, fname, 1,
                   "header column " + std::to_string(c + 1) + " '" + header[c] +
                       "' is not an AU number; whole file skipped");
        header_ok = false;
        break;
      }
      column_of[*au] = c;
    }
    if (!header_ok) continue;
    std::vector<std::size_t> cols;
    for (int au : d.aus) {
      auto it = column_of.find(au);
      if (it == column_of.end()) {
        log.report(BadDataReason::WrongAuCount, fname, 1,
                   "no column for AU" + std::to_string(au) + "; whole file skipped");
        header_ok = false;
        break;
      }
      cols.push_back(it->second);
    }
    if (!header_ok) continue;

    const fs::path frame_dir = image_root / subject / task;
    int width = -1;
    for (std::size_t li = 1; li < lines.size(); ++li) {
      const int line_no = static_cast<int>(li + 1);
      if (text::trim(lines[li]).empty()) continue;
      const auto cells = text::split(lines[li], ',');
      if (cells.size() != header.size()) {
        log.report(BadDataReason::WrongAuCount, fname, line_no,
                   std::to_string(cells.size()) + " cells, the header has " +
                       std::to_string(header.size()));
        continue;
      }
      const auto frame = text::parse_int(cells[0]);
      if (!frame || *frame < 0) {
        log.report(BadDataReason::MalformedLine, fname, line_no, "frame '" + cells[0] + "' is not a number");
        continue;
      }
      Sample s;
      s.subject = subject;
      s.frame = static_cast<int>(*frame);
      s.origin = fname + ":" + std::to_string(line_no);
      bool ok = true;
      for (std::size_t j = 0; j < cols.size() && ok; ++j) {
        const auto v = text::parse_int(cells[cols[j]]);
        if (!v || (*v != 0 && *v != 1 && *v != 9)) {
          log.report(BadDataReason::BadLabelValue, fname, line_no,
                     "AU" + std::to_string(d.aus[j]) + " cell '" + cells[cols[j]] +
                         "' is not 0, 1 or 9");
          ok = false;
        } else {
          s.labels.push_back(*v == 9 ? kNotCoded : static_cast<std::int8_t>(*v));
        }
      }
      if (!ok) continue;
      if (options.check_files) {
        s.image = find_frame(frame_dir, *frame, width);
        if (s.image.empty()) {
          log.report(BadDataReason::MissingFile, fname, line_no,
                     "frame image " + (frame_dir / frame_name(*frame, 0)).string() +
                         " not found (also tried zero-padded names)");
          continue;
        }
      } else {
        s.image = (frame_dir / frame_name(*frame, std::max(width, 0))).string();
      }
      d.samples.push_back(std::move(s));
    }
  }
  return d;
}

}  // namespace hicomex::training
