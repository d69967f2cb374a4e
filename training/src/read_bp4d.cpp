// BP4D reader (docs/training.md, "Preparing BP4D and DISFA"): AUCoding/AU_OCC/<Subject>_<Task>.csv, a header row
// whose first column is the frame and the others AU numbers; cells 0 / 1 / 9 (not
// coded). Frames are <image_root>/<Subject>/<Task>/<frame>.jpg; without an image root,
// the first of <root>, <root>/Sequences and <root>/BP4D-training that holds the
// sequence's <Subject>/<Task> folder (copies of BP4D unpack differently). Copies also
// differ in how frame names are zero-padded (2440.jpg vs 0044.jpg vs 044.jpg), so the
// width is probed on disk per task folder.
//
// Intensity codes (the FERA 2015 release, a subset of the AUs) are read when the root
// holds them: a folder per AU (AU06, AU10, ...) of per-sequence CSV files named after
// subject and task (F001_T1_AU06.csv), rows "frame,intensity" with 0-5 and 9 = not
// coded. The folder holding the AU folders is named differently between copies
// ("AU Intensity Codes3.0", AUCoding/AU_INT, ...), so it is searched for.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>

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

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// "AU06", "AU6", "au_06", "AU 12" -> the AU number; nullopt for anything else.
std::optional<int> au_folder_number(const std::string& name) {
  static const std::regex re(R"(^[Aa][Uu][ _]?0*([0-9]{1,2})$)");
  std::smatch m;
  if (!std::regex_match(name, m, re)) return std::nullopt;
  return std::stoi(m[1].str());
}

/// Subject folders (F001, M017) are never searched for intensity codes: below them are
/// the frames, thousands of files per task.
bool is_subject_folder(const std::string& name) {
  static const std::regex re(R"(^[FfMm][0-9]{3}$)");
  return std::regex_match(name, re);
}

std::vector<fs::path> subfolders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Sequence key: lower-case "<subject>_<task>".
std::string sequence_key(const std::string& subject, const std::string& task) {
  return lower(subject) + "_" + lower(task);
}

/// The intensity codes found under a BP4D root.
struct IntensityCodes {
  fs::path folder;                                       ///< parent of the AU folders; empty = none found
  std::map<int, std::map<std::string, fs::path>> files;  ///< AU -> sequence key -> CSV file
};

/// Looks for the folder holding AU<n> folders at depth 0-2 under `root` (the one with
/// the most AU folders; ties go to the first in path order) and lists their CSV files
/// by sequence. File names must start with <Subject>_<Task> (separator optional), and
/// may go on with anything, e.g. "_AU06"; an AU number there must be the folder's.
IntensityCodes find_intensity_codes(const fs::path& root, const std::vector<int>& aus, BadDataLog& log) {
  std::vector<fs::path> candidates{root};
  for (const auto& d1 : subfolders(root)) {
    if (is_subject_folder(d1.filename().string())) continue;
    candidates.push_back(d1);
    for (const auto& d2 : subfolders(d1))
      if (!is_subject_folder(d2.filename().string())) candidates.push_back(d2);
  }
  IntensityCodes codes;
  std::map<int, fs::path> best;
  for (const auto& c : candidates) {
    std::map<int, fs::path> au_dirs;
    for (const auto& sub : subfolders(c))
      if (auto au = au_folder_number(sub.filename().string())) au_dirs.emplace(*au, sub);
    if (au_dirs.size() > best.size()) best = au_dirs, codes.folder = c;
  }
  static const std::regex name_re(R"(^([A-Za-z]+[0-9]+)[ _-]?([A-Za-z]+[0-9]+)(.*)$)");
  static const std::regex au_in_rest(R"([Aa][Uu][ _]?0*([0-9]{1,2}))");
  for (const auto& [au, dir] : best) {
    if (std::find(aus.begin(), aus.end(), au) == aus.end()) continue;
    std::vector<fs::path> csvs;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && lower(e.path().extension().string()) == ".csv") csvs.push_back(e.path());
    std::sort(csvs.begin(), csvs.end());
    auto& by_seq = codes.files[au];
    for (const auto& f : csvs) {
      const std::string stem = f.stem().string();
      std::smatch m;
      if (!std::regex_match(stem, m, name_re)) {
        log.report(BadDataReason::MalformedLine, f.string(), 0,
                   "intensity file name does not start with <Subject>_<Task>; whole file skipped");
        continue;
      }
      const std::string rest = m[3].str();
      std::smatch am;
      if (std::regex_search(rest, am, au_in_rest) && std::stoi(am[1].str()) != au) {
        log.report(BadDataReason::MalformedLine, f.string(), 0,
                   "the file name names AU" + am[1].str() + " but the file is in the AU" + std::to_string(au) +
                       " folder; whole file skipped");
        continue;
      }
      const std::string key = sequence_key(m[1].str(), m[2].str());
      const auto [it, inserted] = by_seq.emplace(key, f);
      if (!inserted)
        log.report(BadDataReason::MalformedLine, f.string(), 0,
                   "a second intensity file for " + m[1].str() + "_" + m[2].str() + " (the first is " +
                       it->second.string() + "); file skipped");
    }
  }
  return codes;
}

