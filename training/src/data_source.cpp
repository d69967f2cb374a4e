// --data -> prepared cache -> subject-exclusive splits (see data_source.h).
#include "training/data_source.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "hicomex/align.h"
#include "hicomex/face_detector.h"
#include "hicomex/landmarker.h"
#include "training/progress.h"

namespace fs = std::filesystem;

namespace hicomex::training {

const std::vector<std::string>& data_kind_names() {
  static const std::vector<std::string> names{"auto", "bp4d", "disfa", "jaanet", "manifest"};
  return names;
}

bool is_cache_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in && std::memcmp(magic, "HCXCACHE", 8) == 0;
}

LandmarkDetector make_pipeline_landmark_detector(const std::string& detector_name) {
  struct State {
    std::mutex mu;
    std::unique_ptr<FaceDetector> detector;
    std::unique_ptr<Landmarker68> landmarker;
  };
  auto state = std::make_shared<State>();
  return [state, detector_name](const cv::Mat& bgr) -> std::optional<std::vector<cv::Point2f>> {
    std::lock_guard<std::mutex> lock(state->mu);
    if (!state->detector) {
      state->detector = make_face_detector(detector_name);
      state->landmarker = std::make_unique<Landmarker68>();
    }
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    const auto faces = state->detector->detect(rgb);
    if (faces.empty()) return std::nullopt;
    // Datasets show one subject per frame: take the largest face, not the most confident.
    const Detection* best = &faces.front();
    for (const auto& f : faces)
      if (f.box.width * f.box.height > best->box.width * best->box.height) best = &f;
    const auto marks = state->landmarker->detect(rgb, {best->box});
    if (marks.empty()) return std::nullopt;
    std::vector<cv::Point2f> out;
    for (const auto& p : marks.front()) out.emplace_back(p.x, p.y);
    return out;
  };
}

namespace {

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

/// The inputs that decide a cache's content, as the JSON kept in its description.
nlohmann::json cache_identity(const DataSpec& spec, const std::string& kind) {
  std::error_code ec;
  auto abs = fs::weakly_canonical(spec.path, ec);
  return {{"kind", kind},
          {"source", ec ? spec.path : abs.string()},
          {"aus", spec.read.aus},
          {"disfa_threshold", spec.read.disfa_threshold},
          {"image_root", spec.read.image_root},
          {"force_detect", spec.force_detect},
          {"detector", spec.detector},
          // A cache prepared with --skip-bad lacks the bad samples: a run
          // without it must prepare (and stop at the first bad sample) itself.
          {"skip_bad", spec.skip_bad}};
}

nlohmann::json description_json(const CacheReader& cache) {
  try {
    return nlohmann::json::parse(cache.description());
  } catch (const std::exception&) {
    return nlohmann::json::object();
  }
}

}  // namespace

std::string cache_kind(const CacheReader& cache) {
  const auto j = description_json(cache);
  return j.is_object() && j.contains("kind") && j["kind"].is_string() ? j["kind"].get<std::string>() : "";
}

PreparedData prepare_to_cache(const DataSpec& spec, const std::string& cache_path, BadDataLog& log,
                              const std::function<void(const std::string&)>& say) {
  const std::string kind = spec.kind == "auto" || spec.kind.empty() ? detect_dataset_kind(spec.path) : spec.kind;
  say("reading " + kind + " dataset " + spec.path);
  Dataset d = read_dataset(kind, spec.path, spec.read, log);
  if (d.samples.empty()) throw std::runtime_error(spec.path + ": the dataset has no samples");
  say("read " + std::to_string(d.samples.size()) + " samples of " + std::to_string(d.subjects().size()) +
      " subjects, AUs " + [&] {
        std::string s;
        for (int au : d.aus) s += (s.empty() ? "" : " ") + std::to_string(au);
        return s;
      }());
  if (!d.intensity_source.empty()) say("intensity codes from " + d.intensity_source);
  auto id = cache_identity(spec, kind);
  id["aus"] = d.aus;  // the AUs actually read (the standard set when none were asked for)
  id["requested_aus"] = spec.read.aus;
  id["samples_read"] = d.samples.size();
  fs::create_directories(fs::path(cache_path).parent_path().empty() ? fs::path(".")
                                                                    : fs::path(cache_path).parent_path());
  const std::string partial = cache_path + ".partial";
  PrepareStats st;
  {
    CacheWriter writer(partial, d.aus, id.dump(), kAlignedSize);
    ProgressMeter meter("preparing", d.samples.size(), "frames", 5.0);
    meter.sink = say;
    PrepareOptions po;
    po.force_detect = spec.force_detect;
    po.progress = [&](std::size_t done, std::size_t) { meter.update(done); };
    st = prepare_samples(d, {}, make_pipeline_landmark_detector(spec.detector), po, writer, log);
    writer.finish();
  }
  fs::rename(partial, cache_path);
  say("prepared " + std::to_string(st.written) + " faces into " + cache_path + " (" + std::to_string(st.detected) +
      " with detected landmarks, " + std::to_string(st.video_frames) + " video frames)");
  if (st.written == 0) throw std::runtime_error(spec.path + ": no sample could be prepared (" + log.summary() + ")");
  return {cache_path, kind, spec.path, true};
}

