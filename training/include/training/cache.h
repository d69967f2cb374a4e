// Prepared-sample cache: aligned 200x200 faces + 49 aligned landmarks + labels in one
// binary file per dataset split, so epochs never re-decode video.
//
// Layout: "HCXCACHE" magic, u32 version, fixed-size records, then a JSON footer
// (AU ids, subjects, sources, description) and its u64 size + offset at the end.
// A record: u32 subject index, i32 frame, u8 has_landmarks, i8 labels[A],
// f32 intensities[A] (NaN = none), f32 landmarks[98], u8 rgb[S*S*3].
#pragma once
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace hicomex::training {

struct PreparedSample {
  std::string subject;
  int frame = -1;
  std::string source;                    ///< image / video path (+ "#frame" for video)
  std::vector<std::int8_t> labels;       ///< per AU
  std::vector<float> intensities;        ///< per AU or empty
  std::vector<cv::Point2f> landmarks49;  ///< aligned coordinates, or empty
  cv::Mat rgb;                           ///< size x size, CV_8UC3, RGB
};

class CacheWriter {
 public:
  CacheWriter(const std::string& path, std::vector<int> aus, std::string description, int size = 200);
  ~CacheWriter();  ///< finishes if finish() was not called (errors then go to stderr)
  CacheWriter(const CacheWriter&) = delete;
  CacheWriter& operator=(const CacheWriter&) = delete;

  /// Throws if the image is not size x size x 3 or the label count differs.
  void add(const PreparedSample& s);
  /// Writes the footer and closes the file; the file is only valid afterwards.
  void finish();
  std::size_t count() const { return count_; }

 private:
  std::string path_;
  std::vector<int> aus_;
  std::string description_;
  int size_;
  std::ofstream out_;
  std::size_t count_ = 0;
  bool finished_ = false;
  std::vector<std::string> subjects_;
  std::map<std::string, std::uint32_t> subject_ids_;
  std::vector<std::string> sources_;
};

/// Random access to a cache file; read() is thread-safe (positioned reads).
class CacheReader {
 public:
  explicit CacheReader(const std::string& path);
  ~CacheReader();
  CacheReader(const CacheReader&) = delete;
  CacheReader& operator=(const CacheReader&) = delete;

  std::size_t size() const { return count_; }
  const std::vector<int>& aus() const { return aus_; }
  int image_size() const { return size_; }
  const std::string& description() const { return description_; }
  const std::string& path() const { return path_; }
  const std::string& subject(std::size_t i) const;  ///< of record i (no image read)
  std::vector<std::string> subjects() const;        ///< sorted, unique

  PreparedSample read(std::size_t i) const;
  /// Labels of every record, row-major size() x aus().size() (for rates / metrics).
  std::vector<std::int8_t> all_labels() const;

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<int> aus_;
  std::string description_;
  int size_ = 0;
  std::size_t count_ = 0;
  std::size_t record_bytes_ = 0;
  std::vector<std::string> subject_names_;
  std::vector<std::uint32_t> subject_of_;
  std::vector<std::int32_t> frame_of_;
  std::vector<std::string> sources_;
  std::vector<std::int8_t> labels_;
  void pread_exact(void* dst, std::size_t n, std::uint64_t offset) const;
};

/// Fraction of coded labels that are 1, per AU, over `records` (all if empty) -
/// the input of inverse_rate_weights() for the training split.
std::vector<double> occurrence_rates(const CacheReader& cache, const std::vector<std::size_t>& records = {});

}  // namespace hicomex::training
