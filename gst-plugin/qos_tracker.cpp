#include "qos_tracker.h"

namespace hicomex::gst {

void QosTracker::update(GstClockTime timestamp, GstClockTimeDiff diff) {
  if (!GST_CLOCK_TIME_IS_VALID(timestamp)) return;
  std::lock_guard<std::mutex> lock(lock_);
  earliest_time_ = (diff < 0 && static_cast<GstClockTime>(-diff) > timestamp) ? 0 : timestamp + diff;
}

void QosTracker::reset() {
  std::lock_guard<std::mutex> lock(lock_);
  earliest_time_ = GST_CLOCK_TIME_NONE;
}

GstClockTime QosTracker::earliest_time() const {
  std::lock_guard<std::mutex> lock(lock_);
  return earliest_time_;
}

bool QosTracker::is_late(GstClockTime running_time) const {
  if (!GST_CLOCK_TIME_IS_VALID(running_time)) return false;
  const GstClockTime earliest = earliest_time();
  return GST_CLOCK_TIME_IS_VALID(earliest) && running_time <= earliest;
}

}  // namespace hicomex::gst
