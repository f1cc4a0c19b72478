#include "gen/option_values.h"

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string>

namespace flowkit::gen {
namespace {

std::optional<double> parse_double(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool digits(std::string_view s, size_t n) {
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int number(std::string_view s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

}  // namespace

std::optional<uint64_t> parse_count(std::string_view text) {
  double scale = 1;
  static constexpr struct {
    std::string_view suffix;
    double scale;
  } kSuffixes[] = {{"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
                   {"k", 1e3},     {"K", 1e3},        {"M", 1e6},           {"G", 1e9},
                   {"T", 1e12}};
  for (const auto& s : kSuffixes) {
    if (text.size() > s.suffix.size() && text.ends_with(s.suffix)) {
      scale = s.scale;
      text.remove_suffix(s.suffix.size());
      break;
    }
  }
  auto v = parse_double(text);
  if (!v || *v < 0) return std::nullopt;
  double x = *v * scale;
  if (x != std::floor(x) || x > 1.8e19) return std::nullopt;
  return uint64_t(x);
}

std::optional<Timestamp> parse_time(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find('-', 1) == std::string_view::npos && text.find(':') == std::string_view::npos) {
    // UNIX seconds; whole and fractional parts apart, since a double cannot hold nanoseconds.
    bool negative = text[0] == '-';
    if (negative) text.remove_prefix(1);
    size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    if (whole.empty() || whole.size() > 11 || !digits(whole, whole.size()) || frac.size() > 9 ||
        !digits(frac, frac.size()) || (dot != std::string_view::npos && frac.empty()))
      return std::nullopt;
    int64_t ns = 0;
    for (char c : whole) ns = ns * 10 + (c - '0');
    ns *= 1'000'000'000;
    int64_t scale = 100'000'000;
    for (char c : frac) {
      ns += (c - '0') * scale;
      scale /= 10;
    }
    return Timestamp{negative ? -ns : ns};
  }
  // YYYY-MM-DD
  if (!digits(text, 4) || text.size() < 10 || text[4] != '-' || !digits(text.substr(5), 2) ||
      text[7] != '-' || !digits(text.substr(8), 2))
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = number(text, 4) - 1900;
  tm.tm_mon = number(text.substr(5), 2) - 1;
  tm.tm_mday = number(text.substr(8), 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31) return std::nullopt;
  std::string_view rest = text.substr(10);
  int64_t frac_ns = 0;
  int64_t offset_s = 0;
  if (!rest.empty() && (rest[0] == 'T' || rest[0] == ' ')) {
    rest.remove_prefix(1);
    if (!digits(rest, 2) || rest.size() < 5 || rest[2] != ':' || !digits(rest.substr(3), 2))
      return std::nullopt;
    tm.tm_hour = number(rest, 2);
    tm.tm_min = number(rest.substr(3), 2);
    rest.remove_prefix(5);
    if (!rest.empty() && rest[0] == ':') {
      if (!digits(rest.substr(1), 2)) return std::nullopt;
      tm.tm_sec = number(rest.substr(1), 2);
      rest.remove_prefix(3);
      if (!rest.empty() && rest[0] == '.') {
        rest.remove_prefix(1);
        int64_t scale = 100'000'000;
        size_t n = 0;
        while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
          frac_ns += (rest[n] - '0') * scale;
          scale /= 10;
          ++n;
        }
        if (n == 0) return std::nullopt;
        rest.remove_prefix(n);
      }
    }
    if (tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) return std::nullopt;
  }
  if (rest == "Z" || rest == "z") {
    rest = {};
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && digits(rest.substr(1), 2) &&
             rest[3] == ':' && digits(rest.substr(4), 2)) {
    offset_s = (number(rest.substr(1), 2) * 3600 + number(rest.substr(4), 2) * 60) *
               (rest[0] == '+' ? 1 : -1);
    rest = {};
  }
  if (!rest.empty()) return std::nullopt;
  int64_t secs = int64_t(timegm(&tm)) - offset_s;
  return Timestamp{secs * 1'000'000'000 + frac_ns};
}

Result<std::array<double, kSessionKinds>> parse_mix(std::string_view text,
                                                    const std::array<double, kSessionKinds>& base) {
  std::array<double, kSessionKinds> w = base;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return Status::invalid_argument("mix: expected kind=weight, got \"" + std::string(item) +
                                      "\"");
    std::string_view kind = item.substr(0, eq);
    auto v = parse_double(item.substr(eq + 1));
    if (!v || *v < 0)
      return Status::invalid_argument("mix: bad weight in \"" + std::string(item) + "\"");
    size_t k = 0;
    while (k < kSessionKinds && session_kind_name(SessionKind(k)) != kind) ++k;
    if (k == kSessionKinds) {
      std::string known;
      for (size_t i = 0; i < kSessionKinds; ++i) {
        known += (i ? ", " : "") + std::string(session_kind_name(SessionKind(i)));
      }
      return Status::invalid_argument("mix: unknown session kind \"" + std::string(kind) +
                                      "\" (known: " + known + ")");
    }
    w[k] = *v;
  }
  return w;
}

}  // namespace flowkit::gen
