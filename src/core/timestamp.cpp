#include "core/timestamp.h"

#include <chrono>
#include <cstring>

namespace flowkit {

Timestamp wall_clock_now() {
  return Timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count()};
}

CivilTime civil_utc(int64_t seconds) {
  // Days since 1970-01-01 to year/month/day: Howard Hinnant's civil_from_days, with eras of
  // 400 years starting on March 1st so that the leap day ends the year.
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  unsigned doe = unsigned(days - era * 146097);                          // [0, 146096]
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  CivilTime c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = int(int64_t(yoe) + era * 400 + (c.month <= 2));
  c.hour = unsigned(rem / 3600);
  c.minute = unsigned(rem / 60 % 60);
  c.second = unsigned(rem % 60);
  return c;
}

namespace {

// n as exactly `width` decimal digits (the low ones).
char* put_digits(char* p, uint64_t n, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = char('0' + n % 10);
    n /= 10;
  }
  return p + width;
}

// "YYYY-MM-DD<sep>HH:MM:SS"; years before 0 or after 9999 cannot come from a Timestamp.
char* put_date_time(char* p, int64_t seconds, char sep) {
  CivilTime c = civil_utc(seconds);
  p = put_digits(p, unsigned(c.year), 4);
  *p++ = '-';
  p = put_digits(p, c.month, 2);
  *p++ = '-';
  p = put_digits(p, c.day, 2);
  *p++ = sep;
  p = put_digits(p, c.hour, 2);
  *p++ = ':';
  p = put_digits(p, c.minute, 2);
  *p++ = ':';
  return put_digits(p, c.second, 2);
}

}  // namespace

char* TimeFormatter::date_time(Cache& c, int64_t seconds, char sep, char* buf) {
  if (c.seconds != seconds) {
    put_date_time(c.text, seconds, sep);
    c.seconds = seconds;
  }
  std::memcpy(buf, c.text, sizeof c.text);
  return buf + sizeof c.text;
}

size_t TimeFormatter::iso8601(Timestamp t, char* buf) {
  char* p = date_time(iso_, t.seconds(), 'T', buf);
  int64_t sub = t.subsec_ns();
  *p++ = '.';
  p = sub % 1000 == 0 ? put_digits(p, uint64_t(sub / 1000), 6) : put_digits(p, uint64_t(sub), 9);
  *p++ = 'Z';
  return size_t(p - buf);
}

size_t TimeFormatter::nfdump(Timestamp t, char* buf) {
  char* p = date_time(nfdump_, t.seconds(), ' ', buf);
  *p++ = '.';
  p = put_digits(p, uint64_t(t.subsec_ns() / 1'000'000), 3);
  return size_t(p - buf);
}

std::string format_iso8601(Timestamp t) {
  char buf[40];
  return std::string(buf, TimeFormatter().iso8601(t, buf));
}

std::optional<Timestamp> parse_iso8601(std::string_view text) {
  // Fixed positions: YYYY-MM-DD?HH:MM:SS
  if (text.size() < 19) return std::nullopt;
  auto number = [&](size_t at, size_t len, int64_t* out) {
    int64_t v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h, mi, s;
  if (!number(0, 4, &y) || text[4] != '-' || !number(5, 2, &mo) || text[7] != '-' ||
      !number(8, 2, &d) || (text[10] != 'T' && text[10] != ' ') || !number(11, 2, &h) ||
      text[13] != ':' || !number(14, 2, &mi) || text[16] != ':' || !number(17, 2, &s))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::string_view rest = text.substr(19);
  int64_t frac_ns = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1 || n > 10) return std::nullopt;
    int64_t v;
    number(19 + 1, n - 1, &v);
    for (size_t i = n - 1; i < 9; ++i) v *= 10;
    frac_ns = v;
    rest.remove_prefix(n);
  }
  if (rest == "Z") rest = {};
  if (!rest.empty()) return std::nullopt;
  // days_from_civil: the inverse of civil_utc's calendar arithmetic.
  int64_t yy = y - (mo <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  int64_t seconds = days * 86400 + h * 3600 + mi * 60 + s;
  if (seconds < 0 && frac_ns > 0) {  // so that the earliest times do not overflow on the way
    seconds += 1;
    frac_ns -= kNanosPerSecond;
  }
  int64_t ns;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &ns) ||
      __builtin_add_overflow(ns, frac_ns, &ns))
    return std::nullopt;
  return Timestamp{ns};
}

std::string format_nfdump_time(Timestamp t) {
  char buf[40];
  return std::string(buf, TimeFormatter().nfdump(t, buf));
}

}  // namespace flowkit
