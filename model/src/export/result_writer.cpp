#include "hicomex/result_writer.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace hicomex {
namespace {

// Rows are handed to the file in chunks of whole lines; a crash or an error
// between chunks can lose buffered rows but never leaves half a row.
constexpr std::size_t kFlushThreshold = 64 * 1024;
constexpr double kRadPerDeg = 3.14159265358979323846 / 180.0;

// Fixed notation that ignores the C locale (a ',' decimal point would break
// the CSV), like OpenFace's "fullstop" locale.
void append_fixed(std::string& out, double v, int decimals) {
  if (!std::isfinite(v)) {
    out += std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  out.append(buf, r.ptr);
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Same precision in JSON as in CSV, so both files carry the same numbers.
double rounded(double v, int decimals) {
  if (!std::isfinite(v)) return v;
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

std::string au_column(int id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "AU%02d", id);
  return buf;
}

// Decimals per field, as OpenFace 2 writes them (RecorderCSV::WriteLine);
// probabilities get one more digit than OpenFace's intensities.
constexpr int kTimestampDecimals = 3;
constexpr int kConfidenceDecimals = 2;
constexpr int kTranslationDecimals = 1;
constexpr int kRotationDecimals = 3;
constexpr int kLandmarkDecimals = 1;
constexpr int kProbabilityDecimals = 3;
constexpr int kIntensityDecimals = 2;
constexpr int kOccurrenceDecimals = 1;

bool has_intensity(const FaceResult& f) { return !f.au_ids.empty() && !f.au_intensity.empty(); }

// The per-face fields of a JSON record (everything but the frame's stamp).
nlohmann::json face_fields(const FaceResult& f, const std::vector<int>& au_ids) {
  using nlohmann::json;
  json landmarks = json::array();
  for (const Point2f& p : f.landmarks)
    landmarks.push_back({rounded(p.x, kLandmarkDecimals), rounded(p.y, kLandmarkDecimals)});
  json aus = json::object();
  const bool has = !f.au_ids.empty();
  const bool has_i = has_intensity(f);
  const bool has_raw = has && !f.au_intensity_raw.empty();
  for (std::size_t i = 0; i < au_ids.size(); ++i) {
    json au = {{"p", has ? rounded(f.au_probability[i], kProbabilityDecimals) : 0.0},
               {"c", has && f.au_occurrence[i] ? 1 : 0}};
    // Intensities only where the face has them: a reader can tell "no
    // intensity head" from "intensity 0".
    if (has_i) au["i"] = rounded(f.au_intensity[i], kIntensityDecimals);
    if (has_raw) au["i_raw"] = rounded(f.au_intensity_raw[i], kIntensityDecimals);
    aus[au_column(au_ids[i])] = std::move(au);
  }
  return {
      {"face_id", f.track_id},
      {"confidence", rounded(f.confidence, kConfidenceDecimals)},
      {"success", f.success},
      {"detection_score", rounded(f.detection_score, kConfidenceDecimals)},
      {"box", {rounded(f.box.x, 1), rounded(f.box.y, 1), rounded(f.box.width, 1), rounded(f.box.height, 1)}},
      {"pose",
       {{"Tx", rounded(f.pose.tx, kTranslationDecimals)},
        {"Ty", rounded(f.pose.ty, kTranslationDecimals)},
        {"Tz", rounded(f.pose.tz, kTranslationDecimals)},
        {"Rx", rounded(f.pose.pitch * kRadPerDeg, kRotationDecimals)},
        {"Ry", rounded(f.pose.yaw * kRadPerDeg, kRotationDecimals)},
        {"Rz", rounded(f.pose.roll * kRadPerDeg, kRotationDecimals)}}},
      {"landmarks", std::move(landmarks)},
      {"aus", std::move(aus)},
  };
}

// The frame's stamp, first in every record.
nlohmann::json stamp_fields(const ResultWriter::FrameStamp& s) {
  nlohmann::json j = {
      {"schema", "hicomex-results/" + std::to_string(ResultWriter::kJsonSchemaVersion)},
      {"frame", s.frame},
      {"timestamp", rounded(s.timestamp_s, kTimestampDecimals)},
      {"utc", s.utc.empty() ? ResultWriter::utc_now() : s.utc},
  };
  if (!s.model_id.empty()) j["model"] = s.model_id;
  return j;
}

}  // namespace

ResultWriter::~ResultWriter() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; callers who care call close() themselves.
  }
}

