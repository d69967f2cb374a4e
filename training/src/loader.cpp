// Multi-threaded, deterministic batch loader (see loader.h). Workers claim batch
// numbers from a counter and the consumer takes them back in number order, so the
// result never depends on which worker built which batch.
#include "training/loader.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace hicomex::training {

std::vector<std::size_t> epoch_order(std::vector<std::size_t> records, std::uint64_t seed, int epoch, bool shuffle) {
  if (!shuffle) return records;
  SplitMix64 rng(mix_seed(seed, static_cast<std::uint64_t>(epoch), 0x5348554646ull));
  for (std::size_t i = records.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.next() % i);
    std::swap(records[i - 1], records[j]);
  }
  return records;
}

BatchLoader::BatchLoader(const CacheReader& cache, std::vector<std::size_t> records, LoaderOptions options)
    : cache_(cache), records_(std::move(records)), opt_(std::move(options)) {
  if (records_.empty())
    for (std::size_t i = 0; i < cache_.size(); ++i) records_.push_back(i);
  for (auto r : records_)
    if (r >= cache_.size())
      throw std::out_of_range("loader: record " + std::to_string(r) + " beyond the cache's " +
                              std::to_string(cache_.size()) + " records (" + cache_.path() + ")");
  if (opt_.batch_size == 0) throw std::invalid_argument("loader: batch size 0");
  if (opt_.threads <= 0) opt_.threads = std::max(1u, std::thread::hardware_concurrency());
  if (opt_.prefetch == 0) opt_.prefetch = 1;
}

BatchLoader::~BatchLoader() { stop(); }

std::size_t BatchLoader::batches_per_epoch() const {
  const std::size_t n = records_.size(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

void BatchLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void BatchLoader::start_epoch(int epoch) {
  stop();
  epoch_ = epoch;
  order_ = epoch_order(records_, opt_.seed, epoch, opt_.shuffle);
  ready_.clear();
  error_ = nullptr;
  next_to_build_ = next_to_return_ = 0;
  stopping_ = false;
  const std::size_t n_threads =
      std::min<std::size_t>(static_cast<std::size_t>(opt_.threads), std::max<std::size_t>(1, batches_per_epoch()));
  for (std::size_t t = 0; t < n_threads; ++t) workers_.emplace_back([this] { worker(); });
}

void BatchLoader::worker() {
  const std::size_t total = batches_per_epoch();
  while (true) {
    std::size_t b;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stopping_ || next_to_build_ >= total || next_to_build_ < next_to_return_ + opt_.prefetch;
      });
      if (stopping_ || next_to_build_ >= total) return;
      b = next_to_build_++;
    }
    Batch batch;
    std::exception_ptr err;
    try {
      batch = build(b);
    } catch (...) {
      err = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (err && !error_) error_ = err;
      ready_.emplace(b, std::move(batch));
    }
    cv_.notify_all();
  }
}

std::optional<Batch> BatchLoader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  if (order_.empty() && !records_.empty()) throw std::logic_error("loader: next() before start_epoch()");
  if (next_to_return_ >= batches_per_epoch()) return std::nullopt;
  cv_.wait(lock, [&] { return error_ || ready_.count(next_to_return_) > 0; });
  if (error_) std::rethrow_exception(error_);
  auto it = ready_.find(next_to_return_);
  Batch b = std::move(it->second);
  ready_.erase(it);
  ++next_to_return_;
  lock.unlock();
  cv_.notify_all();
  return b;
}

Batch BatchLoader::build(std::size_t batch_index) const {
  const std::size_t first = batch_index * opt_.batch_size;
  const std::size_t n = std::min(opt_.batch_size, order_.size() - first);
  const int crop = opt_.augment.crop;
  const std::size_t a = cache_.aus().size(), plane = std::size_t(3) * crop * crop;
  Batch b;
  b.size = n;
  b.crop = crop;
  b.n_aus = a;
  b.images.resize(n * plane);
  b.labels.resize(n * a);
  b.intensities.assign(n * a, std::numeric_limits<float>::quiet_NaN());
  b.landmarks.assign(n * 98, 0.f);
  b.has_landmarks.assign(n, 0);
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t rec = order_[first + r];
    b.records.push_back(rec);
    const PreparedSample s = cache_.read(rec);
    // The augmentation seed names the record and epoch, not the batch slot or thread.
    const auto face =
        augment_to_chw(s.rgb, s.landmarks49, opt_.augment, mix_seed(opt_.seed, static_cast<std::uint64_t>(epoch_), rec),
                       b.images.data() + r * plane);
    std::copy(s.labels.begin(), s.labels.end(), b.labels.begin() + static_cast<long>(r * a));
    if (s.intensities.size() == a)
      std::copy(s.intensities.begin(), s.intensities.end(), b.intensities.begin() + static_cast<long>(r * a));
    if (!face.landmarks.empty()) {
      b.has_landmarks[r] = 1;
      for (int k = 0; k < 49; ++k) {
        b.landmarks[r * 98 + 2 * k] = face.landmarks[k].x;
        b.landmarks[r * 98 + 2 * k + 1] = face.landmarks[k].y;
      }
    }
  }
  return b;
}

}  // namespace hicomex::training
