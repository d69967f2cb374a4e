#include "nn/weights_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <future>
#include <set>

#include <torch/torch.h>

namespace hicomex::nn {

namespace {

DType to_dtype(c10::ScalarType t) {
  switch (t) {
    case torch::kFloat: return DType::F32;
    case torch::kDouble: return DType::F64;
    case torch::kHalf: return DType::F16;
    case torch::kBFloat16: return DType::BF16;
    case torch::kLong: return DType::I64;
    case torch::kInt: return DType::I32;
    case torch::kShort: return DType::I16;
    case torch::kChar: return DType::I8;
    case torch::kByte: return DType::U8;
    case torch::kBool: return DType::BOOL;
    default: throw WeightsError(std::string("cannot store tensors of type ") + c10::toString(t));
  }
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

// Every parameter and buffer with its dotted name (parameters first, as named_parameters orders them).
std::vector<std::pair<std::string, torch::Tensor>> state_of(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

// FNV-1a (64 bit) over every tensor's name and bytes, in name order: a
// corrupted byte anywhere in the tensor data changes it.
std::string tensor_checksum(const SafetensorsFile& file) {
  std::vector<const TensorRecord*> sorted;
  for (const auto& r : file.tensors) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  };
  for (const auto* r : sorted) {
    mix(reinterpret_cast<const uint8_t*>(r->name.data()), r->name.size() + 1);
    mix(r->data.data(), r->data.size());
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string("fnv1a64:") + hex;
}

constexpr const char* kChecksumKey = "tensor_checksum";

}  // namespace

SafetensorsFile module_to_safetensors(const torch::nn::Module& module, std::map<std::string, std::string> metadata) {
  static_assert(sizeof(float) == 4, "float must be 32-bit");
  SafetensorsFile file;
  file.metadata = std::move(metadata);
  for (const auto& [name, tensor] : state_of(module)) {
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    TensorRecord r;
    r.name = name;
    r.dtype = to_dtype(t.scalar_type());
    r.shape = t.sizes().vec();
    const size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    r.data.resize(bytes);
    if (bytes) std::memcpy(r.data.data(), t.data_ptr(), bytes);  // x86/ARM hosts are little-endian
    file.tensors.push_back(std::move(r));
  }
  return file;
}

void load_module_state(torch::nn::Module& module, const SafetensorsFile& file, const std::string& origin) {
  torch::NoGradGuard no_grad;
  std::set<std::string> expected;
  for (auto& [name, tensor] : state_of(module)) {
    expected.insert(name);
    const TensorRecord* r = file.find(name);
    if (!r) throw WeightsError(origin + ": tensor '" + name + "' is missing");
    const auto want_shape = tensor.sizes().vec();
    if (r->shape != want_shape)
      throw WeightsError(origin + ": tensor '" + name + "' has shape " + shape_str(r->shape) + ", the model needs " +
                         shape_str(want_shape));
    const DType want = to_dtype(tensor.scalar_type());
    if (r->dtype != want)
      throw WeightsError(origin + ": tensor '" + name + "' has dtype " + to_string(r->dtype) + ", the model needs " +
                         to_string(want));
    auto src = torch::from_blob(const_cast<uint8_t*>(r->data.data()), want_shape,
                                torch::TensorOptions().dtype(tensor.scalar_type()));
    // NaN or infinite weights give NaN outputs that look like results.
    if (src.is_floating_point() && !torch::isfinite(src).all().item<bool>())
      throw WeightsError(origin + ": tensor '" + name + "' holds NaN or infinite values (a corrupt or diverged model)");
    tensor.copy_(src);
  }
  for (const auto& r : file.tensors)
    if (!expected.count(r.name))
      throw WeightsError(origin + ": unexpected tensor '" + r.name + "' (the file does not match the model options)");
}

void save_hicomex(const std::string& path, const Hicomex& net, const ModelInfo& info) {
  SafetensorsFile file = module_to_safetensors(*net, model_info_to_metadata(info));
  file.metadata[kChecksumKey] = tensor_checksum(file);
  write_safetensors(path, file);
}

LoadedHicomex load_hicomex(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  LoadedHicomex out;
  try {
    out.info = model_info_from_metadata(file.metadata, path);
  } catch (const WeightsError&) {
    throw;
  } catch (const std::exception& e) {
    throw WeightsError(ModelFileError::Kind::Corrupt, path, e.what());
  }
  // Files written before the checksum existed have none and load as they are.
  // The checksum (one pass over every byte of the tensor data: 18 ms for the
  // default model, 90 ms for a paper-sized one on this project's machine)
  // runs on a second thread while the network is built, which takes as long;
  // it is checked before any weight is copied, and a mismatch is reported
  // before anything else that went wrong.
  std::future<std::string> checksum;
  const auto expected_checksum = file.metadata.find(kChecksumKey);
  if (expected_checksum != file.metadata.end())
    checksum = std::async(std::launch::async, [&file] { return tensor_checksum(file); });
  auto verify_checksum = [&] {
    if (!checksum.valid()) return;
    const std::string got = checksum.get();
    if (got != expected_checksum->second)
      throw WeightsError(ModelFileError::Kind::Corrupt, path,
                         path + ": the tensor data does not match the checksum in the file's metadata (" +
                             expected_checksum->second + ", computed " + got + "): the file is corrupt");
    out.checksum_verified = true;
  };
  // The options come from the file: a corrupt or hostile one can ask for layers
  // too large to allocate. Say which file and options, without LibTorch's backtrace.
  auto too_large = [&](const std::string& why) {
    return WeightsError(ModelFileError::Kind::Corrupt, path,
                        path + ": the network its options describe cannot be built (" + why +
                            "); options: " + options_to_json(out.info.options));
  };
  try {
    out.net = Hicomex(out.info.options);
  } catch (const std::bad_alloc&) {
    verify_checksum();
    throw too_large("out of memory: a layer is far too large");
  } catch (const c10::Error& e) {
    verify_checksum();
    throw too_large(e.what_without_backtrace());
  }
  verify_checksum();
  load_module_state(*out.net, file, path);
  return out;
}

}  // namespace hicomex::nn
