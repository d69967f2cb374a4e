// The project's generic manifest (docs/training.md, "Your own labelled faces"; written
// by hicomex-synth): JSON lines or CSV, paths relative to the manifest's folder.
// Intensities (0-5) are optional: an "intensity" object per JSON line, AU<n>_int
// columns in the CSV form.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "text_util.h"
#include "training/dataset.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace hicomex::training {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// Keeps options.aus (if given) out of the manifest's AU list; throws for an AU it lacks.
std::vector<int> choose_aus(const std::vector<int>& available, const std::vector<int>& wanted,
                            const std::string& file) {
  if (wanted.empty()) return available;
  for (int au : wanted)
    if (std::find(available.begin(), available.end(), au) == available.end())
      throw DataError(file, 0, "AU" + std::to_string(au) + " was asked for but the manifest does not code it");
  return wanted;
}

/// 0/1 (or true/false) -> label; 9 / null -> not coded; nullopt = bad value.
std::optional<std::int8_t> json_label(const json& v) {
  if (v.is_null()) return kNotCoded;
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_number_integer()) {
    const auto x = v.get<long long>();
    if (x == 0 || x == 1) return static_cast<std::int8_t>(x);
    if (x == 9) return kNotCoded;
  }
  return std::nullopt;
}

std::optional<std::vector<cv::Point2f>> json_points(const json& v) {
  std::vector<cv::Point2f> pts;
  if (!v.is_array()) return std::nullopt;
  if (!v.empty() && v[0].is_array()) {
    for (const auto& p : v) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) return std::nullopt;
      pts.emplace_back(p[0].get<float>(), p[1].get<float>());
    }
  } else {  // a flat x0 y0 x1 y1 ... list is accepted too
    if (v.size() % 2 != 0) return std::nullopt;
    for (std::size_t i = 0; i < v.size(); i += 2) {
      if (!v[i].is_number() || !v[i + 1].is_number()) return std::nullopt;
      pts.emplace_back(v[i].get<float>(), v[i + 1].get<float>());
    }
  }
  return pts;
}

