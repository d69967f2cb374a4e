#pragma once
// Where the time of a piece of LibTorch work goes: runs a function under
// LibTorch's CPU profiler and sums each operator's and each named stage's
// time. Used by `hicomex-bench --profile`; no LibTorch headers here.
#include <functional>
#include <string>
#include <vector>

namespace hicomex {

struct OpTime {
  std::string name;     ///< aten operator ("aten::conv2d") or HiCOMEX stage ("hicomex::region1")
  long long calls = 0;  ///< per run
  double total_ms = 0;  ///< inclusive time per run
  double self_ms = 0;   ///< time per run not spent in nested operators or stages
};

/// Runs `fn` `runs` times with the profiler on (same thread) and returns the
/// timings per run, sorted by self time, largest first. Times are of the
/// calling thread's view: an operator's time includes its intra-op threads.
std::vector<OpTime> profile_ops(const std::function<void()>& fn, int runs);

}  // namespace hicomex
