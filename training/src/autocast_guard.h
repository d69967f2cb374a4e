// bf16 autocast for a scope on CUDA (LibTorch's C++ API has no autocast guard of
// its own in 1.13, and no GradScaler: bf16 has fp32's range and needs no scaling).
#pragma once
#include <ATen/autocast_mode.h>

namespace hicomex::training {

class AutocastGuard {
 public:
  explicit AutocastGuard(bool enable) : enabled_(enable) {
    if (!enabled_) return;
    previous_ = at::autocast::is_enabled();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_enabled(previous_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  bool previous_ = false;
};

}  // namespace hicomex::training
