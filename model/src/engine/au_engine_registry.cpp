// AuEngine::shared(): one engine per weights file and settings in the process
// (no LibTorch here; the engine itself is built in au_engine.cpp).
#include <filesystem>
#include <string>
#include <system_error>

#include "engine/shared_registry.h"
#include "hicomex/au_engine.h"

namespace hicomex {
namespace {

// Same file (however it is spelled), device, threads, precision and batching.
std::string engine_key(const AuEngineOptions& options) {
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(options.weights, ec);
  return (ec ? options.weights : canonical.string()) + "|" + options.device + "|" + std::to_string(options.threads) +
         "|" + options.precision + "|" + std::to_string(options.batch_timeout_us);
}

}  // namespace

std::shared_ptr<AuEngine> AuEngine::shared(const AuEngineOptions& options) {
  static SharedRegistry<AuEngine> registry;
  return registry.get(engine_key(options), [&options] { return std::make_shared<AuEngine>(options); });
}

}  // namespace hicomex
