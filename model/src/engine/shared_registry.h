// A process-wide table of shared instances by key (AuEngine::shared): every
// caller asking for the same key while an instance is alive gets that
// instance; it is freed when its last user lets go, and the next request makes
// a new one. No LibTorch here.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace hicomex {

template <class T>
class SharedRegistry {
 public:
  /// The live instance for `key`, or a new one from `make()` (a
  /// std::shared_ptr<T>). The lock is held while `make()` runs, so two callers
  /// never build the same instance twice; what `make()` throws reaches the
  /// caller (the next call tries again).
  template <class Make>
  std::shared_ptr<T> get(const std::string& key, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto existing = instances_[key].lock()) return existing;
    std::shared_ptr<T> created = make();
    instances_[key] = created;
    return created;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<T>> instances_;
};

}  // namespace hicomex
