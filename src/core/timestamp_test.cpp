#include "core/timestamp.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace flowkit {
namespace {

TEST(SaturatingAdd, AddsInRangeAndHoldsAtTheEnds) {
  EXPECT_EQ(saturating_add(5, 7), 12);
  EXPECT_EQ(saturating_add(5, -7), -2);
  EXPECT_EQ(saturating_add(INT64_MAX - 1, 1), INT64_MAX);
  EXPECT_EQ(saturating_add(INT64_MAX - 1, 300 * kNanosPerSecond), INT64_MAX);
  EXPECT_EQ(saturating_add(INT64_MIN + 1, -kNanosPerSecond), INT64_MIN);
  static_assert(saturating_add(INT64_MAX, 1) == INT64_MAX);
}

}  // namespace
}  // namespace flowkit
