// resolve_device(): the device a text means on this machine. The only part of
// the option parsers that asks LibTorch (whether, and how many, CUDA GPUs).
#include <torch/torch.h>

#include "hicomex/option_parsers.h"

namespace hicomex {

std::string resolve_device(const std::string& text) {
  const DeviceSpec spec = parse_device(text);
  if (spec.kind == DeviceSpec::Kind::Cpu) return "cpu";
  const bool cuda = torch::cuda::is_available();
  if (spec.kind == DeviceSpec::Kind::Auto) return cuda ? "cuda:0" : "cpu";
  if (!cuda)
    throw DeviceError(text, true,
                      "device '" + text +
                          "': no CUDA device: LibTorch sees no CUDA GPU on this machine (this "
                          "build's LibTorch may be CPU-only); use device auto or cpu");
  const int count = static_cast<int>(torch::cuda::device_count());
  const int index = spec.index < 0 ? 0 : spec.index;
  if (index >= count)
    throw DeviceError(text, true,
                      "device '" + text + "': no CUDA device " + std::to_string(index) + " (this machine has " +
                          std::to_string(count) + ": cuda:0" +
                          (count > 1 ? "..cuda:" + std::to_string(count - 1) : "") + ")");
  return "cuda:" + std::to_string(index);
}

}  // namespace hicomex