const char* ResultWriter::to_string(Format f) { return f == Format::Csv ? "csv" : "jsonl"; }

ResultWriter::Format ResultWriter::format_from_string(const std::string& name) {
  if (name == "csv") return Format::Csv;
  if (name == "jsonl" || name == "json-lines") return Format::JsonLines;
  throw std::invalid_argument("unknown result format '" + name + "' (expected csv or jsonl)");
}

std::string ResultWriter::csv_header(const std::vector<int>& au_ids, bool intensity, bool probabilities) {
  std::string h =
      "frame, face_id, timestamp, confidence, success, "
      "pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz";
  for (const char* axis : {"x", "y"})
    for (int i = 0; i < 68; ++i) h += std::string(", ") + axis + "_" + std::to_string(i);
  if (intensity)
    for (int id : au_ids) h += ", " + au_column(id) + "_r";
  for (int id : au_ids) h += ", " + au_column(id) + "_c";
  if (probabilities || !intensity)
    for (int id : au_ids) h += ", " + au_column(id) + "_p";
  return h;
}

bool ResultWriter::probability_columns() const { return probabilities_ || !intensity_.value_or(false); }

void ResultWriter::open(const std::string& path, Format format, bool overwrite, const std::vector<int>& au_ids,
                        const Options& options) {
  close();
  if (path.empty()) throw std::runtime_error("ResultWriter: empty output path");
  // "x" (C11, glibc) creates exclusively, so the refusal cannot race another writer.
  std::FILE* f = std::fopen(path.c_str(), overwrite ? "w" : "wx");
  if (!f) {
    const int err = errno;
    if (err == EEXIST)
      throw std::runtime_error("refusing to overwrite existing file '" + path + "' (allow it with overwrite)");
    throw std::runtime_error("cannot create result file '" + path + "': " + std::strerror(err));
  }
  // Unbuffered stdio: each write_out() is one write() of whole lines, so a
  // killed process leaves the file ending at a line boundary.
  std::setvbuf(f, nullptr, _IONBF, 0);
  file_ = f;
  path_ = path;
  format_ = format;
  au_ids_.clear();
  au_ids_fixed_ = false;
  probabilities_ = options.probabilities;
  intensity_.reset();
  if (options.intensity != Intensity::Auto) intensity_ = options.intensity == Intensity::Present;
  header_written_ = false;
  buffer_.clear();
  rows_ = 0;
  frames_ = 0;
  written_ = 0;
  if (!au_ids.empty()) set_au_ids(au_ids);
}

void ResultWriter::set_au_ids(const std::vector<int>& au_ids) {
  if (!file_) throw std::runtime_error("ResultWriter: set_au_ids on a closed writer");
  if (au_ids_fixed_) {
    if (au_ids != au_ids_)
      throw std::runtime_error("result file '" + path_ +
                               "': AU ids changed mid-stream (columns are fixed by the first frame)");
    return;
  }
  au_ids_ = au_ids;
  au_ids_fixed_ = true;
  write_header_if_needed();
}

void ResultWriter::set_intensity(bool present) {
  if (!file_) throw std::runtime_error("ResultWriter: set_intensity on a closed writer");
  if (intensity_) {
    if (*intensity_ != present)
      throw std::runtime_error("result file '" + path_ + "': the AU values were fixed " +
                               (*intensity_ ? "with" : "without") + " intensities");
    return;
  }
  intensity_ = present;
  write_header_if_needed();
}

