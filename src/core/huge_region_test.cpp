#include "core/huge_region.h"

#include <gtest/gtest.h>

#include <utility>

namespace flowkit {
namespace {

TEST(HugeRegion, CommitsZeroedMemoryInPlace) {
  HugeRegion r(size_t(8) << 20);
  ASSERT_NE(r.data(), nullptr);
  EXPECT_EQ(r.capacity(), size_t(8) << 20);
  EXPECT_EQ(r.committed(), 0u);
  ASSERT_TRUE(r.commit(100));
  EXPECT_GE(r.committed(), 100u);
  uint8_t* base = r.data();
  base[0] = 1;
  base[99] = 2;
  // Growing past the small-page prefix keeps the address and what was written.
  ASSERT_TRUE(r.commit(size_t(5) << 20));
  EXPECT_EQ(r.data(), base);
  EXPECT_EQ(base[0], 1);
  EXPECT_EQ(base[99], 2);
  for (size_t off = 100; off < (size_t(5) << 20); off += 4093) EXPECT_EQ(base[off], 0) << off;
  base[(size_t(5) << 20) - 1] = 3;
}

TEST(HugeRegion, RefusesMoreThanReserved) {
  HugeRegion r(1000);
  EXPECT_FALSE(r.commit(r.capacity() + 1));
  EXPECT_EQ(r.committed(), 0u);
  EXPECT_TRUE(r.commit(r.capacity()));
  EXPECT_EQ(r.committed(), r.capacity());
}

TEST(HugeRegion, MovesOwnership) {
  HugeRegion a(size_t(4) << 20);
  ASSERT_TRUE(a.commit(64));
  a.data()[10] = 7;
  HugeRegion b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.committed(), 0u);
  EXPECT_EQ(b.data()[10], 7);
  HugeRegion empty;
  EXPECT_EQ(empty.data(), nullptr);
  EXPECT_FALSE(empty.commit(1));
}

}  // namespace
}  // namespace flowkit
