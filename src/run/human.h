// Counts and rates for people: 3.20 M, 12.5 k, 950.
#pragma once

#include <fmt/core.h>

#include <string>

namespace flowkit::run {

inline std::string human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

}  // namespace flowkit::run
