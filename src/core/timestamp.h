// Timestamp: nanoseconds since the UNIX epoch, UTC. Packet time in file mode, wall time live.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowkit {

struct Timestamp {
  int64_t ns = 0;

  static constexpr Timestamp from_seconds(int64_t s) { return {s * 1'000'000'000}; }
  static constexpr Timestamp from_usec(int64_t sec, int64_t usec) {
    return {sec * 1'000'000'000 + usec * 1'000};
  }
  constexpr int64_t seconds() const {
    return ns / 1'000'000'000 - (ns % 1'000'000'000 < 0);  // floor, INT64_MIN included
  }
  // The remainder taken directly: seconds() * 1e9 overflows for the earliest seconds.
  constexpr int64_t subsec_ns() const {
    int64_t r = ns % 1'000'000'000;
    return r < 0 ? r + 1'000'000'000 : r;
  }
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

// The system's wall clock now (live capture and collection run on it).
Timestamp wall_clock_now();

// A time broken down in UTC (proleptic Gregorian calendar). Computed without the C library,
// whose gmtime takes a lock and reads the time zone: writers format millions of times a second.
struct CivilTime {
  int year;
  unsigned month, day, hour, minute, second;
};
CivilTime civil_utc(int64_t seconds);

// Formats times, keeping the date and time of the last second it wrote: a writer's records
// mostly fall in the same second, and this makes a time a copy and a few digits.
class TimeFormatter {
 public:
  // "2016-03-24T01:27:27.829442Z"; microseconds, or nanoseconds when the value has them.
  // buf holds >= 32 bytes; returns the length.
  size_t iso8601(Timestamp t, char* buf);
  // nfdump's layout: "2016-03-24 01:27:27.829" (milliseconds, UTC); buf >= 24 bytes.
  size_t nfdump(Timestamp t, char* buf);

 private:
  struct Cache {
    int64_t seconds = INT64_MIN;  // no Timestamp has it
    char text[19];
  };
  char* date_time(Cache& c, int64_t seconds, char sep, char* buf);
  Cache iso_, nfdump_;
};

std::string format_iso8601(Timestamp t);
// Reads what format_iso8601 writes: "YYYY-MM-DDTHH:MM:SS[.fraction]Z", up to 9 fraction digits
// (a space for the T, and no Z, as nfdump writes, are accepted too). nullopt when malformed.
std::optional<Timestamp> parse_iso8601(std::string_view text);
std::string format_nfdump_time(Timestamp t);

}  // namespace flowkit
