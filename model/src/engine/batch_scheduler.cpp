// Cross-stream batching (batch_scheduler.h): no LibTorch here.
#include "engine/batch_scheduler.h"

#include <algorithm>

namespace hicomex {

void BatchQueue::add(BatchRequest* request, Clock::time_point now) {
  if (queue_.empty()) first_queued_ = now;
  queue_.push_back(request);
}

std::size_t BatchQueue::items() const {
  std::size_t n = 0;
  for (const auto* r : queue_) n += r->items;
  return n;
}

bool BatchQueue::full() const {
  return static_cast<int>(queue_.size()) >= std::max(1, participants_) || items() >= max_items_;
}

std::vector<BatchRequest*> BatchQueue::take() {
  std::vector<BatchRequest*> taken;
  taken.swap(queue_);
  return taken;
}

void BatchQueue::restart(Clock::time_point now) {
  if (!queue_.empty()) first_queued_ = now;
}

BatchScheduler::BatchScheduler(std::chrono::microseconds timeout, std::size_t max_items, Runner runner)
    : timeout_(timeout), runner_(std::move(runner)), queue_(timeout, max_items) {}

void BatchScheduler::submit(BatchRequest& request) {
  if (!batching()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      counts_.requests += 1;
      counts_.batches += 1;
      counts_.items += request.items;
    }
    Batch batch{{&request}};
    runner_(batch);
    request.done = true;
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  queue_.add(&request, BatchQueue::Clock::now());
  counts_.requests += 1;
  cv_.notify_all();
  while (!request.done) {
    if (leading_) {
      cv_.wait(lock);
      continue;
    }
    // Lead: wait for every joined stream (or the timeout, or a full batch), then run the queue.
    leading_ = true;
    cv_.wait_until(lock, queue_.deadline(), [this] { return queue_.full(); });
    Batch batch;
    batch.requests = queue_.take();
    lock.unlock();
    std::exception_ptr error;
    try {
      runner_(batch);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (auto* r : batch.requests) {
      if (error) r->error = error;
      r->done = true;
      counts_.items += r->items;
    }
    counts_.batches += batch.passes;
    leading_ = false;
    queue_.restart(BatchQueue::Clock::now());
    cv_.notify_all();
  }
  if (request.error) std::rethrow_exception(request.error);
}

std::shared_ptr<void> BatchScheduler::join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.join();
  }
  return std::shared_ptr<void>(this, [](void* p) {
    auto* s = static_cast<BatchScheduler*>(p);
    std::lock_guard<std::mutex> lock(s->mutex_);
    s->queue_.leave();
    s->cv_.notify_all();  // a leader may be waiting for this stream
  });
}

BatchCounts BatchScheduler::counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counts_;
}

std::size_t BatchScheduler::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

}  // namespace hicomex
