// Process set-up for the command-line tools.
#pragma once

namespace hicomex {

/// LibTorch's OpenMP workers spin while waiting by default; when the cores are
/// shared (a GStreamer pipeline's decoder and encoder threads, other programs)
/// that spinning makes inference many times slower (docs/performance.md).
/// OpenMP reads OMP_WAIT_POLICY once, when it is loaded, so a tool calls this
/// first thing in main(): if the variable is unset it sets PASSIVE and
/// re-executes itself (argv unchanged); if the user set it, nothing happens.
void use_passive_openmp_wait(char** argv);

}  // namespace hicomex
