#include "core/timestamp.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace flowkit {

Timestamp wall_clock_now() {
  return Timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count()};
}

namespace {
std::tm utc(int64_t seconds) {
  std::tm tm{};
  time_t t = time_t(seconds);
  gmtime_r(&t, &tm);
  return tm;
}
}  // namespace

size_t format_iso8601(Timestamp t, char* buf) {
  std::tm tm = utc(t.seconds());
  int64_t sub = t.subsec_ns();
  int n;
  if (sub % 1000 == 0) {
    n = std::snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<long long>(sub / 1000));
  } else {
    n = std::snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<long long>(sub));
  }
  return n > 0 ? size_t(n) : 0;
}

std::string format_iso8601(Timestamp t) {
  char buf[40];
  return std::string(buf, format_iso8601(t, buf));
}

std::string format_nfdump_time(Timestamp t) {
  std::tm tm = utc(t.seconds());
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03lld", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<long long>(t.subsec_ns() / 1'000'000));
  return std::string(buf, n > 0 ? size_t(n) : 0);
}

}  // namespace flowkit
