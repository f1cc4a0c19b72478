// The format's varints: every length from 1 to 10 bytes, with bytes after them that must not be
// read, and cut short.
#include "store/column.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace flowkit::store {
namespace {

TEST(Varint, EveryLengthRoundTripsWithOrWithoutBytesAfterIt) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> values = {0, 1, 127, 128, 16383, 16384, UINT64_MAX, UINT64_MAX >> 1};
  for (int bits = 1; bits <= 64; ++bits)
    for (int i = 0; i < 50; ++i) values.push_back(rng() >> (64 - bits));
  for (uint64_t v : values) {
    std::vector<uint8_t> buf;
    put_varint(buf, v);
    const size_t len = buf.size();
    for (size_t tail : {0, 3, 8}) {
      std::vector<uint8_t> b = buf;
      b.resize(len + tail, 0x80);  // continuation bits after the value must not be read
      const uint8_t* p = b.data();
      uint64_t got = 0;
      ASSERT_TRUE(get_varint(p, b.data() + b.size(), &got)) << v;
      EXPECT_EQ(got, v) << "tail " << tail;
      EXPECT_EQ(size_t(p - b.data()), len) << v;
    }
    // Cut short: no value.
    const uint8_t* p = buf.data();
    uint64_t got = 0;
    EXPECT_FALSE(get_varint(p, buf.data() + len - 1, &got)) << v;
  }
  // Ten continuation bytes and more are not a value.
  std::vector<uint8_t> bad(16, 0xff);
  const uint8_t* p = bad.data();
  uint64_t got = 0;
  EXPECT_FALSE(get_varint(p, bad.data() + bad.size(), &got));
}

}  // namespace
}  // namespace flowkit::store