Dataset read_jsonl(const std::string& file, const ReadOptions& options, BadDataLog& log) {
  const auto lines = text::read_lines(file);
  const fs::path base = fs::path(file).parent_path();
  std::vector<std::pair<int, json>> rows;
  std::optional<std::vector<int>> header_aus;
  std::string description;
  std::set<int> seen_aus;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const int line_no = static_cast<int>(i + 1);
    if (text::trim(lines[i]).empty()) continue;
    json j;
    std::string malformed;
    try {
      j = json::parse(lines[i]);
      if (!j.is_object()) malformed = "not a JSON object (a " + std::string(j.type_name()) + ")";
    } catch (const json::parse_error& e) {
      // Say what is wrong: invalid UTF-8 is not a syntax slip. e.byte is 1-based.
      const std::string what = e.what();
      malformed = what.find("UTF-8") != std::string::npos
                      ? "invalid UTF-8 at byte " + std::to_string(e.byte) + " (the manifest must be UTF-8 text)"
                      : "not valid JSON (syntax error at byte " + std::to_string(e.byte) + ")";
    }
    if (!malformed.empty()) {
      // Reported in line order with the other problems (second pass), so a
      // strict run stops at the first bad line, whatever its problem.
      rows.emplace_back(line_no, json(malformed));
      continue;
    }
    if (j.contains("hicomex_manifest")) {
      if (!rows.empty() || header_aus) throw DataError(file, line_no, "the manifest header must be the first line");
      try {
        header_aus = j.at("aus").get<std::vector<int>>();
      } catch (const std::exception&) {
        throw DataError(file, line_no, "header 'aus' must be a list of AU numbers");
      }
      description = j.value("description", std::string());
      continue;
    }
    if (j.contains("aus") && j["aus"].is_object())
      for (const auto& [k, v] : j["aus"].items())
        if (auto au = text::parse_int(k)) seen_aus.insert(static_cast<int>(*au));
    rows.emplace_back(line_no, std::move(j));
  }

  Dataset d;
  d.kind = "manifest";
  d.source = file;
  const std::vector<int> available = header_aus ? *header_aus : std::vector<int>(seen_aus.begin(), seen_aus.end());
  d.aus = choose_aus(available, options.aus, file);
  if (!description.empty()) d.source += " (" + description + ")";

  for (auto& [line_no, j] : rows) {
    auto bad = [&, ln = line_no](BadDataReason r, const std::string& what) { log.report(r, file, ln, what); };
    if (j.is_string()) {
      bad(BadDataReason::MalformedLine, j.get<std::string>());
      continue;
    }
    if (!j.contains("image") || !j["image"].is_string()) {
      bad(BadDataReason::MalformedLine, "missing \"image\" string");
      continue;
    }
    if (!j.contains("subject") || !(j["subject"].is_string() || j["subject"].is_number_integer())) {
      bad(BadDataReason::MalformedLine, "missing \"subject\"");
      continue;
    }
    if (!j.contains("aus") || !j["aus"].is_object()) {
      bad(BadDataReason::MalformedLine, "missing \"aus\" object");
      continue;
    }
    Sample s;
    s.origin = file + ":" + std::to_string(line_no);
    const std::string rel = j["image"].get<std::string>();
    s.image = fs::path(rel).is_absolute() ? rel : (base / rel).string();
    s.subject =
        j["subject"].is_string() ? j["subject"].get<std::string>() : std::to_string(j["subject"].get<long long>());
    if (j.contains("frame") && j["frame"].is_number_integer()) s.frame = j["frame"].get<int>();
    const json& aus = j["aus"];
    bool ok = true;
    if (header_aus) {  // with a header, every sample codes exactly the header's AUs
      for (int au : *header_aus)
        if (!aus.contains(std::to_string(au))) {
          bad(BadDataReason::WrongAuCount, "no label for AU" + std::to_string(au) + " listed in the header");
          ok = false;
          break;
        }
      for (const auto& [k, v] : aus.items()) {
        auto au = text::parse_int(k);
        if (ok && (!au || std::find(header_aus->begin(), header_aus->end(), *au) == header_aus->end())) {
          bad(BadDataReason::WrongAuCount, "label for AU '" + k + "' not listed in the header");
          ok = false;
        }
      }
    }
    for (std::size_t a = 0; ok && a < d.aus.size(); ++a) {
      const std::string key = std::to_string(d.aus[a]);
      if (!aus.contains(key)) {
        s.labels.push_back(kNotCoded);
        continue;
      }
      auto lab = json_label(aus[key]);
      if (!lab) {
        bad(BadDataReason::BadLabelValue, "AU" + key + " label " + aus[key].dump() + " is not 0, 1, 9 or null");
        ok = false;
      } else {
        s.labels.push_back(*lab);
      }
    }
    if (ok && j.contains("intensity") && j["intensity"].is_object()) {
      // A missing AU or null is not coded; a value must be a number in 0-5, as in the CSV form.
      const json& in = j["intensity"];
      for (int au : d.aus) {
        const std::string key = std::to_string(au);
        if (!in.contains(key) || in[key].is_null()) {
          s.intensities.push_back(kNaN);
        } else if (in[key].is_number() && in[key].get<double>() >= 0 && in[key].get<double>() <= 5) {
          s.intensities.push_back(in[key].get<float>());
        } else {
          bad(BadDataReason::BadLabelValue, "AU" + key + " intensity " + in[key].dump() + " is not a number in 0-5");
          ok = false;
          break;
        }
      }
    }
    if (ok && j.contains("landmarks") && !j["landmarks"].is_null()) {
      auto pts = json_points(j["landmarks"]);
      if (!pts || !assign_landmarks(s, *pts)) {
        bad(BadDataReason::WrongLandmarkCount, pts ? std::to_string(pts->size()) + " landmarks, expected 68, 66 or 49"
                                                   : "landmarks are not [[x, y], ...]");
        ok = false;
      }
    }
    if (!ok) continue;
    if (options.check_files && !fs::exists(s.image)) {
      bad(BadDataReason::MissingFile, "image " + s.image + " not found");
      continue;
    }
    d.samples.push_back(std::move(s));
  }
  return d;
}

