// Dataset writing. Samples are rendered by a pool of workers in any order and
// written to the manifest in index order, so --jobs never changes the output.
#include "dataset_writer.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>

namespace hicomex::synth {
namespace fs = std::filesystem;
namespace {

double round2(double v) { return std::round(v * 100.0) / 100.0; }

std::string format_duration(double s) {
  char buf[32];
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  return buf;
}

}  // namespace

void validate(const DatasetOptions& o) {
  if (o.out_dir.empty()) throw std::invalid_argument("dataset: --out is empty");
  if (o.count < 1) throw std::invalid_argument("dataset: --count " + std::to_string(o.count) + " must be >= 1");
  if (o.identities < 1 || o.identities > o.count)
    throw std::invalid_argument("dataset: --identities " + std::to_string(o.identities) + " must be in [1, count]");
  if (o.identities > 9999)
    throw std::invalid_argument("dataset: --identities " + std::to_string(o.identities) + " is above 9999");
  if (o.jobs < 1 || o.jobs > 256)
    throw std::invalid_argument("dataset: --jobs " + std::to_string(o.jobs) + " is outside [1, 256]");
  if (o.format != "jpg" && o.format != "png")
    throw std::invalid_argument("dataset: --format '" + o.format + "' is not jpg or png");
  validate(o.scene);
}

nlohmann::json manifest_header(const DatasetOptions& o) {
  nlohmann::json h;
  h["hicomex_manifest"] = 1;
  h["aus"] = rendered_aus();
  h["description"] = "hicomex-synth synthetic FACS faces: seed " + std::to_string(o.seed) + ", " +
                     std::to_string(o.count) + " images of " + std::to_string(o.identities) +
                     " identities; occurrence = intensity >= " + std::to_string(o.rules.occurrence_threshold);
  h["generator"] = {{"name", "hicomex-synth"},    {"seed", o.seed},       {"count", o.count},
                    {"identities", o.identities}, {"size", o.scene.size}, {"landmarks", "ibug68"},
                    {"rules", to_json(o.rules)}};
  return h;
}

nlohmann::json manifest_line(const Sample& s, const SynthIdentity& who, const std::string& image, std::int64_t index,
                             const ExpressionRules& rules) {
  nlohmann::json j;
  j["image"] = image;
  j["subject"] = who.subject;
  nlohmann::json occ = nlohmann::json::object(), inten = nlohmann::json::object();
  for (int au : rendered_aus()) {
    float v = au_intensity(s.expression.aus, au);
    occ[std::to_string(au)] = occurrence(v, rules);
    inten[std::to_string(au)] = round2(v);
  }
  j["aus"] = occ;
  j["intensity"] = inten;
  nlohmann::json lm = nlohmann::json::array();
  for (const auto& p : s.face.landmarks) lm.push_back({round2(p.x), round2(p.y)});
  j["landmarks"] = lm;
  j["meta"] = {
      {"index", index},
      {"expression", s.expression.name},
      {"yaw", round2(s.pose.yaw)},
      {"pitch", round2(s.pose.pitch)},
      {"roll", round2(s.pose.roll)},
      {"box", {round2(s.face.box.x), round2(s.face.box.y), round2(s.face.box.width), round2(s.face.box.height)}},
      {"occluded", s.occluded},
      {"effects", s.effects},
      {"skin_tone", round2(who.look.skin_tone)},
      {"hair", to_string(who.look.hair_style)},
      {"facial_hair", to_string(who.look.facial_hair)}};
  return j;
}

DatasetSummary write_dataset(const DatasetOptions& o, std::ostream* progress) {
  validate(o);
  const fs::path root(o.out_dir);
  const fs::path manifest = root / "manifest.jsonl";
  if (fs::exists(manifest) && !o.overwrite)
    throw std::runtime_error("dataset: " + manifest.string() + " exists; pass --overwrite to replace it");
  std::error_code ec;
  fs::create_directories(root / "images", ec);
  if (ec) throw std::runtime_error("dataset: cannot create " + (root / "images").string() + ": " + ec.message());
  std::ofstream out(manifest, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("dataset: cannot write " + manifest.string());
  out << manifest_header(o).dump() << '\n';

  std::vector<SynthIdentity> people;
  for (int i = 0; i < o.identities; ++i) people.push_back(make_identity(o.seed, i));

  // Workers render; lines wait in `pending` until every earlier index is written.
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, std::string> pending;
  std::atomic<int> next{0};
  std::string error;
  const int digits = std::max(6, static_cast<int>(std::to_string(o.count - 1).size()));
  const std::vector<int> params = o.format == "jpg" ? std::vector<int>{cv::IMWRITE_JPEG_QUALITY, 95}
                                                    : std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, 3};
  auto worker = [&] {
    try {
      for (int i = next++; i < o.count; i = next++) {
        const SynthIdentity& who = people[i % o.identities];
        Sample s = render_sample(o.seed, i, who, o.scene, o.rules);
        char name[64];
        std::snprintf(name, sizeof name, "images/%0*d.%s", digits, i, o.format.c_str());
        const fs::path file = root / name;
        if (!cv::imwrite(file.string(), s.image, params))
          throw std::runtime_error("dataset: cannot write " + file.string());
        std::string line = manifest_line(s, who, name, i, o.rules).dump();
        std::lock_guard<std::mutex> lock(mu);
        pending.emplace(i, std::move(line));
        cv.notify_all();
      }
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mu);
      if (error.empty()) error = e.what();
      next = o.count;
      cv.notify_all();
    }
  };
  const int old_threads = cv::getNumThreads();
  if (o.jobs > 1) cv::setNumThreads(1);  // parallel workers instead of parallel OpenCV loops
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int j = 0; j < o.jobs; ++j) pool.emplace_back(worker);

  int written = 0;
  auto last_report = start;
  {
    std::unique_lock<std::mutex> lock(mu);
    while (written < o.count && error.empty()) {
      cv.wait_for(lock, std::chrono::milliseconds(500),
                  [&] { return (!pending.empty() && pending.begin()->first == written) || !error.empty(); });
      while (!pending.empty() && pending.begin()->first == written) {
        out << pending.begin()->second << '\n';
        pending.erase(pending.begin());
        ++written;
      }
      auto now = std::chrono::steady_clock::now();
      if (progress && (now - last_report > std::chrono::seconds(2) || written == o.count)) {
        double el = std::chrono::duration<double>(now - start).count();
        double rate = written / std::max(el, 1e-6);
        *progress << "[hicomex-synth] " << written << "/" << o.count << " images ("
                  << static_cast<int>(100.0 * written / o.count) << "%), " << std::round(rate * 10) / 10
                  << " img/s, elapsed " << format_duration(el) << ", ETA "
                  << format_duration(rate > 0 ? (o.count - written) / rate : 0.0) << std::endl;
        last_report = now;
      }
    }
  }
  for (auto& t : pool) t.join();
  cv::setNumThreads(old_threads);
  if (!error.empty()) throw std::runtime_error(error);
  out.flush();
  if (!out) throw std::runtime_error("dataset: error writing " + manifest.string());
  DatasetSummary sum;
  sum.written = written;
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sum.manifest_path = manifest.string();
  return sum;
}

}  // namespace hicomex::synth