void ResultWriter::write_header_if_needed() {
  if (header_written_ || format_ != Format::Csv || !au_ids_fixed_ || !intensity_) return;
  buffer_ += csv_header(au_ids_, *intensity_, probabilities_);
  buffer_ += '\n';
  header_written_ = true;
}

void ResultWriter::write_frame(std::int64_t frame, double timestamp_s, const std::vector<FaceResult>& faces,
                               const std::string& utc) {
  if (!file_) throw std::runtime_error("ResultWriter: write_frame on a closed writer");
  ++frames_;  // a frame reached the file, faces or not
  if (faces.empty()) return;
  if (!au_ids_fixed_) {
    auto with_aus = std::find_if(faces.begin(), faces.end(), [](const FaceResult& f) { return !f.au_ids.empty(); });
    set_au_ids(with_aus == faces.end() ? std::vector<int>{} : with_aus->au_ids);
  }
  // Check the whole frame first so a bad face leaves no partial frame behind.
  for (const FaceResult& f : faces) {
    if (f.au_ids.empty()) continue;
    if (f.au_ids != au_ids_)
      throw std::runtime_error("result file '" + path_ + "': face " + std::to_string(f.track_id) + " of frame " +
                               std::to_string(frame) + " has AU ids that differ from the file's columns");
    const auto fits = [&](std::size_t n, bool may_be_empty) {
      return n == f.au_ids.size() || (may_be_empty && n == 0);
    };
    if (!fits(f.au_probability.size(), false) || !fits(f.au_occurrence.size(), false) ||
        !fits(f.au_intensity.size(), true) || !fits(f.au_intensity_raw.size(), true))
      throw std::runtime_error("result file '" + path_ + "': face " + std::to_string(f.track_id) + " of frame " +
                               std::to_string(frame) + " has AU value vectors whose size differs from its au_ids");
  }
  // Intensity::Auto: the first faces tell whether the model has an intensity head.
  if (!intensity_) {
    intensity_ = std::any_of(faces.begin(), faces.end(), has_intensity);
    write_header_if_needed();
  }
  std::string rows;
  FrameStamp stamp;
  if (format_ == Format::JsonLines) {
    stamp.frame = frame;
    stamp.timestamp_s = timestamp_s;
    stamp.utc = utc.empty() ? utc_now() : utc;
  }
  for (const FaceResult& f : faces) {
    if (format_ == Format::Csv)
      append_csv(rows, frame, timestamp_s, f);
    else
      append_json(rows, stamp, f);
  }
  buffer_ += rows;
  rows_ += static_cast<std::int64_t>(faces.size());
  if (buffer_.size() >= kFlushThreshold) write_out();
}

void ResultWriter::append_csv(std::string& out, std::int64_t frame, double timestamp_s, const FaceResult& f) const {
  const char* sep = ", ";
  append_int(out, frame);
  out += sep;
  append_int(out, f.track_id);
  out += sep;
  append_fixed(out, timestamp_s, kTimestampDecimals);
  out += sep;
  append_fixed(out, f.confidence, kConfidenceDecimals);
  out += sep;
  out += f.success ? '1' : '0';
  for (float t : {f.pose.tx, f.pose.ty, f.pose.tz}) {
    out += sep;
    append_fixed(out, t, kTranslationDecimals);
  }
  for (float r : {f.pose.pitch, f.pose.yaw, f.pose.roll}) {
    out += sep;
    append_fixed(out, r * kRadPerDeg, kRotationDecimals);
  }
  for (const Point2f& p : f.landmarks) {
    out += sep;
    append_fixed(out, p.x, kLandmarkDecimals);
  }
  for (const Point2f& p : f.landmarks) {
    out += sep;
    append_fixed(out, p.y, kLandmarkDecimals);
  }
  const bool has = !f.au_ids.empty();
  if (*intensity_) {
    const bool has_i = has_intensity(f);
    for (std::size_t i = 0; i < au_ids_.size(); ++i) {
      out += sep;
      append_fixed(out, has_i ? f.au_intensity[i] : 0.0, kIntensityDecimals);
    }
  }
  for (std::size_t i = 0; i < au_ids_.size(); ++i) {
    out += sep;
    append_fixed(out, has && f.au_occurrence[i] ? 1.0 : 0.0, kOccurrenceDecimals);
  }
  if (probability_columns()) {
    for (std::size_t i = 0; i < au_ids_.size(); ++i) {
      out += sep;
      append_fixed(out, has ? f.au_probability[i] : 0.0, kProbabilityDecimals);
    }
  }
  out += '\n';
}

