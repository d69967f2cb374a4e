// Progress lines for long work: done / total, rate and ETA, printed at most once
// per interval so logs stay readable (and always for the last item).
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace hicomex::training {

/// "1:02:03" / "4:05" for a duration in seconds (negative or NaN -> "?").
std::string format_duration(double seconds);

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;
  /// `what`: prefix of every line; `unit`: of the rate ("samples", "frames").
  ProgressMeter(std::string what, std::size_t total, std::string unit, double interval_s = 2.0);

  /// Marks `done` of `total` items finished; prints when the interval has passed
  /// (or at the end). `extra` is appended to the line (e.g. "loss 0.41").
  void update(std::size_t done, const std::string& extra = {});
  /// Items per second since construction (0 before the first second).
  double rate() const;
  /// Seconds left at the current rate.
  double eta() const;
  double elapsed() const;
  /// Where lines go (default: stderr).
  std::function<void(const std::string&)> sink;

 private:
  std::string what_, unit_;
  std::size_t total_, done_ = 0;
  double interval_;
  Clock::time_point start_, last_print_;
  bool printed_ = false;
};

}  // namespace hicomex::training
