// Progress lines (see progress.h).
#include "training/progress.h"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace hicomex::training {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

ProgressMeter::ProgressMeter(std::string what, std::size_t total, std::string unit, double interval_s)
    : sink([](const std::string& line) { std::cerr << line << std::endl; }),
      what_(std::move(what)),
      unit_(std::move(unit)),
      total_(total),
      interval_(interval_s),
      start_(Clock::now()),
      last_print_(start_) {}

double ProgressMeter::elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

double ProgressMeter::rate() const {
  const double t = elapsed();
  return t > 0 ? static_cast<double>(done_) / t : 0.0;
}

double ProgressMeter::eta() const {
  const double r = rate();
  return r > 0 ? static_cast<double>(total_ - std::min(done_, total_)) / r : -1.0;
}

void ProgressMeter::update(std::size_t done, const std::string& extra) {
  done_ = done;
  const auto now = Clock::now();
  const bool last = done_ >= total_;
  if (!last && printed_ && std::chrono::duration<double>(now - last_print_).count() < interval_) return;
  if (!last && !printed_ && std::chrono::duration<double>(now - start_).count() < interval_) return;
  last_print_ = now;
  printed_ = true;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%zu/%zu (%.0f%%), %.1f %s/s, elapsed %s, ETA %s", done_, total_,
                total_ ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0, rate(),
                unit_.c_str(), format_duration(elapsed()).c_str(), format_duration(eta()).c_str());
  std::string line = what_ + ": " + buf;
  if (!extra.empty()) line += ", " + extra;
  if (sink) sink(line);
}

}  // namespace hicomex::training
