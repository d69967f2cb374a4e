// Module state <-> safetensors: every parameter and buffer by its dotted name,
// checked for presence, shape and dtype on load.
#pragma once
#include <map>
#include <string>

#include "hicomex/model_info.h"
#include "hicomex/safetensors.h"
#include "nn/hicomex_net.h"

namespace hicomex::nn {

SafetensorsFile module_to_safetensors(const torch::nn::Module& module, std::map<std::string, std::string> metadata);
/// Copies every tensor of `file` into `module`. Throws WeightsError starting
/// with `origin` for a missing tensor, an unexpected one, a shape or dtype mismatch.
void load_module_state(torch::nn::Module& module, const SafetensorsFile& file, const std::string& origin);

/// Writes a HiCOMEX model with its metadata (atomically).
void save_hicomex(const std::string& path, const Hicomex& net, const ModelInfo& info);

struct LoadedHicomex {
  Hicomex net{nullptr};
  ModelInfo info;
  bool checksum_verified = false;  ///< the file had a tensor checksum and it matched
};
/// Reads, validates and rebuilds the model described by the file's metadata.
/// save_hicomex() stores a checksum of the tensor data ("tensor_checksum");
/// a file whose data does not match it, or with NaN/infinite weights, is
/// refused with a WeightsError naming the file (and the tensor).
LoadedHicomex load_hicomex(const std::string& path);

}  // namespace hicomex::nn