Dataset read_csv(const std::string& file, const ReadOptions& options, BadDataLog& log) {
  const auto lines = text::read_lines(file);
  const fs::path base = fs::path(file).parent_path();
  if (lines.empty()) throw DataError(file, 1, "empty manifest");
  const auto header = text::split_csv(lines[0]);
  int image_col = -1, subject_col = -1, frame_col = -1;
  std::map<int, int> label_col, int_col, x_col, y_col;
  for (int c = 0; c < static_cast<int>(header.size()); ++c) {
    const std::string& h = header[c];
    if (h == "image")
      image_col = c;
    else if (h == "subject")
      subject_col = c;
    else if (h == "frame")
      frame_col = c;
    else if (h.rfind("AU", 0) == 0 && h.size() > 4 && h.substr(h.size() - 4) == "_int") {
      // AU12_int or AU06_int: intensity 0-5 of that AU (zero-padded or not, like the labels).
      const auto au = text::parse_int(h.substr(2, h.size() - 6));
      if (!au || *au <= 0) throw DataError(file, 1, "header column '" + h + "' is not AU<number>_int");
      if (!int_col.emplace(static_cast<int>(*au), c).second)
        throw DataError(file, 1,
                        "header has two intensity columns for AU" + std::to_string(*au) + " ('" +
                            header[int_col[static_cast<int>(*au)]] + "' and '" + h + "')");
    } else if (h.rfind("AU", 0) == 0) {
      if (auto au = text::parse_int(h.substr(2)))
        label_col[static_cast<int>(*au)] = c;
      else
        throw DataError(file, 1, "header column '" + h + "' is not AU<number>");
    } else if (h.rfind("x_", 0) == 0 || h.rfind("y_", 0) == 0) {
      auto idx = text::parse_int(h.substr(2));
      if (!idx) throw DataError(file, 1, "header column '" + h + "' is not x_<i> / y_<i>");
      (h[0] == 'x' ? x_col : y_col)[static_cast<int>(*idx)] = c;
    }
  }
  if (image_col < 0 || subject_col < 0) throw DataError(file, 1, "header needs 'image' and 'subject' columns");
  if (x_col.size() != y_col.size()) throw DataError(file, 1, "header has different numbers of x_ and y_ columns");

  Dataset d;
  d.kind = "manifest";
  d.source = file;
  std::vector<int> available;
  for (const auto& [au, c] : label_col) available.push_back(au);
  d.aus = choose_aus(available, options.aus, file);

  for (std::size_t i = 1; i < lines.size(); ++i) {
    const int line_no = static_cast<int>(i + 1);
    if (text::trim(lines[i]).empty()) continue;
    const auto cells = text::split_csv(lines[i]);
    if (cells.size() != header.size()) {
      log.report(BadDataReason::WrongAuCount, file, line_no,
                 std::to_string(cells.size()) + " cells, the header has " + std::to_string(header.size()));
      continue;
    }
    Sample s;
    s.origin = file + ":" + std::to_string(line_no);
    s.image = fs::path(cells[image_col]).is_absolute() ? cells[image_col] : (base / cells[image_col]).string();
    s.subject = cells[subject_col];
    if (frame_col >= 0)
      if (auto f = text::parse_int(cells[frame_col])) s.frame = static_cast<int>(*f);
    bool ok = !s.subject.empty() && !cells[image_col].empty();
    if (!ok) log.report(BadDataReason::MalformedLine, file, line_no, "empty image or subject");
    for (std::size_t a = 0; ok && a < d.aus.size(); ++a) {
      const std::string& cell = cells[label_col[d.aus[a]]];
      auto v = text::parse_int(cell);
      if (cell.empty() || (v && *v == 9))
        s.labels.push_back(kNotCoded);
      else if (v && (*v == 0 || *v == 1))
        s.labels.push_back(static_cast<std::int8_t>(*v));
      else {
        log.report(BadDataReason::BadLabelValue, file, line_no,
                   "AU" + std::to_string(d.aus[a]) + " cell '" + cell + "' is not 0, 1, 9 or empty");
        ok = false;
      }
    }
    if (ok && !int_col.empty()) {
      // An empty cell (or no column for the AU) is not coded; anything else must be 0-5.
      for (int au : d.aus) {
        const auto it = int_col.find(au);
        const std::string cell = it == int_col.end() ? std::string() : cells[it->second];
        const auto v = cell.empty() ? std::nullopt : text::parse_float(cell);
        if (!cell.empty() && !(v && *v >= 0 && *v <= 5)) {
          log.report(BadDataReason::BadLabelValue, file, line_no,
                     "column " + header[it->second] + ": intensity '" + cell + "' is not a number in 0-5 or empty");
          ok = false;
          break;
        }
        s.intensities.push_back(v ? static_cast<float>(*v) : kNaN);
      }
    }
    if (ok && !x_col.empty() && !cells[x_col.begin()->second].empty()) {
      std::vector<cv::Point2f> pts;
      for (const auto& [idx, xc] : x_col) {
        auto yit = y_col.find(idx);
        auto x = text::parse_float(cells[xc]);
        auto y = yit == y_col.end() ? std::nullopt : text::parse_float(cells[yit->second]);
        if (!x || !y) {
          ok = false;
          break;
        }
        pts.emplace_back(static_cast<float>(*x), static_cast<float>(*y));
      }
      if (!ok || !assign_landmarks(s, pts)) {
        log.report(
            BadDataReason::WrongLandmarkCount, file, line_no,
            ok ? std::to_string(pts.size()) + " landmarks, expected 68, 66 or 49" : "landmark cells are not numbers");
        ok = false;
      }
    }
    if (!ok) continue;
    if (options.check_files && !fs::exists(s.image)) {
      log.report(BadDataReason::MissingFile, file, line_no, "image " + s.image + " not found");
      continue;
    }
    d.samples.push_back(std::move(s));
  }
  return d;
}

}  // namespace

Dataset read_manifest(const std::string& path, const ReadOptions& options, BadDataLog& log) {
  std::string file = path;
  if (fs::is_directory(path)) {
    if (fs::exists(fs::path(path) / "manifest.jsonl"))
      file = (fs::path(path) / "manifest.jsonl").string();
    else if (fs::exists(fs::path(path) / "manifest.csv"))
      file = (fs::path(path) / "manifest.csv").string();
    else
      throw DataError(path, 0, "folder holds no manifest.jsonl or manifest.csv");
  }
  if (!fs::exists(file)) throw DataError(file, 0, "manifest not found");
  return fs::path(file).extension() == ".csv" ? read_csv(file, options, log) : read_jsonl(file, options, log);
}

}  // namespace hicomex::training