std::string cache_path_for(const DataSpec& spec, const std::string& cache_dir) {
  if (is_cache_file(spec.path)) return {};
  const std::string kind = spec.kind == "auto" || spec.kind.empty() ? detect_dataset_kind(spec.path) : spec.kind;
  char name[64];
  std::snprintf(name, sizeof name, "%s-%016llx.cache", kind.c_str(),
                static_cast<unsigned long long>(fnv1a(cache_identity(spec, kind).dump())));
  return (fs::path(cache_dir) / name).string();
}

PreparedData ensure_cache(const DataSpec& spec, const std::string& cache_dir, BadDataLog& log,
                          const std::function<void(const std::string&)>& say) {
  if (spec.path.empty()) throw std::invalid_argument("--data: no dataset path given");
  if (!fs::exists(spec.path) && !fs::exists(spec.path + "_path.txt"))
    throw std::invalid_argument("--data: '" + spec.path + "' does not exist");
  if (is_cache_file(spec.path)) {
    CacheReader r(spec.path);
    return {spec.path, cache_kind(r), spec.path, false};
  }
  const std::string kind = spec.kind == "auto" || spec.kind.empty() ? detect_dataset_kind(spec.path) : spec.kind;
  const std::string path = cache_path_for(spec, cache_dir);
  if (is_cache_file(path)) {
    try {
      CacheReader r(path);
      say("using the prepared cache " + path + " (" + std::to_string(r.size()) + " faces; delete it to prepare again)");
      return {path, kind, spec.path, false};
    } catch (const std::exception& e) {
      say("the cache " + path + " is unusable (" + e.what() + "): preparing again");
    }
  }
  DataSpec s = spec;
  s.kind = kind;
  return prepare_to_cache(s, path, log, say);
}

Dataset subjects_of(const CacheReader& cache, const std::string& kind) {
  Dataset d;
  d.kind = kind;
  d.source = cache.path();
  d.aus = cache.aus();
  d.samples.resize(cache.size());
  for (std::size_t i = 0; i < cache.size(); ++i) d.samples[i].subject = cache.subject(i);
  return d;
}

CacheSplit split_cache(const CacheReader& cache, const std::string& kind, const SplitSpec& spec) {
  const Dataset d = subjects_of(cache, kind);
  CacheSplit out;
  out.plan = default_folds(d, spec.k, spec.seed);
  if (spec.test_folds == "none") {
    if (!spec.train_folds.empty())
      out.train_folds = parse_fold_list(spec.train_folds);
    else
      for (int f = 0; f < out.plan.size(); ++f) out.train_folds.push_back(f);
    for (int f : out.train_folds)
      if (f < 0 || f >= out.plan.size())
        throw std::invalid_argument("train fold " + std::to_string(f + 1) + " out of range 1-" +
                                    std::to_string(out.plan.size()));
    std::set<std::string> subjects;
    for (int f : out.train_folds) subjects.insert(out.plan.folds[f].begin(), out.plan.folds[f].end());
    for (std::size_t i = 0; i < d.samples.size(); ++i)
      if (subjects.count(d.samples[i].subject)) out.train.push_back(i);
  } else {
    out.test_folds = parse_fold_list(spec.test_folds);
    if (!spec.train_folds.empty()) out.train_folds = parse_fold_list(spec.train_folds);
    const Split s = split_folds(d, out.plan, out.test_folds, out.train_folds);
    out.train = s.train;
    out.test = s.test;
    if (out.train_folds.empty())
      for (int f = 0; f < out.plan.size(); ++f)
        if (std::find(out.test_folds.begin(), out.test_folds.end(), f) == out.test_folds.end())
          out.train_folds.push_back(f);
  }
  if (spec.val_fraction > 0 && !out.train.empty()) {
    const auto tv = carve_validation(d, out.train, spec.val_fraction, spec.seed);
    out.train = tv.train;
    out.validation = tv.validation;
  }
  check_subject_exclusive(d, out.train, out.test);
  check_subject_exclusive(d, out.validation, out.test);
  check_subject_exclusive(d, out.train, out.validation);
  return out;
}

}  // namespace hicomex::training
