// A small random generator whose streams are the same on every platform.
// std::*_distribution results differ between standard libraries, and the
// generator promises byte-identical datasets per seed, so the draws are ours.
#pragma once
#include <cmath>
#include <cstdint>

namespace hicomex::synth {

/// Mixes two 64-bit values into a well-spread seed (SplitMix64 finaliser).
inline std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// SplitMix64: tiny state, good statistics, cheap to fork into sub-streams so
/// that what one part of a face draws never shifts what another part draws.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [lo, hi] (inclusive).
  int integer(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
  /// Normal draw (Box-Muller, no cached second value so the stream stays simple).
  double normal(double mean = 0.0, double sd = 1.0) {
    double u1 = uniform();
    double u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  /// Normal draw clipped to [lo, hi].
  double normal_clipped(double mean, double sd, double lo, double hi) {
    double v = normal(mean, sd);
    return v < lo ? lo : (v > hi ? hi : v);
  }
  bool chance(double p) { return uniform() < p; }
  /// An independent generator for a named sub-stream.
  Rng fork(std::uint64_t stream) const { return Rng(mix_seed(state_, stream)); }

 private:
  std::uint64_t state_;
};

}  // namespace hicomex::synth
