// Seeded random numbers. The engine is xoshiro256++ (Blackman & Vigna, "Scrambled linear
// pseudorandom number generators", 2021), seeded through splitmix64. Uniform floats take the
// top 24 bits (doubles the top 53) of one draw; normals come from the Box-Muller transform in
// double precision. Only integer arithmetic and IEEE sqrt/log/cos/sin are involved, so a seed
// gives the same numbers on every platform with a correctly rounded libm (glibc's is).
// Part of core/.
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace ink {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0x5eed) { manual_seed(seed); }

  void manual_seed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : state_.words) s = splitmix64(x);
    state_.has_spare_normal = 0;
    state_.spare_normal = 0;
  }

  std::uint64_t next_u64() {
    auto& s = state_.words;
    const std::uint64_t result = rotl(s[0] + s[3], 23) + s[0];
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  float uniform_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (state_.has_spare_normal) {
      state_.has_spare_normal = 0;
      return state_.spare_normal;
    }
    double u1;
    do u1 = uniform_double(); while (u1 <= 0.0);
    const double u2 = uniform_double();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    state_.spare_normal = r * std::sin(theta);
    state_.has_spare_normal = 1;
    return r * std::cos(theta);
  }

  // Uniform integer in [0, n), without modulo bias (Lemire's method, rejection variant).
  std::uint64_t uniform_int(std::uint64_t n) {
    if (n <= 1) return 0;
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
      if (static_cast<std::uint64_t>(m) >= threshold) return static_cast<std::uint64_t>(m >> 64);
    }
  }

  // The full state, so that checkpoints can save and restore a generator exactly.
  struct State {
    std::array<std::uint64_t, 4> words{};
    std::uint64_t has_spare_normal = 0;
    double spare_normal = 0;
  };
  State get_state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  State state_;
};

// The generator used when a creation function is given none. Not thread-safe: seed it with
// manual_seed() and draw from one thread, or pass each thread its own Generator.
inline Generator& default_generator() {
  static Generator g;
  return g;
}
inline void manual_seed(std::uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace ink
