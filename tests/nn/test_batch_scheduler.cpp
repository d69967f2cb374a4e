// The cross-stream batch scheduler behind AuEngine and the registry of shared
// engines, with fake work items: no LibTorch, no network. The queue's decisions
// are driven with explicit times; the threaded tests wait on the scheduler and
// condition variables (timeouts of an hour: a missed wake-up hangs the test
// until meson's timeout instead of passing late).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/batch_scheduler.h"
#include "engine/shared_registry.h"

namespace hicomex {
namespace {

using namespace std::chrono_literals;
using Clock = BatchQueue::Clock;

// A fake work item: `value` in, value * 10 out.
struct Work : BatchRequest {
  explicit Work(int v, std::size_t n = 1) : value(v) { items = n; }
  int value = 0;
  int result = -1;
};

// ---- BatchQueue: the decisions, step by step --------------------------------

TEST(BatchQueue, ALoneRequestWithoutJoinedStreamsIsDueAtOnce) {
  BatchQueue q(1h, 32);
  Work a(1);
  const auto t0 = Clock::time_point{} + 5s;
  EXPECT_FALSE(q.due(t0));  // empty
  q.add(&a, t0);
  EXPECT_TRUE(q.full());
  EXPECT_TRUE(q.due(t0));
}

TEST(BatchQueue, WaitsForEveryJoinedStreamUntilTheDeadline) {
  BatchQueue q(2ms, 32);
  q.join();
  q.join();
  q.join();
  Work a(1), b(2), c(3);
  const auto t0 = Clock::time_point{} + 1s;
  q.add(&a, t0);
  q.add(&b, t0 + 1ms);
  EXPECT_EQ(q.deadline(), t0 + 2ms);  // from the first request
  EXPECT_FALSE(q.full());
  EXPECT_FALSE(q.due(t0 + 1ms));
  EXPECT_FALSE(q.due(t0 + 2ms - 1us));
  EXPECT_TRUE(q.due(t0 + 2ms));  // the silent stream is not waited for longer
  q.add(&c, t0 + 1500us);
  EXPECT_TRUE(q.full());  // the third stream came: no need to wait
  EXPECT_TRUE(q.due(t0 + 1500us));
}

TEST(BatchQueue, ALeavingStreamIsNoLongerWaitedFor) {
  BatchQueue q(1h, 32);
  q.join();
  q.join();
  Work a(1);
  q.add(&a, Clock::time_point{});
  EXPECT_FALSE(q.full());
  q.leave();
  EXPECT_EQ(q.participants(), 1);
  EXPECT_TRUE(q.full());
}

TEST(BatchQueue, EnoughItemsCloseTheBatchBeforeEveryStreamCame) {
  BatchQueue q(1h, 5);
  for (int i = 0; i < 4; ++i) q.join();
  Work a(1, 2), b(2, 2), c(3, 1);
  const auto t0 = Clock::time_point{};
  q.add(&a, t0);
  q.add(&b, t0);
  EXPECT_EQ(q.items(), 4u);
  EXPECT_FALSE(q.due(t0));
  q.add(&c, t0);
  EXPECT_EQ(q.items(), 5u);
  EXPECT_TRUE(q.due(t0));
}

TEST(BatchQueue, TakesEveryRequestInArrivalOrder) {
  BatchQueue q(1h, 32);
  q.join();
  q.join();
  q.join();
  Work a(1), b(2), c(3);
  q.add(&b, Clock::time_point{});
  q.add(&a, Clock::time_point{});
  q.add(&c, Clock::time_point{});
  const auto taken = q.take();
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0], &b);
  EXPECT_EQ(taken[1], &a);
  EXPECT_EQ(taken[2], &c);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.items(), 0u);
}

TEST(BatchQueue, RequestsQueuedDuringARunGetAFreshTimeout) {
  BatchQueue q(10ms, 32);
  q.join();
  q.join();
  Work a(1), b(2);
  const auto t0 = Clock::time_point{} + 1s;
  q.add(&a, t0);
  q.take();             // a runs ...
  q.add(&b, t0 + 3ms);  // ... while b arrives
  EXPECT_EQ(q.deadline(), t0 + 13ms);
  q.restart(t0 + 8ms);  // a's run ends
  EXPECT_EQ(q.deadline(), t0 + 18ms);
  EXPECT_FALSE(q.due(t0 + 13ms));
  EXPECT_TRUE(q.due(t0 + 18ms));
  q.take();
  q.restart(t0 + 20ms);  // empty: nothing to restart; the next request starts its own timeout
  Work c(3);
  q.add(&c, t0 + 30ms);
  EXPECT_EQ(q.deadline(), t0 + 40ms);
}

// ---- BatchScheduler: threads ------------------------------------------------

// Records what the runner saw; each request's result is value * 10.
struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<int>> batches;  // values per batch, in batch order
  std::vector<std::thread::id> threads;
  BatchScheduler::Runner runner() {
    return [this](BatchScheduler::Batch& b) {
      std::vector<int> values;
      for (auto* r : b.requests) {
        auto& w = static_cast<Work&>(*r);
        w.result = w.value * 10;
        values.push_back(w.value);
      }
      std::lock_guard<std::mutex> lock(mutex);
      batches.push_back(values);
      threads.push_back(std::this_thread::get_id());
    };
  }
};

