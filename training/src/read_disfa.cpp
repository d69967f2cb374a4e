// DISFA reader (docs/training.md, "Preparing BP4D and DISFA"): ActionUnit_Labels/SN0xx/SN0xx_au<N>.txt with lines
// "frame,intensity" (frames 1-based, intensity 0-5), occurrence = intensity >=
// threshold (2 in the literature); frames come from
// Videos_LeftCamera/LeftVideoSN0xx_comp.avi, decoded later by the preparation step.
// DISFA's own landmarks are MATLAB files and are not read: preparation detects them.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "hicomex/au_catalog.h"
#include "text_util.h"
#include "training/dataset.h"

namespace fs = std::filesystem;

namespace hicomex::training {

Dataset read_disfa(const std::string& root, const ReadOptions& options, BadDataLog& log) {
  const fs::path label_dir = fs::path(root) / "ActionUnit_Labels";
  if (!fs::is_directory(label_dir)) throw DataError(label_dir.string(), 0, "DISFA label folder not found");
  const fs::path video_dir = fs::path(root) / "Videos_LeftCamera";

  Dataset d;
  d.kind = "disfa";
  d.source = root;
  d.aus = options.aus.empty() ? disfa_aus() : options.aus;
  const std::size_t n_aus = d.aus.size();

  std::vector<std::string> subjects;
  for (const auto& e : fs::directory_iterator(label_dir))
    if (e.is_directory()) subjects.push_back(e.path().filename().string());
  std::sort(subjects.begin(), subjects.end());
  if (subjects.empty()) throw DataError(label_dir.string(), 0, "no SN0xx subject folders");

  for (const auto& subject : subjects) {
    const fs::path video = video_dir / ("LeftVideo" + subject + "_comp.avi");
    if (options.check_files && !fs::exists(video)) {
      log.report(BadDataReason::MissingFile, video.string(), 0, "video of " + subject + " not found; subject skipped");
      continue;
    }
    // frame -> intensity per AU (NaN = absent from that AU's file)
    std::map<long long, std::vector<float>> frames;
    std::map<long long, std::string> origin;
    std::vector<std::string> au_files(n_aus);
    bool subject_ok = true;
    for (std::size_t j = 0; j < n_aus && subject_ok; ++j) {
      const fs::path file = label_dir / subject / (subject + "_au" + std::to_string(d.aus[j]) + ".txt");
      au_files[j] = file.string();
      if (!fs::exists(file)) {
        log.report(BadDataReason::MissingFile, file.string(), 0,
                   "label file for AU" + std::to_string(d.aus[j]) + " not found; subject skipped");
        subject_ok = false;
        break;
      }
      const auto lines = text::read_lines(file.string());
      for (std::size_t li = 0; li < lines.size(); ++li) {
        const int line_no = static_cast<int>(li + 1);
        if (text::trim(lines[li]).empty()) continue;
        const auto cells = text::split(lines[li], ',');
        const auto frame = cells.size() == 2 ? text::parse_int(cells[0]) : std::nullopt;
        const auto value = cells.size() == 2 ? text::parse_float(cells[1]) : std::nullopt;
        if (!frame || !value || *frame < 1) {
          log.report(BadDataReason::MalformedLine, file.string(), line_no,
                     "expected 'frame,intensity', got '" + lines[li] + "'");
          continue;
        }
        if (*value < 0 || *value > 5) {
          log.report(BadDataReason::BadLabelValue, file.string(), line_no, "intensity " + cells[1] + " outside 0-5");
          continue;
        }
        auto& row = frames[*frame];
        if (row.empty()) {
          row.assign(n_aus, std::numeric_limits<float>::quiet_NaN());
          origin[*frame] = file.string() + ":" + std::to_string(line_no);
        }
        row[j] = static_cast<float>(*value);
      }
    }
    if (!subject_ok) continue;

    for (const auto& [frame, intens] : frames) {
      std::size_t missing = n_aus;
      for (std::size_t j = 0; j < n_aus; ++j)
        if (std::isnan(intens[j])) {
          missing = j;
          break;
        }
      if (missing != n_aus) {
        log.report(BadDataReason::MissingFrame, au_files[missing], 0,
                   "frame " + std::to_string(frame) + " is missing (it is in " + origin[frame] + ")");
        continue;
      }
      Sample s;
      s.image = video.string();
      s.video_frame = static_cast<int>(frame - 1);
      s.frame = static_cast<int>(frame);
      s.subject = subject;
      s.origin = origin[frame];
      s.intensities = intens;
      for (float v : intens) s.labels.push_back(v >= options.disfa_threshold ? 1 : 0);
      d.samples.push_back(std::move(s));
    }
  }
  return d;
}

}  // namespace hicomex::training
