// Prepared-sample cache file (layout in cache.h). Values are written in the host's
// byte order (little-endian on every platform LibTorch supports); the magic and
// version guard against reading anything else.
#include "training/cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace hicomex::training {
namespace {

constexpr char kMagic[8] = {'H', 'C', 'X', 'C', 'A', 'C', 'H', 'E'};
constexpr char kEndMagic[8] = {'H', 'C', 'X', 'C', 'E', 'N', 'D', '1'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint64_t kHeaderBytes = 16;
constexpr int kLandmarkFloats = 98;

std::size_t record_bytes(std::size_t n_aus, int size) {
  return 4 + 4 + 1 + n_aus + 4 * n_aus + 4 * kLandmarkFloats + std::size_t(size) * size * 3;
}

template <typename T>
void put(std::vector<char>& buf, std::size_t& at, const T& v) {
  std::memcpy(buf.data() + at, &v, sizeof(T));
  at += sizeof(T);
}
template <typename T>
T get(const std::vector<char>& buf, std::size_t& at) {
  T v;
  std::memcpy(&v, buf.data() + at, sizeof(T));
  at += sizeof(T);
  return v;
}

}  // namespace

CacheWriter::CacheWriter(const std::string& path, std::vector<int> aus, std::string description, int size)
    : path_(path), aus_(std::move(aus)), description_(std::move(description)), size_(size) {
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error(path + ": cannot create the cache file");
  out_.write(kMagic, 8);
  const std::uint32_t version = kVersion, reserved = 0;
  out_.write(reinterpret_cast<const char*>(&version), 4);
  out_.write(reinterpret_cast<const char*>(&reserved), 4);
}

CacheWriter::~CacheWriter() {
  if (finished_) return;
  try {
    finish();
  } catch (const std::exception& e) {
    std::cerr << "cache " << path_ << ": " << e.what() << '\n';
  }
}

void CacheWriter::add(const PreparedSample& s) {
  if (finished_) throw std::logic_error(path_ + ": add() after finish()");
  if (s.rgb.type() != CV_8UC3 || s.rgb.cols != size_ || s.rgb.rows != size_)
    throw std::invalid_argument(path_ + ": sample " + s.source + " image is not " + std::to_string(size_) + "x" +
                                std::to_string(size_) + " RGB");
  if (s.labels.size() != aus_.size())
    throw std::invalid_argument(path_ + ": sample " + s.source + " has " + std::to_string(s.labels.size()) +
                                " labels for " + std::to_string(aus_.size()) + " AUs");
  if (!s.intensities.empty() && s.intensities.size() != aus_.size())
    throw std::invalid_argument(path_ + ": sample " + s.source + " intensity count differs from the AU count");
  if (!s.landmarks49.empty() && s.landmarks49.size() != 49)
    throw std::invalid_argument(path_ + ": sample " + s.source + " has " + std::to_string(s.landmarks49.size()) +
                                " landmarks, expected 49");
  auto it = subject_ids_.find(s.subject);
  if (it == subject_ids_.end()) {
    it = subject_ids_.emplace(s.subject, static_cast<std::uint32_t>(subjects_.size())).first;
    subjects_.push_back(s.subject);
  }
  std::vector<char> buf(record_bytes(aus_.size(), size_));
  std::size_t at = 0;
  put(buf, at, it->second);
  put(buf, at, static_cast<std::int32_t>(s.frame));
  put(buf, at, static_cast<std::uint8_t>(s.landmarks49.empty() ? 0 : 1));
  for (auto l : s.labels) put(buf, at, l);
  for (std::size_t j = 0; j < aus_.size(); ++j)
    put(buf, at, s.intensities.empty() ? std::numeric_limits<float>::quiet_NaN() : s.intensities[j]);
  for (int k = 0; k < 49; ++k) {
    put(buf, at, s.landmarks49.empty() ? 0.f : s.landmarks49[k].x);
    put(buf, at, s.landmarks49.empty() ? 0.f : s.landmarks49[k].y);
  }
  const cv::Mat img = s.rgb.isContinuous() ? s.rgb : s.rgb.clone();
  std::memcpy(buf.data() + at, img.data, std::size_t(size_) * size_ * 3);
  out_.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (!out_) throw std::runtime_error(path_ + ": write failed (disk full?)");
  sources_.push_back(s.source);
  ++count_;
}

void CacheWriter::finish() {
  if (finished_) return;
  finished_ = true;
  nlohmann::json j;
  j["aus"] = aus_;
  j["size"] = size_;
  j["count"] = count_;
  j["description"] = description_;
  j["subjects"] = subjects_;
  j["sources"] = sources_;
  const std::string text = j.dump();
  const std::uint64_t offset = kHeaderBytes + count_ * record_bytes(aus_.size(), size_);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  out_.write(reinterpret_cast<const char*>(&offset), 8);
  out_.write(kEndMagic, 8);
  out_.close();
  if (!out_) throw std::runtime_error(path_ + ": could not finish the cache file");
}

CacheReader::CacheReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(path + ": cannot open the cache file: " + std::strerror(errno));
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  auto fail = [&](const std::string& why) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(path + ": not a finished HiCOMEX cache file (" + why + ")");
  };
  if (end < static_cast<off_t>(kHeaderBytes + 16)) fail("too short");
  char head[8], tail[16];
  if (::pread(fd_, head, 8, 0) != 8 || std::memcmp(head, kMagic, 8) != 0) fail("bad magic");
  std::uint32_t version = 0;
  if (::pread(fd_, &version, 4, 8) != 4 || version != kVersion) fail("version " + std::to_string(version));
  if (::pread(fd_, tail, 16, end - 16) != 16 || std::memcmp(tail + 8, kEndMagic, 8) != 0)
    fail("no footer; was the writer finished?");
  std::uint64_t offset = 0;
  std::memcpy(&offset, tail, 8);
  if (offset < kHeaderBytes || offset > static_cast<std::uint64_t>(end - 16)) fail("bad footer offset");
  std::string text(static_cast<std::size_t>(end - 16 - static_cast<off_t>(offset)), '\0');
  pread_exact(text.data(), text.size(), offset);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) fail("footer is not JSON");
  aus_ = j.at("aus").get<std::vector<int>>();
  size_ = j.at("size").get<int>();
  count_ = j.at("count").get<std::size_t>();
  description_ = j.value("description", std::string());
  subject_names_ = j.at("subjects").get<std::vector<std::string>>();
  sources_ = j.at("sources").get<std::vector<std::string>>();
  record_bytes_ = record_bytes(aus_.size(), size_);
  if (kHeaderBytes + count_ * record_bytes_ != offset) fail("record count does not match the file size");
  // Small per-record fields are read once: folds and rates need them without images.
  subject_of_.resize(count_);
  frame_of_.resize(count_);
  labels_.resize(count_ * aus_.size());
  std::vector<char> prefix(9 + aus_.size());
  for (std::size_t i = 0; i < count_; ++i) {
    pread_exact(prefix.data(), prefix.size(), kHeaderBytes + i * record_bytes_);
    std::size_t at = 0;
    subject_of_[i] = get<std::uint32_t>(prefix, at);
    frame_of_[i] = get<std::int32_t>(prefix, at);
    at += 1;
    std::memcpy(labels_.data() + i * aus_.size(), prefix.data() + at, aus_.size());
    if (subject_of_[i] >= subject_names_.size()) fail("record " + std::to_string(i) + " has a bad subject index");
  }
}

