// Reader for TensorFlow.js weight files: a JSON manifest naming the tensors
// (shape, dtype, optional quantisation) and the binary shards that hold them,
// concatenated in manifest order. No LibTorch here: values come back as floats.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hicomex {

struct TfjsTensor {
  std::string name;
  std::vector<int64_t> shape;  ///< TensorFlow layout (conv filters: [kh, kw, in, out])
  std::vector<float> values;   ///< dequantised, row-major
};

class TfjsWeights {
 public:
  /// Reads the manifest and its shards (paths relative to the manifest's folder).
  /// Supports float32 and int32 tensors, plain or uint8/uint16-quantised
  /// (value = q * scale + min). Throws std::runtime_error naming the file for
  /// unreadable or malformed JSON, a missing or truncated shard, trailing bytes
  /// or an unsupported dtype.
  static TfjsWeights load(const std::string& manifest_path);

  const std::vector<TfjsTensor>& tensors() const { return tensors_; }
  /// Throws std::runtime_error naming the tensor and the manifest if absent.
  const TfjsTensor& at(const std::string& name) const;
  bool contains(const std::string& name) const;
  const std::string& manifest_path() const { return manifest_path_; }

 private:
  std::string manifest_path_;
  std::vector<TfjsTensor> tensors_;
};

}  // namespace hicomex