void ResultWriter::append_json(std::string& out, const FrameStamp& stamp, const FaceResult& face) const {
  out += face_record_json(stamp, face, au_ids_);
  out += '\n';
}

std::string ResultWriter::face_record_json(const FrameStamp& stamp, const FaceResult& face,
                                           const std::vector<int>& au_ids) {
  nlohmann::json rec = stamp_fields(stamp);
  rec.update(face_fields(face, au_ids));
  // NaN would make invalid JSON; nlohmann writes null for it, which parsers accept.
  return rec.dump();
}

std::string ResultWriter::frame_record_json(const FrameStamp& stamp, const std::vector<FaceResult>& faces,
                                            const std::vector<int>& au_ids) {
  nlohmann::json rec = stamp_fields(stamp);
  rec["au_ids"] = au_ids;
  nlohmann::json list = nlohmann::json::array();
  for (const FaceResult& f : faces) list.push_back(face_fields(f, au_ids));
  rec["faces"] = std::move(list);
  return rec.dump();
}

std::string ResultWriter::utc_iso8601(std::int64_t unix_us) {
  std::int64_t secs = unix_us / 1000000;
  std::int64_t us = unix_us % 1000000;
  if (us < 0) {
    us += 1000000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us / 1000));
  return buf;
}

std::string ResultWriter::utc_now() {
  using namespace std::chrono;
  return utc_iso8601(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

void ResultWriter::write_out() {
  if (buffer_.empty()) return;
  const std::size_t n = std::fwrite(buffer_.data(), 1, buffer_.size(), file_);
  if (n != buffer_.size()) {
    const int err = errno;
    // A short write (disk full, file size limit) may end inside a record: cut
    // the file back to the last whole line so what is there still parses.
    const std::size_t cut = buffer_.rfind('\n', n == 0 ? std::string::npos : n - 1);
    const std::size_t whole = (n == 0 || cut == std::string::npos) ? 0 : cut + 1;
    if (whole < n) {
      const off_t keep = static_cast<off_t>(written_ + whole);
      if (::ftruncate(::fileno(file_), keep) == 0) std::fseek(file_, keep, SEEK_SET);
    }
    written_ += whole;
    buffer_.erase(0, whole);
    throw std::runtime_error("cannot write result file '" + path_ + "': " + std::strerror(err));
  }
  written_ += n;
  buffer_.clear();
}

void ResultWriter::flush() {
  if (!file_) return;
  write_out();
  if (std::fflush(file_) != 0)
    throw std::runtime_error("cannot flush result file '" + path_ + "': " + std::strerror(errno));
}

void ResultWriter::discard() {
  if (!file_) return;
  std::fclose(file_);
  file_ = nullptr;
  buffer_.clear();
  // Only a regular file is ours to delete (never /dev/null, /dev/full, a FIFO ...).
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) std::remove(path_.c_str());
}

void ResultWriter::close() {
  if (!file_) return;
  std::FILE* f = file_;
  std::string error;
  try {
    // Never seen a face: the AU ids (if any) without `_r` columns.
    au_ids_fixed_ = true;
    if (!intensity_) intensity_ = false;
    write_header_if_needed();
    flush();
  } catch (const std::exception& e) {
    error = e.what();
  }
  file_ = nullptr;
  buffer_.clear();
  if (std::fclose(f) != 0 && error.empty()) error = "cannot close result file '" + path_ + "': " + std::strerror(errno);
  if (!error.empty()) throw std::runtime_error(error);
}

}  // namespace hicomex
