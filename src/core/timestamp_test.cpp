#include "core/timestamp.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ctime>
#include <random>

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

TEST(CivilUtc, AgreesWithGmtimeOverTheWholeTimestampRange) {
  auto check = [](int64_t s) {
    std::tm tm{};
    time_t t = time_t(s);
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    CivilTime c = civil_utc(s);
    EXPECT_EQ(c.year, tm.tm_year + 1900) << s;
    EXPECT_EQ(c.month, unsigned(tm.tm_mon + 1)) << s;
    EXPECT_EQ(c.day, unsigned(tm.tm_mday)) << s;
    EXPECT_EQ(c.hour, unsigned(tm.tm_hour)) << s;
    EXPECT_EQ(c.minute, unsigned(tm.tm_min)) << s;
    EXPECT_EQ(c.second, unsigned(tm.tm_sec)) << s;
  };
  for (int64_t s : {int64_t(0), int64_t(-1), int64_t(86399), int64_t(86400), int64_t(951782400),
                    int64_t(951868800), int64_t(4107542399), Timestamp{INT64_MIN}.seconds(),
                    Timestamp{INT64_MAX}.seconds()})
    check(s);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> any(Timestamp{INT64_MIN}.seconds(),
                                             Timestamp{INT64_MAX}.seconds());
  for (int i = 0; i < 200000; ++i) check(any(rng));
}

TEST(FormatTime, IsoAndNfdumpForms) {
  Timestamp t{1458782847'829442000};
  EXPECT_EQ(format_iso8601(t), "2016-03-24T01:27:27.829442Z");
  EXPECT_EQ(format_iso8601(Timestamp{t.ns + 1}), "2016-03-24T01:27:27.829442001Z");
  EXPECT_EQ(format_nfdump_time(t), "2016-03-24 01:27:27.829");
  EXPECT_EQ(format_iso8601(Timestamp{-1}), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_nfdump_time(Timestamp{INT64_MIN}), "1677-09-21 00:12:43.145");
  EXPECT_EQ(format_iso8601(Timestamp{INT64_MAX}), "2262-04-11T23:47:16.854775807Z");
}

TEST(ParseIso8601, ReadsWhatIsWritten) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    Timestamp t{int64_t(rng())};
    auto back = parse_iso8601(format_iso8601(t));
    ASSERT_TRUE(back) << format_iso8601(t);
    EXPECT_EQ(back->ns, t.ns) << format_iso8601(t);
  }
  EXPECT_EQ(parse_iso8601("2016-03-24 01:27:27.829")->ns, 1458782847'829000000);
  EXPECT_EQ(parse_iso8601("2016-03-24T01:27:27Z")->ns, 1458782847'000000000);
  for (const char* bad : {"", "2016-03-24", "2016-13-24T01:27:27Z", "2016-03-24T01:27:27.Z",
                          "2016-03-24T01:27:27.1234567890Z", "2016-03-24T01:27:27Zx",
                          "x016-03-24T01:27:27Z", "9999-12-31T23:59:59Z"})
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
}

TEST(FormatTime, FormatterCacheFollowsTheSecond) {
  TimeFormatter f;
  char buf[40];
  auto iso = [&](int64_t ns) { return std::string(buf, f.iso8601(Timestamp{ns}, buf)); };
  auto nf = [&](int64_t ns) { return std::string(buf, f.nfdump(Timestamp{ns}, buf)); };
  EXPECT_EQ(iso(1458782847'000000000), "2016-03-24T01:27:27.000000Z");
  EXPECT_EQ(iso(1458782847'999999000), "2016-03-24T01:27:27.999999Z");
  EXPECT_EQ(nf(1458782847'999999000), "2016-03-24 01:27:27.999");
  EXPECT_EQ(iso(1458782848'000000000), "2016-03-24T01:27:28.000000Z");
  EXPECT_EQ(iso(1458782847'500000000), "2016-03-24T01:27:27.500000Z");
  EXPECT_EQ(nf(-999'000'000), "1969-12-31 23:59:59.001");
  EXPECT_EQ(iso(-999'000'000), "1969-12-31T23:59:59.001000Z");
}

}  // namespace
}  // namespace flowkit
