#include "face/tfjs_weights.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "hicomex/errors.h"

namespace hicomex {
namespace {

// Why a file that could not be opened failed: it is not there, or it is there
// but cannot be read (permissions, a folder).
ModelFileError::Kind missing_or_unreadable(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec) ? ModelFileError::Kind::Unreadable : ModelFileError::Kind::NotFound;
}

// Everything else that is wrong with the files: their content.
[[noreturn]] void corrupt(const std::string& path, const std::string& message) {
  throw ModelFileError(ModelFileError::Kind::Corrupt, path, message);
}

std::vector<uint8_t> read_file(const std::string& path, const std::string& manifest) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ModelFileError(missing_or_unreadable(path), path,
                         "tfjs weights: cannot open shard " + path + " named in " + manifest);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Bytes per element as stored in the shard.
size_t stored_size(const std::string& dtype, const std::string& quant_dtype) {
  if (quant_dtype == "uint8") return 1;
  if (quant_dtype == "uint16") return 2;
  if (!quant_dtype.empty()) return 0;
  if (dtype == "float32" || dtype == "int32") return 4;
  return 0;
}

}  // namespace

TfjsWeights TfjsWeights::load(const std::string& manifest_path) {
  using nlohmann::json;
  std::ifstream in(manifest_path);
  if (!in)
    throw ModelFileError(missing_or_unreadable(manifest_path), manifest_path,
                         "tfjs weights: cannot open manifest " + manifest_path);
  json manifest;
  try {
    manifest = json::parse(in);
  } catch (const json::exception& e) {
    corrupt(manifest_path, "tfjs weights: bad JSON in " + manifest_path + ": " + e.what());
  }
  if (!manifest.is_array() || manifest.empty()) {
    corrupt(manifest_path, "tfjs weights: " + manifest_path + " is not a list of weight groups");
  }

  TfjsWeights out;
  out.manifest_path_ = manifest_path;
  const std::string dir = folder_of(manifest_path);
  try {
    for (const auto& group : manifest) {
      // A group's shards are one byte stream split into files.
      std::vector<uint8_t> bytes;
      std::string shard_names;
      for (const auto& p : group.at("paths")) {
        const std::string path = dir + "/" + p.get<std::string>();
        const auto shard = read_file(path, manifest_path);
        bytes.insert(bytes.end(), shard.begin(), shard.end());
        shard_names += (shard_names.empty() ? "" : ", ") + path;
      }
      size_t offset = 0;
      for (const auto& w : group.at("weights")) {
        TfjsTensor t;
        t.name = w.at("name").get<std::string>();
        t.shape = w.at("shape").get<std::vector<int64_t>>();
        const std::string dtype = w.at("dtype").get<std::string>();
        std::string qdtype;
        double scale = 1.0, min = 0.0;
        if (w.contains("quantization")) {
          const auto& q = w.at("quantization");
          qdtype = q.at("dtype").get<std::string>();
          scale = q.at("scale").get<double>();
          min = q.at("min").get<double>();
        }
        const size_t elem = stored_size(dtype, qdtype);
        if (elem == 0) {
          corrupt(manifest_path, "tfjs weights: tensor " + t.name + " in " + manifest_path + " has unsupported dtype " +
                                     dtype + (qdtype.empty() ? "" : " quantised as " + qdtype));
        }
        size_t count = 1;
        for (int64_t d : t.shape) {
          if (d < 0)
            corrupt(manifest_path,
                    "tfjs weights: tensor " + t.name + " in " + manifest_path + " has a negative dimension");
          count *= static_cast<size_t>(d);
        }
        if (offset + count * elem > bytes.size()) {
          corrupt(manifest_path, "tfjs weights: " + shard_names + " is truncated: tensor " + t.name +
                                     " needs bytes up to " + std::to_string(offset + count * elem) +
                                     ", the shards hold " + std::to_string(bytes.size()));
        }
        const uint8_t* src = bytes.data() + offset;
        t.values.resize(count);
        for (size_t i = 0; i < count; ++i) {
          if (qdtype == "uint8") {
            t.values[i] = static_cast<float>(src[i] * scale + min);
          } else if (qdtype == "uint16") {
            uint16_t q;
            std::memcpy(&q, src + 2 * i, 2);  // little endian, as tfjs writes it
            t.values[i] = static_cast<float>(q * scale + min);
          } else if (dtype == "float32") {
            std::memcpy(&t.values[i], src + 4 * i, 4);
          } else {
            int32_t v;
            std::memcpy(&v, src + 4 * i, 4);
            t.values[i] = static_cast<float>(v);
          }
        }
        offset += count * elem;
        out.tensors_.push_back(std::move(t));
      }
      if (offset != bytes.size()) {
        corrupt(manifest_path, "tfjs weights: " + shard_names + " holds " + std::to_string(bytes.size()) +
                                   " bytes but " + manifest_path + " describes " + std::to_string(offset));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    corrupt(manifest_path, "tfjs weights: malformed manifest " + manifest_path + ": " + e.what());
  }
  return out;
}

bool TfjsWeights::contains(const std::string& name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return true;
  }
  return false;
}

const TfjsTensor& TfjsWeights::at(const std::string& name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return t;
  }
  corrupt(manifest_path_, "tfjs weights: tensor " + name + " missing from " + manifest_path_);
}

}  // namespace hicomex
