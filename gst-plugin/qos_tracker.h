// The hicomex element's QoS bookkeeping: the earliest running time downstream
// can still use (from QoS events), and the count of frames that skipped the
// AU network because they were later than that. The element never drops a
// frame for QoS; a late frame reuses its faces' last AU values instead.
#pragma once
#include <gst/gst.h>

#include <atomic>
#include <mutex>

namespace hicomex::gst {

/// Thread-safe: QoS events come on the src pad's thread (any thread), the
/// streaming thread asks is_late(), the application reads skipped().
class QosTracker {
 public:
  /// Records a QoS event's timestamp and jitter: frames up to timestamp +
  /// diff are late. An invalid timestamp leaves the deadline as it was.
  void update(GstClockTime timestamp, GstClockTimeDiff diff);
  /// Forgets the deadline (start, flush).
  void reset();
  /// Whether a frame at `running_time` is already late per the last QoS event.
  bool is_late(GstClockTime running_time) const;
  /// The deadline: the earliest running time that is not late (NONE: no QoS yet).
  GstClockTime earliest_time() const;

  /// Counts a frame that skipped the AU network; returns the new count.
  guint64 count_skipped() { return ++skipped_; }
  /// Frames that skipped the AU network since reset_skipped().
  guint64 skipped() const { return skipped_.load(); }
  void reset_skipped() { skipped_ = 0; }

 private:
  mutable std::mutex lock_;
  GstClockTime earliest_time_ = GST_CLOCK_TIME_NONE;
  std::atomic<guint64> skipped_{0};
};

}  // namespace hicomex::gst