/// One sequence's intensity codes per AU column (frame -> value, NaN = 9 = not coded)
/// and the frames with a bad cell (their samples are left out).
struct SequenceIntensities {
  std::vector<std::map<long long, float>> by_au;  ///< per Dataset::aus column
  std::set<long long> bad_frames;
};

SequenceIntensities read_sequence_intensities(const IntensityCodes& codes, const std::vector<int>& aus,
                                              const std::string& key, BadDataLog& log) {
  SequenceIntensities out;
  out.by_au.resize(aus.size());
  for (std::size_t j = 0; j < aus.size(); ++j) {
    const auto au_files = codes.files.find(aus[j]);
    if (au_files == codes.files.end()) continue;
    const auto file_it = au_files->second.find(key);
    if (file_it == au_files->second.end()) continue;
    const std::string fname = file_it->second.string();
    const auto lines = text::read_lines(fname);
    for (std::size_t li = 0; li < lines.size(); ++li) {
      const int line_no = static_cast<int>(li + 1);
      if (text::trim(lines[li]).empty()) continue;
      const auto cells = text::split(lines[li], ',');
      const auto frame = cells.size() == 2 ? text::parse_int(cells[0]) : std::nullopt;
      if (li == 0 && cells.size() == 2 && !frame && !text::parse_float(cells[1])) continue;  // a header row
      if (!frame || *frame < 0) {
        log.report(BadDataReason::MalformedLine, fname, line_no, "expected 'frame,intensity', got '" + lines[li] + "'");
        continue;
      }
      const auto v = text::parse_float(cells[1]);
      if (!v || !((*v >= 0 && *v <= 5) || *v == 9)) {
        log.report(BadDataReason::BadLabelValue, fname, line_no,
                   "AU" + std::to_string(aus[j]) + " intensity '" + cells[1] + "' is not 0-5 or 9");
        out.bad_frames.insert(*frame);
        continue;
      }
      out.by_au[j][*frame] = *v == 9 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(*v);
    }
  }
  return out;
}

}  // namespace

Dataset read_bp4d(const std::string& root, const ReadOptions& options, BadDataLog& log) {
  const fs::path label_dir = fs::path(root) / "AUCoding" / "AU_OCC";
  if (!fs::is_directory(label_dir)) throw DataError(label_dir.string(), 0, "BP4D label folder not found");
  // Where frames may live: the image root alone when given, else BP4D's usual layouts.
  std::vector<fs::path> frame_bases;
  if (!options.image_root.empty())
    frame_bases.push_back(options.image_root);
  else
    frame_bases = {fs::path(root), fs::path(root) / "Sequences", fs::path(root) / "BP4D-training"};

  Dataset d;
  d.kind = "bp4d";
  d.source = root;
  d.aus = options.aus.empty() ? bp4d_aus() : options.aus;
  const IntensityCodes codes = find_intensity_codes(root, d.aus, log);
  if (!codes.files.empty()) d.intensity_source = codes.folder.string();

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
      log.report(BadDataReason::MalformedLine, fname, 0, "file name is not <Subject>_<Task>.csv; whole file skipped");
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
        log.report(
            BadDataReason::MalformedLine, fname, 1,
            "header column " + std::to_string(c + 1) + " '" + header[c] + "' is not an AU number; whole file skipped");
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

    fs::path frame_dir;
    std::string tried;
    for (const auto& base : frame_bases) {
      tried += (tried.empty() ? "" : ", ") + (base / subject / task).string();
      if (frame_dir.empty() && fs::is_directory(base / subject / task)) frame_dir = base / subject / task;
    }
    const bool have_frame_dir = !frame_dir.empty();
    if (!have_frame_dir) frame_dir = frame_bases.front() / subject / task;
    SequenceIntensities intens;
    if (!codes.files.empty()) intens = read_sequence_intensities(codes, d.aus, sequence_key(subject, task), log);
    int width = -1;
    for (std::size_t li = 1; li < lines.size(); ++li) {
      const int line_no = static_cast<int>(li + 1);
      if (text::trim(lines[li]).empty()) continue;
      const auto cells = text::split(lines[li], ',');
      if (cells.size() != header.size()) {
        log.report(BadDataReason::WrongAuCount, fname, line_no,
                   std::to_string(cells.size()) + " cells, the header has " + std::to_string(header.size()));
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
                     "AU" + std::to_string(d.aus[j]) + " cell '" + cells[cols[j]] + "' is not 0, 1 or 9");
          ok = false;
        } else {
          s.labels.push_back(*v == 9 ? kNotCoded : static_cast<std::int8_t>(*v));
        }
      }
      if (!ok) continue;
      if (intens.bad_frames.count(*frame)) continue;  // reported where the intensity cell is
      if (!codes.files.empty()) {
        s.intensities.assign(d.aus.size(), std::numeric_limits<float>::quiet_NaN());
        for (std::size_t j = 0; j < d.aus.size(); ++j) {
          const auto it = intens.by_au[j].find(*frame);
          if (it != intens.by_au[j].end()) s.intensities[j] = it->second;
        }
      }
      if (options.check_files && !have_frame_dir) {
        log.report(BadDataReason::MissingFile, fname, line_no,
                   "frame folder of " + subject + "/" + task + " not found; tried " + tried +
                       (options.image_root.empty() ? " (or give the frames folder with --image-root)" : ""));
        continue;
      }
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
