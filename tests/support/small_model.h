// The small HiCOMEX configuration the tests use: the paper's structure and
// crop size at a fraction of the widths, so the real alignment, crop and
// network paths run in milliseconds. One definition for every suite.
#pragma once
#include "hicomex/hicomex_options.h"

namespace hicomex::test {

inline HicomexOptions small_test_options() {
  return HicomexOptions()
      .region_channels({8, 16})
      .global_channels({16, 16, 16})
      .landmark_channels({16, 16, 16})
      .feature_dim(32)
      .local_channels(8)
      .local_window(8)
      .local_dim(32)
      .attention_ff(64)
      .head_hidden(32);
}

/// The same with the intensity head (per-AU intensity 0-5 beside occurrence).
inline HicomexOptions small_test_options_with_intensity() { return small_test_options().intensity_head(true); }

}  // namespace hicomex::test
