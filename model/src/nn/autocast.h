// Mixed precision for a scope: LibTorch's autocast (1.13 has no C++ guard of its
// own). Matrix products and convolutions run in `dtype`; precision-sensitive ops
// (softmax, norms, losses, grid sampling) stay fp32, and so do the outputs that
// callers cast back. CUDA takes fp16 or bf16, the CPU bf16 (oneDNN; fast where
// the CPU has AVX512-BF16 or AMX). Shared by the engine and training.
#pragma once
#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace hicomex::nn {

class Autocast {
 public:
  /// `dtype` kFloat = off (the guard does nothing).
  Autocast(c10::DeviceType device, c10::ScalarType dtype)
      : cuda_(device == c10::DeviceType::CUDA), enabled_(dtype != c10::ScalarType::Float) {
    if (!enabled_) return;
    if (cuda_) {
      previous_enabled_ = at::autocast::is_enabled();
      previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(true);
    } else {
      previous_enabled_ = at::autocast::is_cpu_enabled();
      previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
  }
  ~Autocast() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda_) {
      at::autocast::set_enabled(previous_enabled_);
      at::autocast::set_autocast_gpu_dtype(previous_dtype_);
    } else {
      at::autocast::set_cpu_enabled(previous_enabled_);
      at::autocast::set_autocast_cpu_dtype(previous_dtype_);
    }
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool cuda_, enabled_;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Float;
};

/// Turns autocast off for a scope (both devices): the network's precision-
/// sensitive islands (AU-centre sampling, relation modules, head) use it and
/// cast their inputs to fp32.
class FullPrecision {
 public:
  FullPrecision() : cuda_(at::autocast::is_enabled()), cpu_(at::autocast::is_cpu_enabled()) {
    if (cuda_) at::autocast::set_enabled(false);
    if (cpu_) at::autocast::set_cpu_enabled(false);
  }
  ~FullPrecision() {
    if (cuda_) at::autocast::set_enabled(true);
    if (cpu_) at::autocast::set_cpu_enabled(true);
  }
  FullPrecision(const FullPrecision&) = delete;
  FullPrecision& operator=(const FullPrecision&) = delete;

 private:
  bool cuda_, cpu_;
};

}  // namespace hicomex::nn
