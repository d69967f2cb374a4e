// Writes per-frame face results to a file as OpenFace-compatible CSV or JSON
// lines. The one place the result file formats live: the hicomexexport element
// and the hicomex-analyze tool both write through it.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "hicomex/face_result.h"

namespace hicomex {

/// CSV layout (OpenFace 2 FeatureExtraction, `, ` separated, fixed notation):
///   frame, face_id, timestamp, confidence, success,
///   pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz,   (mm, radians)
///   x_0..x_67, y_0..y_67,                                    (pixels)
///   AUxx_r... (occurrence probability in [0,1] here, not intensity),
///   AUxx_c... (0.0 / 1.0)
/// AU columns follow the order of the AU ids the writer was given (at open,
/// set_au_ids or the first face written). JSON lines: one object per face per
/// frame, see docs/elements.md ("Result files").
class ResultWriter {
 public:
  enum class Format { Csv, JsonLines };

  ResultWriter() = default;
  ~ResultWriter();  ///< closes; errors during that final flush are swallowed
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  /// Creates `path` now. Refuses (std::runtime_error naming the path) if it
  /// exists and `overwrite` is false, or if it cannot be created. Non-empty
  /// `au_ids` fix the AU columns and write the CSV header immediately.
  void open(const std::string& path, Format format, bool overwrite,
            const std::vector<int>& au_ids = {});

  /// Fixes the AU columns if they are not fixed yet (writing the CSV header);
  /// throws std::runtime_error if they were fixed to different ids.
  void set_au_ids(const std::vector<int>& au_ids);

  /// One record per face. A face whose non-empty au_ids differ from the fixed
  /// AU columns throws std::runtime_error and writes nothing of this frame;
  /// a face with no AU values writes 0 for every AU (as OpenFace does).
  void write_frame(std::int64_t frame, double timestamp_s,
                   const std::vector<FaceResult>& faces);

  /// Writes buffered rows to the file (whole lines only) and flushes it.
  void flush();
  /// Flushes and closes; idempotent. A CSV file that never got a header gets
  /// the header without AU columns, so it still parses.
  void close();

  bool is_open() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }
  Format format() const { return format_; }
  /// Records written since open().
  std::int64_t rows_written() const { return rows_; }

  /// The CSV header line (without newline) for these AU ids.
  static std::string csv_header(const std::vector<int>& au_ids);
  /// "csv" / "jsonl"; and back (throws std::invalid_argument naming the value).
  static const char* to_string(Format f);
  static Format format_from_string(const std::string& name);

 private:
  void write_header_if_needed();
  void append_csv(std::string& out, std::int64_t frame, double timestamp_s,
                  const FaceResult& face) const;
  void append_json(std::string& out, std::int64_t frame, double timestamp_s,
                   const FaceResult& face) const;
  void write_out();  // buffer_ -> file, whole lines

  std::FILE* file_ = nullptr;
  std::string path_;
  Format format_ = Format::Csv;
  std::vector<int> au_ids_;
  bool au_ids_fixed_ = false;
  bool header_written_ = false;
  std::string buffer_;
  std::int64_t rows_ = 0;
  std::uint64_t written_ = 0;  // bytes in the file, always a whole number of lines
};

}  // namespace hicomex
