#include "hicomex/op_profile.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

namespace hicomex {

namespace prof = torch::autograd::profiler;

std::vector<OpTime> profile_ops(const std::function<void()>& fn, int runs) {
  if (runs < 1) throw std::invalid_argument("profile_ops: runs must be >= 1, got " + std::to_string(runs));
  // enable/disable by hand (the guard class logs through glog, which we do not link).
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  try {
    for (int i = 0; i < runs; ++i) fn();
  } catch (...) {
    prof::disableProfilerLegacy();
    throw;
  }
  const prof::thread_event_lists lists = prof::disableProfilerLegacy();
  std::map<std::string, OpTime> by_name;
  for (const auto& events : lists) {
    // Push/pop ranges nest per thread: self time = elapsed - time of the children.
    struct Open {
      const prof::LegacyEvent* push;
      double child_us;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == prof::EventKind::PushRange) {
        stack.push_back({&e, 0.0});
      } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double us = open.push->cpuElapsedUs(e);
        auto& t = by_name[open.push->name()];
        t.name = open.push->name();
        t.calls += 1;
        t.total_ms += us / 1000.0;
        t.self_ms += (us - open.child_us) / 1000.0;
        if (!stack.empty()) stack.back().child_us += us;
      }
    }
  }
  std::vector<OpTime> out;
  for (auto& [name, t] : by_name) {
    t.total_ms /= runs;
    t.self_ms /= runs;
    t.calls /= runs;
    out.push_back(t);
  }
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.self_ms > b.self_ms; });
  return out;
}

}  // namespace hicomex