// Spins (yielding) until `s` has `n` requests queued: no sleeping, no timing.
void wait_queued(const BatchScheduler& s, std::size_t n) {
  while (s.queued() < n) std::this_thread::yield();
}

TEST(BatchScheduler, WithoutTimeoutEveryRequestRunsAtOnceInItsCallersThread) {
  Recorder rec;
  BatchScheduler s(0us, 32, rec.runner());
  EXPECT_FALSE(s.batching());
  auto token = s.join();  // joining changes nothing without batching
  Work a(1, 3), b(2, 2);
  s.submit(a);
  s.submit(b);
  EXPECT_TRUE(a.done);
  EXPECT_EQ(a.result, 10);
  EXPECT_EQ(b.result, 20);
  ASSERT_EQ(rec.batches.size(), 2u);
  EXPECT_EQ(rec.threads[0], std::this_thread::get_id());
  const auto c = s.counts();
  EXPECT_EQ(c.requests, 2u);
  EXPECT_EQ(c.batches, 2u);
  EXPECT_EQ(c.items, 5u);
}

TEST(BatchScheduler, WithoutTimeoutTheRunnersErrorReachesTheCaller) {
  BatchScheduler s(0us, 32, [](BatchScheduler::Batch&) { throw std::runtime_error("boom"); });
  Work a(1);
  EXPECT_THROW(s.submit(a), std::runtime_error);
  EXPECT_EQ(s.counts().batches, 1u);
}

TEST(BatchScheduler, ALoneStreamDoesNotWaitForTheTimeout) {
  Recorder rec;
  BatchScheduler s(1h, 32, rec.runner());
  Work a(1);
  s.submit(a);  // nobody joined
  auto token = s.join();
  Work b(2);
  s.submit(b);  // the only joined stream
  EXPECT_EQ(a.result, 10);
  EXPECT_EQ(b.result, 20);
  EXPECT_EQ(s.counts().batches, 2u);
}

TEST(BatchScheduler, JoinedStreamsShareOneBatchAndEachGetsItsOwnResult) {
  constexpr int kStreams = 4;
  Recorder rec;
  BatchScheduler s(1h, 32, rec.runner());
  std::vector<std::shared_ptr<void>> tokens;
  for (int i = 0; i < kStreams; ++i) tokens.push_back(s.join());
  std::vector<Work> work;
  for (int i = 0; i < kStreams; ++i) work.emplace_back(i + 1, 2);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStreams; ++i) threads.emplace_back([&, i] { s.submit(work[i]); });
  for (auto& t : threads) t.join();
  ASSERT_EQ(rec.batches.size(), 1u);
  EXPECT_EQ(std::set<int>(rec.batches[0].begin(), rec.batches[0].end()), (std::set<int>{1, 2, 3, 4}));
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(work[i].result, (i + 1) * 10);
  const auto c = s.counts();
  EXPECT_EQ(c.requests, 4u);
  EXPECT_EQ(c.batches, 1u);
  EXPECT_EQ(c.items, 8u);
}

