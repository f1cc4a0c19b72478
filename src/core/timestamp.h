// Timestamp: nanoseconds since the UNIX epoch, UTC. Packet time in file mode, wall time live.
#pragma once

#include <cstdint>
#include <string>

namespace flowkit {

struct Timestamp {
  int64_t ns = 0;

  static constexpr Timestamp from_seconds(int64_t s) { return {s * 1'000'000'000}; }
  static constexpr Timestamp from_usec(int64_t sec, int64_t usec) {
    return {sec * 1'000'000'000 + usec * 1'000};
  }
  constexpr int64_t seconds() const {
    return ns >= 0 ? ns / 1'000'000'000 : -((-ns + 999'999'999) / 1'000'000'000);
  }
  constexpr int64_t subsec_ns() const { return ns - seconds() * 1'000'000'000; }
  constexpr int64_t millis() const { return ns / 1'000'000; }
  constexpr int64_t micros() const { return ns / 1'000; }
  // Seconds as a double the way Python tools compute it: sec + usec / 1e6.
  double seconds_double_usec() const {
    return double(seconds()) + double(subsec_ns() / 1000) / 1e6;
  }
  constexpr bool is_set() const { return ns != 0; }

  friend constexpr auto operator<=>(Timestamp, Timestamp) = default;
};

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// A span of time in nanoseconds.
using Duration = int64_t;
constexpr Duration seconds_to_ns(double s) {
  return Duration(s * 1e9);
}
// t + d in nanoseconds, held at the ends of the range: times come from files and can be anything.
constexpr int64_t saturating_add(int64_t t, Duration d) {
  int64_t r = 0;
  if (__builtin_add_overflow(t, d, &r)) return d > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

// "2016-03-24T01:27:27.829442Z"; microseconds, or nanoseconds when the value has them.
// The system's wall clock now (live capture and collection run on it).
Timestamp wall_clock_now();

std::string format_iso8601(Timestamp t);
// nfdump's layout: "2016-03-24 01:27:27.829" (milliseconds, UTC).
std::string format_nfdump_time(Timestamp t);
// Writes the ISO form into buf (>= 32 bytes); returns the length.
size_t format_iso8601(Timestamp t, char* buf);

}  // namespace flowkit
