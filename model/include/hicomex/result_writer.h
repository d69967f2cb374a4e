// Writes per-frame face results to a file as OpenFace-compatible CSV or JSON
// lines. The one place the result file formats live: the hicomexexport element
// and the hicomex-analyze tool both write through it.
#pragma once
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "hicomex/face_result.h"

namespace hicomex {

/// CSV layout (OpenFace 2 FeatureExtraction, `, ` separated, fixed notation):
///   frame, face_id, timestamp, confidence, success,
///   pose_Tx, pose_Ty, pose_Tz, pose_Rx, pose_Ry, pose_Rz,   (mm, radians)
///   x_0..x_67, y_0..y_67,                                    (pixels)
///   AUxx_r... (intensity 0-5, FaceResult::au_intensity; only when the faces
///              carry intensities, i.e. the model has an intensity head),
///   AUxx_c... (presence, 0.0 / 1.0),
///   AUxx_p... (occurrence probability in [0,1]; when Options::probabilities
///              is set, and always when there is no intensity)
/// A file never holds probabilities under `_r`: without intensities it has no
/// `_r` columns at all. AU columns follow the order of the AU ids the writer
/// was given (at open, set_au_ids or the first face written). JSON lines: one
/// object per face per frame (face_record_json), see docs/elements.md ("Result
/// files"); frame_record_json is the one-object-per-frame form the MQTT
/// publisher sends. Both follow docs/schema/hicomex-results-1.schema.json.
class ResultWriter {
 public:
  enum class Format { Csv, JsonLines };
  /// Whether the faces written carry AU intensities.
  enum class Intensity {
    Auto,     ///< decided by the first frame written with faces: present if any face has them
    Present,  ///< AUxx_r columns (a face without intensities writes 0)
    Absent,   ///< no AUxx_r columns; AUxx_p columns instead
  };
  struct Options {
    /// CSV: AUxx_p (probability) columns after the AUxx_c ones. Implied when
    /// there is no intensity. JSON lines always carry "p".
    bool probabilities = false;
    Intensity intensity = Intensity::Auto;
  };

  ResultWriter() = default;
  ~ResultWriter();  ///< closes; errors during that final flush are swallowed
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  /// Creates `path` now. Refuses (std::runtime_error naming the path) if it
  /// exists and `overwrite` is false, or if it cannot be created. Non-empty
  /// `au_ids` fix the AU columns; the CSV header is written as soon as the AU
  /// ids and the intensity (options.intensity, or the first faces) are known.
  void open(const std::string& path, Format format, bool overwrite, const std::vector<int>& au_ids,
            const Options& options);
  void open(const std::string& path, Format format, bool overwrite, const std::vector<int>& au_ids = {}) {
    open(path, format, overwrite, au_ids, Options());
  }

  /// Fixes the AU columns if they are not fixed yet (writing the CSV header
  /// once the intensity is known too); throws std::runtime_error if they were
  /// fixed to different ids.
  void set_au_ids(const std::vector<int>& au_ids);

  /// States whether the faces carry intensities, if that is not decided yet;
  /// throws std::runtime_error if it was decided otherwise.
  void set_intensity(bool present);
  /// Whether the file's AU values include intensities; nullopt until decided
  /// (Intensity::Auto before the first frame with faces).
  std::optional<bool> intensity() const { return intensity_; }
  /// Whether the CSV has AUxx_p columns (asked for, or no intensity).
  bool probability_columns() const;

  /// One record per face. A face whose non-empty au_ids differ from the fixed
  /// AU columns, or whose AU value vectors (probability, occurrence, non-empty
  /// intensities) differ in size from them, throws std::runtime_error and
  /// writes nothing of this frame; a face with no AU values writes 0 for every
  /// AU (as OpenFace does).
  /// `utc` is the record's wall-clock time (ISO 8601, see utc_iso8601);
  /// empty means now.
  void write_frame(std::int64_t frame, double timestamp_s, const std::vector<FaceResult>& faces,
                   const std::string& utc = {});

  /// Writes buffered rows to the file (whole lines only) and flushes it.
  void flush();
  /// Flushes and closes; idempotent. A CSV file that never got a header gets
  /// one (without AU columns if none were fixed; without `_r` columns if the
  /// intensity was never decided), so it still parses.
  void close();

  bool is_open() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }
  Format format() const { return format_; }
  /// Records written since open().
  std::int64_t rows_written() const { return rows_; }
  /// write_frame() calls since open() (frames, with or without faces).
  std::int64_t frames_written() const { return frames_; }
  /// Closes without writing anything more and deletes the file: for a run that
  /// never got a frame (a model that failed to load, a camera that gave up),
  /// so no empty or header-only file is left behind. Idempotent.
  void discard();

  /// The CSV header line (without newline) for these AU ids: `_r` columns
  /// when `intensity`, then `_c`, then `_p` when `probabilities` or not `intensity`.
  static std::string csv_header(const std::vector<int>& au_ids, bool intensity = true, bool probabilities = false);
  /// Version of the JSON record layout; every JSON record says it as
  /// "schema": "hicomex-results/<version>".
  static constexpr int kJsonSchemaVersion = 1;
  /// Where a frame is: its number (from 1), stream time, wall-clock time (UTC,
  /// ISO 8601) and the model that produced the AU values (may be empty).
  struct FrameStamp {
    std::int64_t frame = 0;
    double timestamp_s = 0.0;
    std::string utc;
    std::string model_id;
  };
  /// One JSON-lines record (no newline): one face of one frame. AU values in
  /// the order of `au_ids` (a face without AU values gets zeros).
  static std::string face_record_json(const FrameStamp& stamp, const FaceResult& face, const std::vector<int>& au_ids);
  /// One whole frame as one JSON object (no newline): the frame's stamp and a
  /// "faces" array of the face records' per-face fields. The MQTT message.
  static std::string frame_record_json(const FrameStamp& stamp, const std::vector<FaceResult>& faces,
                                       const std::vector<int>& au_ids);
  /// "2026-12-05T04:40:12.345Z": UTC, milliseconds. `unix_us` is microseconds
  /// since the Unix epoch; utc_now() is the current time.
  static std::string utc_iso8601(std::int64_t unix_us);
  static std::string utc_now();

  /// "csv" / "jsonl"; and back (throws std::invalid_argument naming the value).
  static const char* to_string(Format f);
  static Format format_from_string(const std::string& name);

 private:
  void write_header_if_needed();  // once the AU ids and the intensity are known
  void append_csv(std::string& out, std::int64_t frame, double timestamp_s, const FaceResult& face) const;
  void append_json(std::string& out, const FrameStamp& stamp, const FaceResult& face) const;
  void write_out();  // buffer_ -> file, whole lines

  std::FILE* file_ = nullptr;
  std::string path_;
  Format format_ = Format::Csv;
  std::vector<int> au_ids_;
  bool au_ids_fixed_ = false;
  bool probabilities_ = false;     // asked for AUxx_p columns
  std::optional<bool> intensity_;  // the faces carry intensities (decided)
  bool header_written_ = false;
  std::string buffer_;
  std::int64_t rows_ = 0;
  std::int64_t frames_ = 0;
  std::uint64_t written_ = 0;  // bytes in the file, always a whole number of lines
};

}  // namespace hicomex