TEST(BatchScheduler, LockStepStreamsBatchEveryFrame) {
  constexpr int kStreams = 3, kFrames = 20;
  Recorder rec;
  BatchScheduler s(1h, 32, rec.runner());
  std::vector<std::vector<Work>> work(kStreams);
  for (int i = 0; i < kStreams; ++i)
    for (int f = 0; f < kFrames; ++f) work[i].emplace_back(100 * i + f);
  std::vector<std::shared_ptr<void>> tokens;
  for (int i = 0; i < kStreams; ++i) tokens.push_back(s.join());
  std::vector<std::thread> threads;
  for (int i = 0; i < kStreams; ++i)
    threads.emplace_back([&, i] {
      for (auto& w : work[i]) s.submit(w);
      tokens[i].reset();  // this stream ends
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < kStreams; ++i)
    for (int f = 0; f < kFrames; ++f) EXPECT_EQ(work[i][f].result, (100 * i + f) * 10);
  // A stream submits its next frame only after its last one ran, so a batch
  // never holds two frames of one stream, and it waits for the other streams.
  for (const auto& b : rec.batches) {
    std::set<int> streams;
    for (int v : b) EXPECT_TRUE(streams.insert(v / 100).second) << "two frames of stream " << v / 100;
  }
  EXPECT_EQ(rec.batches.size(), static_cast<std::size_t>(kFrames));
  EXPECT_EQ(s.counts().requests, static_cast<uint64_t>(kStreams * kFrames));
}

TEST(BatchScheduler, AStreamThatLeavesWakesTheWaitingBatch) {
  Recorder rec;
  BatchScheduler s(1h, 32, rec.runner());
  auto mine = s.join();
  auto other = s.join();
  Work a(1);
  std::thread t([&] { s.submit(a); });
  wait_queued(s, 1);  // a waits for the other stream ...
  other.reset();      // ... which ends without a request
  t.join();
  EXPECT_EQ(a.result, 10);
  EXPECT_EQ(s.counts().batches, 1u);
}

TEST(BatchScheduler, EnoughItemsRunWithoutWaitingForTheOtherStreams) {
  Recorder rec;
  BatchScheduler s(1h, 4, rec.runner());
  std::vector<std::shared_ptr<void>> tokens;
  for (int i = 0; i < 3; ++i) tokens.push_back(s.join());
  Work a(1, 2), b(2, 2);
  std::thread ta([&] { s.submit(a); });
  wait_queued(s, 1);
  std::thread tb([&] { s.submit(b); });  // 4 items: the batch closes without the third stream
  ta.join();
  tb.join();
  ASSERT_EQ(rec.batches.size(), 1u);
  EXPECT_EQ(rec.batches[0], (std::vector<int>{1, 2}));  // arrival order
}

TEST(BatchScheduler, ASilentJoinedStreamDelaysABatchOnlyUntilTheTimeout) {
  Recorder rec;
  BatchScheduler s(1ms, 32, rec.runner());
  auto mine = s.join();
  auto silent = s.join();
  Work a(1);
  s.submit(a);  // returns once the timeout passed
  EXPECT_EQ(a.result, 10);
  EXPECT_EQ(s.counts().batches, 1u);
}

TEST(BatchScheduler, RequestsArrivingDuringARunFormTheNextBatch) {
  std::mutex m;
  std::condition_variable cv;
  bool running = false, release = false;
  std::vector<std::vector<int>> batches;
  BatchScheduler s(1h, 32, [&](BatchScheduler::Batch& b) {
    std::vector<int> values;
    for (auto* r : b.requests) values.push_back(static_cast<Work&>(*r).value);
    std::unique_lock<std::mutex> lock(m);
    batches.push_back(values);
    if (batches.size() == 1) {  // hold the first batch until b queued behind it
      running = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
  });
  Work a(1), b(2);
  std::thread ta([&] { s.submit(a); });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return running; });
  }
  std::thread tb([&] { s.submit(b); });
  wait_queued(s, 1);
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  ta.join();
  tb.join();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], std::vector<int>{1});
  EXPECT_EQ(batches[1], std::vector<int>{2});
}

TEST(BatchScheduler, TheRunnersErrorReachesEveryRequestOfTheBatch) {
  BatchScheduler s(1h, 32, [](BatchScheduler::Batch& b) {
    b.passes = 2;  // counted although the run fails
    throw std::runtime_error("network failed");
  });
  auto t1 = s.join();
  auto t2 = s.join();
  Work a(1), b(2);
  std::atomic<int> failures{0};
  auto submit = [&](Work& w) {
    try {
      s.submit(w);
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()) == "network failed") ++failures;
    }
  };
  std::thread ta([&] { submit(a); });
  std::thread tb([&] { submit(b); });
  ta.join();
  tb.join();
  EXPECT_EQ(failures.load(), 2);
  EXPECT_TRUE(a.done && b.done);
  const auto c = s.counts();
  EXPECT_EQ(c.batches, 2u);
  EXPECT_EQ(c.items, 2u);
  // The scheduler keeps working after a failed batch.
  t2.reset();
  Work d(4);
  EXPECT_THROW(s.submit(d), std::runtime_error);
}

TEST(BatchScheduler, TheRunnerCountsItsPasses) {
  BatchScheduler s(1h, 32, [](BatchScheduler::Batch& b) { b.passes = 2; });
  Work a(1, 3);
  s.submit(a);
  const auto c = s.counts();
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(c.batches, 2u);
  EXPECT_EQ(c.items, 3u);
}

// ---- SharedRegistry ---------------------------------------------------------

TEST(SharedRegistry, OneLiveInstancePerKeyFreedWithItsLastUser) {
  SharedRegistry<int> registry;
  int made = 0;
  auto make = [&made] { return std::make_shared<int>(++made); };
  auto a = registry.get("model|cpu", make);
  auto b = registry.get("model|cpu", make);
  auto other = registry.get("model|cuda", make);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), other.get());
  EXPECT_EQ(made, 2);
  a.reset();
  b.reset();
  auto again = registry.get("model|cpu", make);  // released: made afresh
  EXPECT_EQ(*again, 3);
  EXPECT_EQ(registry.get("model|cuda", make).get(), other.get());
}

TEST(SharedRegistry, AFailedMakeLeavesNothingBehind) {
  SharedRegistry<int> registry;
  EXPECT_THROW(registry.get("k", []() -> std::shared_ptr<int> { throw std::runtime_error("no file"); }),
               std::runtime_error);
  EXPECT_EQ(*registry.get("k", [] { return std::make_shared<int>(7); }), 7);
}

TEST(SharedRegistry, ConcurrentCallersGetTheSameInstance) {
  SharedRegistry<int> registry;
  std::atomic<int> made{0};
  std::vector<std::shared_ptr<int>> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] { got[i] = registry.get("k", [&made] { return std::make_shared<int>(++made); }); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(made.load(), 1);
  for (const auto& g : got) EXPECT_EQ(g.get(), got[0].get());
}

}  // namespace
}  // namespace hicomex
