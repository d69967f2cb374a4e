// Multi-threaded batch loader over a prepared-sample cache. Batches come out in a
// fixed order for a given (seed, epoch): the shuffle and every sample's augmentation
// seed depend only on them, never on the number of threads or their timing.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "training/augment.h"
#include "training/cache.h"

namespace hicomex::training {

struct Batch {
  std::size_t size = 0;
  int crop = 0;
  std::size_t n_aus = 0;
  std::vector<std::size_t> records;         ///< cache record of each row
  std::vector<float> images;                ///< size x 3 x crop x crop, normalised
  std::vector<std::int8_t> labels;          ///< size x n_aus (1 / 0 / -1)
  std::vector<float> intensities;           ///< size x n_aus, 0-5 (NaN = not coded)
  std::vector<float> landmarks;             ///< size x 98, crop coordinates (0 where missing)
  std::vector<std::uint8_t> has_landmarks;  ///< size
};

struct LoaderOptions {
  std::size_t batch_size = 16;
  int threads = 0;  ///< 0 = std::thread::hardware_concurrency()
  bool shuffle = true;
  bool drop_last = false;
  std::uint64_t seed = 0;
  std::size_t prefetch = 4;  ///< batches prepared ahead of the consumer
  AugmentOptions augment;
};

/// Order of `records` for an epoch (Fisher-Yates with a seeded SplitMix64).
std::vector<std::size_t> epoch_order(std::vector<std::size_t> records, std::uint64_t seed, int epoch, bool shuffle);

class BatchLoader {
 public:
  /// `records`: cache records to draw from (all if empty). The reader must outlive the loader.
  BatchLoader(const CacheReader& cache, std::vector<std::size_t> records, LoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  std::size_t batches_per_epoch() const;
  /// Starts (or restarts) an epoch; stops workers of the previous one first.
  void start_epoch(int epoch);
  /// The next batch of the epoch in order, nullopt at its end. Rethrows a worker's error.
  std::optional<Batch> next();

 private:
  void stop();
  void worker();
  Batch build(std::size_t batch_index) const;

  const CacheReader& cache_;
  std::vector<std::size_t> records_;
  LoaderOptions opt_;
  int epoch_ = 0;
  std::vector<std::size_t> order_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t next_to_build_ = 0;
  std::size_t next_to_return_ = 0;
  bool stopping_ = false;
  std::map<std::size_t, Batch> ready_;
  std::exception_ptr error_;
};

}  // namespace hicomex::training
