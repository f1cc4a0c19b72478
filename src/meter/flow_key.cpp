#include "meter/flow_key.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <random>

namespace flowkit::meter {

HashSecret HashSecret::from_seed(uint64_t seed) {
  HashSecret s;
  for (uint64_t& w : s.w) {  // splitmix64: well-spread words from any seed, 0 included
    uint64_t z = (seed += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    w = z ^ (z >> 31);
  }
  return s;
}

const HashSecret& HashSecret::of_process() {
  static const HashSecret secret = [] {
    uint64_t seed;
    // Benchmarks that count instructions fix it: the table's probe lengths then repeat.
    if (const char* fixed = std::getenv("FLOWKIT_HASH_SEED"))
      return from_seed(std::strtoull(fixed, nullptr, 0));
    try {
      std::random_device rd;
      seed = uint64_t(rd()) << 32 | rd();
    } catch (const std::exception&) {
      // No entropy source: the clock still differs from run to run.
      seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    return from_seed(seed);
  }();
  return secret;
}

}  // namespace flowkit::meter
