#include "gen/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "gen/test_util.h"

namespace flowkit::gen {
namespace {

using testing::naive_fold;
using testing::naive_sum;

TEST(Checksum, MatchesNaiveSumForAllLengthsAndAlignments) {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(600);
  for (auto& b : buf) b = uint8_t(rng());
  for (size_t start = 0; start < 8; start += 2) {
    for (size_t len = 0; len < 300; ++len) {
      ASSERT_EQ(ones_sum(buf.data() + start, len), naive_fold(naive_sum(buf.data() + start, len)))
          << "start " << start << " len " << len;
    }
  }
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ones_sum(data, sizeof data), 0xddf2u);
  EXPECT_EQ(ones_finish(ones_sum(data, sizeof data)), 0x220d);
}

TEST(Checksum, AllOnesDataFolds) {
  std::vector<uint8_t> ff(1500, 0xff);
  EXPECT_EQ(ones_sum(ff.data(), ff.size()), 0xffffu);
}

TEST(Checksum, PseudoHeaders) {
  const uint8_t s4[4] = {10, 1, 2, 3}, d4[4] = {192, 0, 2, 200};
  EXPECT_EQ(pseudo_sum_v4(s4, d4, 17, 1234),
            naive_fold(testing::naive_pseudo(4, s4, d4, 17, 1234)));
  uint8_t s6[16], d6[16];
  for (int i = 0; i < 16; ++i) {
    s6[i] = uint8_t(0xf0 + i);
    d6[i] = uint8_t(0x20 * i + 1);
  }
  EXPECT_EQ(pseudo_sum_v6(s6, d6, 6, 70000),
            naive_fold(testing::naive_pseudo(6, s6, d6, 6, 70000)));
}

TEST(Checksum, IncrementalReplaceEqualsRecompute) {
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    uint8_t hdr[20];
    for (auto& b : hdr) b = uint8_t(rng());
    hdr[10] = hdr[11] = 0;
    uint16_t c = ones_finish(ones_sum(hdr, 20));
    hdr[10] = uint8_t(c >> 8);
    hdr[11] = uint8_t(c);
    uint8_t old[8];
    std::memcpy(old, hdr + 12, 8);
    for (int i = 12; i < 20; ++i) hdr[i] = uint8_t(rng());
    uint16_t updated = checksum_replace(c, old, hdr + 12, 8);
    hdr[10] = uint8_t(updated >> 8);
    hdr[11] = uint8_t(updated);
    EXPECT_TRUE(testing::sums_to_ones(hdr, 20)) << "round " << round;
  }
}

TEST(Checksum, IncrementalReplaceKeepsAWrongChecksumWrong) {
  uint8_t hdr[20] = {0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  uint16_t good = ones_finish(ones_sum(hdr, 20));
  uint16_t bad = uint16_t(good + 5);
  const uint8_t old[8] = {10, 0, 0, 1, 10, 0, 0, 2};
  const uint8_t now[8] = {10, 9, 8, 7, 10, 6, 5, 4};
  std::memcpy(hdr + 12, now, 8);
  uint16_t fixed_good = checksum_replace(good, old, now, 8);
  EXPECT_EQ(fixed_good, ones_finish(ones_sum(hdr, 20)));
  EXPECT_NE(checksum_replace(bad, old, now, 8), fixed_good);
}

}  // namespace
}  // namespace flowkit::gen
