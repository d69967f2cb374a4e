// The safetensors weights format: an 8-byte little-endian header length, a JSON
// header (tensor name -> dtype, shape, data_offsets; optional "__metadata__"
// string map), then raw little-endian tensor bytes. Loading runs no code.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hicomex/errors.h"

namespace hicomex {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };
const char* to_string(DType d);               ///< "F32", ... as in the format
DType dtype_from_string(const std::string&);  ///< throws std::invalid_argument
std::size_t dtype_size(DType d);

struct TensorRecord {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> data;  ///< little-endian bytes, size = numel * dtype_size
  std::int64_t numel() const;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;  ///< "__metadata__" (string -> string)
  std::vector<TensorRecord> tensors;            ///< in file order (sorted by offset)
  const TensorRecord* find(const std::string& name) const;
};

/// Every loading problem: the message names the file and what is wrong
/// ("model.safetensors: header length 9999999999 exceeds file size 1234").
/// A ModelFileError (hicomex/errors.h): kind() says whether the file is
/// missing, unreadable or corrupt (content that is not a valid model).
class WeightsError : public ModelFileError {
 public:
  /// A file whose content is not valid (kind Corrupt).
  explicit WeightsError(const std::string& message) : ModelFileError(Kind::Corrupt, "", message) {}
  WeightsError(Kind kind, std::string path, const std::string& message)
      : ModelFileError(kind, std::move(path), message) {}
};

/// Largest header accepted (100 MB, as the reference implementation).
constexpr std::uint64_t kMaxSafetensorsHeader = 100u * 1024u * 1024u;

/// Reads and validates a file: header length vs file size, header size limit,
/// JSON well-formed, known dtypes, shape * dtype size == byte span, offsets in
/// range, contiguous and non-overlapping, no trailing bytes. Throws WeightsError.
SafetensorsFile read_safetensors(const std::string& path);
SafetensorsFile parse_safetensors(const std::vector<std::uint8_t>& bytes, const std::string& origin);
/// Writes atomically (temporary file + rename). Throws WeightsError on I/O failure.
void write_safetensors(const std::string& path, const SafetensorsFile& file);
std::vector<std::uint8_t> serialise_safetensors(const SafetensorsFile& file);

}  // namespace hicomex
