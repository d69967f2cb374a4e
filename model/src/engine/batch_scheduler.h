// Cross-stream batching without LibTorch (AuEngine's batch_timeout_us): requests
// from several streams (threads) gather into one batch that one runner call
// handles. BatchQueue holds the decisions (when a batch closes, what it holds)
// with explicit times and no threads, so tests drive it step by step;
// BatchScheduler adds the threads: the first waiting caller leads, waits for
// the batch to close, runs it and hands every request its outcome.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace hicomex {

/// One request of `items` units of work (faces). Callers derive from it to
/// carry the work and its result; the runner casts back.
struct BatchRequest {
  std::size_t items = 0;
  std::exception_ptr error;  ///< what the runner threw, if it did
  bool done = false;         ///< ran (or failed); the result may be read
};

/// The batching decisions, without threads or clocks of its own.
class BatchQueue {
 public:
  using Clock = std::chrono::steady_clock;
  BatchQueue(Clock::duration timeout, std::size_t max_items) : timeout_(timeout), max_items_(max_items) {}

  /// Queues a request; the first of an empty queue starts the timeout.
  void add(BatchRequest* request, Clock::time_point now);
  /// A batch may close without waiting for its deadline: every joined stream
  /// has a request queued (at least one request, so a caller that joined
  /// nothing never waits), or the queued items reach max_items.
  bool full() const;
  /// When the queued requests stop waiting for others: first queued + timeout.
  Clock::time_point deadline() const { return first_queued_ + timeout_; }
  /// Whether a batch closes at `now` (full or past the deadline).
  bool due(Clock::time_point now) const { return !queue_.empty() && (full() || now >= deadline()); }
  /// Closes the batch: every queued request, in arrival order.
  std::vector<BatchRequest*> take();
  /// After a batch ran: requests that queued meanwhile get a fresh timeout from `now`.
  void restart(Clock::time_point now);

  /// Streams taking part: a batch waits for a request from each.
  void join() { ++participants_; }
  void leave() { --participants_; }
  int participants() const { return participants_; }
  std::size_t size() const { return queue_.size(); }
  std::size_t items() const;

 private:
  Clock::duration timeout_;
  std::size_t max_items_;
  std::vector<BatchRequest*> queue_;
  Clock::time_point first_queued_{};
  int participants_ = 0;
};

/// Counters of a scheduler (AuEngine::BatchStats).
struct BatchCounts {
  std::uint64_t requests = 0;  ///< submit() calls
  std::uint64_t batches = 0;   ///< runs, as the runner counted them (Batch::passes)
  std::uint64_t items = 0;
};

/// Thread-safe batching of requests from several streams.
class BatchScheduler {
 public:
  struct Batch {
    std::vector<BatchRequest*> requests;  ///< arrival order
    /// How many runs (network passes) the batch takes; the runner may set it
    /// before running. Counted in BatchCounts::batches even when it throws.
    std::size_t passes = 1;
  };
  /// Runs a batch and stores each request's result in it; may throw (every
  /// request of the batch then fails with that exception).
  using Runner = std::function<void(Batch&)>;

  /// `timeout` 0: no batching, every submit() runs its own request at once in
  /// the caller's thread (calls from several threads run at the same time).
  /// Otherwise a batch closes when BatchQueue says so, at the latest `timeout`
  /// after its first request.
  BatchScheduler(std::chrono::microseconds timeout, std::size_t max_items, Runner runner);
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  bool batching() const { return timeout_.count() > 0; }
  /// Blocks until `request` ran, in this thread or in another caller's as
  /// part of its batch; rethrows the runner's exception.
  void submit(BatchRequest& request);
  /// A stream that submits once per frame holds the token while it runs, so
  /// batches wait for it (and no longer once the token is released). The
  /// token must not outlive the scheduler.
  std::shared_ptr<void> join();
  BatchCounts counts() const;
  /// Requests queued and not yet taken into a batch (for tests).
  std::size_t queued() const;

 private:
  std::chrono::microseconds timeout_;
  Runner runner_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  BatchQueue queue_;      // guarded by mutex_
  bool leading_ = false;  // a caller is closing or running a batch
  BatchCounts counts_;    // guarded by mutex_
};

}  // namespace hicomex
