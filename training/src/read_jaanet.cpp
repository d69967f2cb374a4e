// JAA-Net list files (docs/training.md, "Datasets", kind `jaanet`), line i of each describing sample i:
//   <prefix>_path.txt      image path (aligned 200x200 face), relative to image_root
//   <prefix>_land.txt      98 numbers x1 y1 x2 y2 ... (49 points, aligned coordinates)
//   <prefix>_AUoccur.txt   one 0/1 per AU
//   <prefix>_biocular.txt  SQUARED inter-ocular distance (checked for count and sign only)
//   <prefix>_weight.txt    one line of AU weights (optional; kept in Dataset::list_weights)
// The lists carry no AU ids: 12 columns are BP4D's AUs, 8 DISFA's, others need options.aus.
#include <filesystem>
#include <regex>

#include "hicomex/au_catalog.h"
#include "text_util.h"
#include "training/dataset.h"

namespace fs = std::filesystem;

namespace hicomex::training {
namespace {

/// Subject from a path: the first BP4D (F001 / M001) or DISFA (SN001) name in it,
/// else the folder above the image's folder (datasets keep <Subject>/<Task>/<frame>).
std::string subject_from_path(const fs::path& rel) {
  static const std::regex known("^([FM][0-9]{3}|SN[0-9]{3})$");
  for (const auto& part : rel)
    if (std::regex_match(part.string(), known)) return part.string();
  const fs::path parent = rel.parent_path();
  if (parent.has_parent_path() && !parent.parent_path().filename().empty())
    return parent.parent_path().filename().string();
  return parent.filename().empty() ? "unknown" : parent.filename().string();
}

}  // namespace

Dataset read_jaanet(const std::string& prefix, const ReadOptions& options, BadDataLog& log) {
  const std::string path_file = prefix + "_path.txt", occ_file = prefix + "_AUoccur.txt",
                    land_file = prefix + "_land.txt", bio_file = prefix + "_biocular.txt",
                    weight_file = prefix + "_weight.txt";
  for (const auto& f : {path_file, occ_file})
    if (!fs::exists(f)) throw DataError(f, 0, "JAA-Net list file not found");

  auto strip_blank_tail = [](std::vector<std::string> v) {
    while (!v.empty() && text::trim(v.back()).empty()) v.pop_back();
    return v;
  };
  const auto paths = strip_blank_tail(text::read_lines(path_file));
  const auto occ = strip_blank_tail(text::read_lines(occ_file));
  const bool have_land = fs::exists(land_file), have_bio = fs::exists(bio_file);
  const auto lands = have_land ? strip_blank_tail(text::read_lines(land_file)) : std::vector<std::string>{};
  const auto bios = have_bio ? strip_blank_tail(text::read_lines(bio_file)) : std::vector<std::string>{};

  Dataset d;
  d.kind = "jaanet";
  d.source = prefix;
  const std::size_t n_cols = occ.empty() ? 0 : text::split_ws(occ[0]).size();
  if (!options.aus.empty())
    d.aus = options.aus;
  else if (n_cols == bp4d_aus().size())
    d.aus = bp4d_aus();
  else if (n_cols == disfa_aus().size())
    d.aus = disfa_aus();
  else
    throw DataError(occ_file, 1,
                    std::to_string(n_cols) + " AU columns match neither BP4D (12) nor DISFA (8); pass the AU ids");
  const std::size_t n_aus = d.aus.size();

  if (fs::exists(weight_file)) {
    const auto wl = strip_blank_tail(text::read_lines(weight_file));
    const auto cells = wl.empty() ? std::vector<std::string>{} : text::split_ws(wl[0]);
    if (cells.size() != n_aus)
      throw DataError(weight_file, 1, std::to_string(cells.size()) + " weights for " + std::to_string(n_aus) + " AUs");
    for (const auto& c : cells) {
      auto v = text::parse_float(c);
      if (!v) throw DataError(weight_file, 1, "weight '" + c + "' is not a number");
      d.list_weights.push_back(static_cast<float>(*v));
    }
  }

  const fs::path base = !options.image_root.empty() ? fs::path(options.image_root) : fs::path(prefix).parent_path();
  // The lists must line up; a shorter list leaves its extra lines of the others unusable.
  auto check_count = [&](const std::string& file, std::size_t n) {
    if (n != paths.size())
      log.report(BadDataReason::MalformedLine, file, static_cast<int>(std::min(n, paths.size()) + 1),
                 "list has " + std::to_string(n) + " lines, " + path_file + " has " + std::to_string(paths.size()));
  };
  check_count(occ_file, occ.size());
  if (have_land) check_count(land_file, lands.size());
  if (have_bio) check_count(bio_file, bios.size());

  for (std::size_t i = 0; i < paths.size(); ++i) {
    const int line_no = static_cast<int>(i + 1);
    if (i >= occ.size() || (have_land && i >= lands.size()) || (have_bio && i >= bios.size())) {
      log.report(BadDataReason::MalformedLine, path_file, line_no, "no matching line in the other lists");
      continue;
    }
    const std::string rel = text::trim(paths[i]);
    Sample s;
    s.aligned = true;
    s.origin = path_file + ":" + std::to_string(line_no);
    s.image = fs::path(rel).is_absolute() ? rel : (base / rel).string();
    s.subject = subject_from_path(fs::path(rel));
    if (auto f = text::parse_int(fs::path(rel).stem().string())) s.frame = static_cast<int>(*f);

    const auto cells = text::split_ws(occ[i]);
    if (cells.size() != n_aus) {
      log.report(BadDataReason::WrongAuCount, occ_file, line_no,
                 std::to_string(cells.size()) + " AU labels, expected " + std::to_string(n_aus));
      continue;
    }
    bool ok = true;
    for (const auto& c : cells) {
      auto v = text::parse_int(c);
      if (!v || (*v != 0 && *v != 1 && *v != 9 && *v != -1)) {
        log.report(BadDataReason::BadLabelValue, occ_file, line_no, "label '" + c + "' is not 0 or 1");
        ok = false;
        break;
      }
      s.labels.push_back(*v == 0 || *v == 1 ? static_cast<std::int8_t>(*v) : kNotCoded);
    }
    if (!ok) continue;
    if (have_land) {
      const auto nums = text::split_ws(lands[i]);
      std::vector<cv::Point2f> pts;
      for (std::size_t k = 0; ok && k + 1 < nums.size(); k += 2) {
        auto x = text::parse_float(nums[k]), y = text::parse_float(nums[k + 1]);
        if (!x || !y)
          ok = false;
        else
          pts.emplace_back(static_cast<float>(*x), static_cast<float>(*y));
      }
      if (!ok || nums.size() % 2 != 0 || !assign_landmarks(s, pts)) {
        log.report(BadDataReason::WrongLandmarkCount, land_file, line_no,
                   std::to_string(nums.size()) + " numbers, expected 98 (49 points x, y)");
        continue;
      }
    }
    if (have_bio) {
      auto b = text::parse_float(bios[i]);
      if (!b || *b <= 0) {
        log.report(BadDataReason::MalformedLine, bio_file, line_no,
                   "squared inter-ocular distance '" + bios[i] + "' is not a positive number");
        continue;
      }
    }
    if (options.check_files && !fs::exists(s.image)) {
      log.report(BadDataReason::MissingFile, path_file, line_no, "image " + s.image + " not found");
      continue;
    }
    d.samples.push_back(std::move(s));
  }
  return d;
}

}  // namespace hicomex::training
