#include "gen/option_values.h"

#include <gtest/gtest.h>

namespace flowkit::gen {
namespace {

TEST(ParseCount, AcceptsPlainScientificAndSuffixes) {
  EXPECT_EQ(parse_count("100000"), 100000u);
  EXPECT_EQ(parse_count("1e6"), 1000000u);
  EXPECT_EQ(parse_count("2.5e5"), 250000u);
  EXPECT_EQ(parse_count("250k"), 250000u);
  EXPECT_EQ(parse_count("2M"), 2000000u);
  EXPECT_EQ(parse_count("1G"), 1000000000u);
  EXPECT_EQ(parse_count("1.5Gi"), 1610612736u);
  EXPECT_EQ(parse_count("0"), 0u);
}

TEST(ParseCount, RejectsJunkFractionsAndNegatives) {
  EXPECT_FALSE(parse_count(""));
  EXPECT_FALSE(parse_count("abc"));
  EXPECT_FALSE(parse_count("1e6x"));
  EXPECT_FALSE(parse_count("1.5"));
  EXPECT_FALSE(parse_count("-3"));
  EXPECT_FALSE(parse_count("1e30"));
  EXPECT_FALSE(parse_count("M"));
}

TEST(ParseTime, IsoForms) {
  EXPECT_EQ(parse_time("2024-01-15T09:00:00Z")->ns, 1705309200'000'000'000);
  EXPECT_EQ(parse_time("2024-01-15 09:00:00")->ns, 1705309200'000'000'000);
  EXPECT_EQ(parse_time("2024-01-15T09:00")->ns, 1705309200'000'000'000);
  EXPECT_EQ(parse_time("2024-01-15")->ns, 1705276800'000'000'000);
  EXPECT_EQ(parse_time("2024-01-15T09:00:00.25Z")->ns, 1705309200'250'000'000);
  EXPECT_EQ(parse_time("2024-01-15T11:00:00+02:00")->ns, 1705309200'000'000'000);
  EXPECT_EQ(parse_time("2024-01-15T04:00:00-05:00")->ns, 1705309200'000'000'000);
}

TEST(ParseTime, UnixSeconds) {
  EXPECT_EQ(parse_time("1705309200")->ns, 1705309200'000'000'000);
  EXPECT_EQ(parse_time("1705309200.5")->ns, 1705309200'500'000'000);
  EXPECT_EQ(parse_time("0")->ns, 0);
  EXPECT_EQ(parse_time("1700000000.123456789")->ns, 1700000000'123456789);
  EXPECT_FALSE(parse_time("17e8"));
  EXPECT_FALSE(parse_time("1700000000."));
  EXPECT_FALSE(parse_time("1.0000000001"));
}

TEST(ParseTime, RejectsJunk) {
  EXPECT_FALSE(parse_time(""));
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_FALSE(parse_time("2024-13-01"));
  EXPECT_FALSE(parse_time("2024-01-15T25:00:00Z"));
  EXPECT_FALSE(parse_time("2024-01-15T09:00:00 UTC"));
  EXPECT_FALSE(parse_time("2024/01/15"));
}

TEST(ParseMix, OverridesNamedKinds) {
  std::array<double, kSessionKinds> base{};
  base.fill(1);
  auto w = parse_mix("dns=50,dns-large=0,tls=2.5", base);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ((*w)[size_t(SessionKind::kDns)], 50);
  EXPECT_EQ((*w)[size_t(SessionKind::kDnsLarge)], 0);
  EXPECT_EQ((*w)[size_t(SessionKind::kTls)], 2.5);
  EXPECT_EQ((*w)[size_t(SessionKind::kIcmp)], 1);
}

TEST(ParseMix, ExplainsErrors) {
  std::array<double, kSessionKinds> base{};
  auto unknown = parse_mix("smtp=3", base);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("known: tcp, http, tls"), std::string::npos);
  EXPECT_FALSE(parse_mix("dns", base).ok());
  EXPECT_FALSE(parse_mix("dns=-1", base).ok());
  EXPECT_FALSE(parse_mix("dns=x", base).ok());
}

}  // namespace
}  // namespace flowkit::gen