CacheReader::~CacheReader() {
  if (fd_ >= 0) ::close(fd_);
}

void CacheReader::pread_exact(void* dst, std::size_t n, std::uint64_t offset) const {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw std::runtime_error(path_ + ": read failed at offset " + std::to_string(offset));
    p += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
}

const std::string& CacheReader::subject(std::size_t i) const { return subject_names_.at(subject_of_.at(i)); }

std::vector<std::string> CacheReader::subjects() const {
  std::set<std::string> s(subject_names_.begin(), subject_names_.end());
  return {s.begin(), s.end()};
}

std::vector<std::int8_t> CacheReader::all_labels() const { return labels_; }

PreparedSample CacheReader::read(std::size_t i) const {
  if (i >= count_) throw std::out_of_range(path_ + ": record " + std::to_string(i) + " of " + std::to_string(count_));
  std::vector<char> buf(record_bytes_);
  pread_exact(buf.data(), buf.size(), kHeaderBytes + i * record_bytes_);
  PreparedSample s;
  std::size_t at = 0;
  s.subject = subject_names_[get<std::uint32_t>(buf, at)];
  s.frame = get<std::int32_t>(buf, at);
  const bool has_lm = get<std::uint8_t>(buf, at) != 0;
  for (std::size_t j = 0; j < aus_.size(); ++j) s.labels.push_back(get<std::int8_t>(buf, at));
  bool any_intensity = false;
  for (std::size_t j = 0; j < aus_.size(); ++j) {
    s.intensities.push_back(get<float>(buf, at));
    any_intensity |= !std::isnan(s.intensities.back());
  }
  if (!any_intensity) s.intensities.clear();
  for (int k = 0; k < 49; ++k) {
    const float x = get<float>(buf, at), y = get<float>(buf, at);
    if (has_lm) s.landmarks49.emplace_back(x, y);
  }
  s.rgb.create(size_, size_, CV_8UC3);
  std::memcpy(s.rgb.data, buf.data() + at, std::size_t(size_) * size_ * 3);
  s.source = i < sources_.size() ? sources_[i] : std::string();
  return s;
}

std::vector<double> occurrence_rates(const CacheReader& cache, const std::vector<std::size_t>& records) {
  const std::size_t a = cache.aus().size();
  const auto labels = cache.all_labels();
  std::vector<double> pos(a, 0.0), coded(a, 0.0);
  auto visit = [&](std::size_t r) {
    for (std::size_t j = 0; j < a; ++j) {
      const auto l = labels.at(r * a + j);
      if (l < 0) continue;
      coded[j] += 1;
      pos[j] += l;
    }
  };
  if (records.empty()) {
    for (std::size_t r = 0; r < cache.size(); ++r) visit(r);
  } else {
    for (auto r : records) visit(r);
  }
  std::vector<double> rates(a, 0.0);
  for (std::size_t j = 0; j < a; ++j) rates[j] = coded[j] > 0 ? pos[j] / coded[j] : 0.0;
  return rates;
}

}  // namespace hicomex::training
