#include "core/ip_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>

namespace flowkit {
namespace {

std::string c_library_text(const uint8_t* b) {
  char buf[INET6_ADDRSTRLEN];
  EXPECT_NE(inet_ntop(AF_INET6, b, buf, sizeof buf), nullptr);
  return buf;
}

TEST(IpAddressFormat, MatchesInetNtop) {
  std::mt19937_64 rng(11);
  uint8_t b[16];
  // Random groups, each zero half of the time, so that every run of zeros is tried; plus the
  // IPv4-compatible forms.
  for (int n = 0; n < 100000; ++n) {
    for (int i = 0; i < 16; i += 2) {
      uint64_t x = rng();
      bool zero = x & 1;
      b[i] = zero ? 0 : uint8_t(x >> 8);
      b[i + 1] = zero ? 0 : uint8_t(x >> 16);
    }
    if (n % 7 == 0) std::fill(b, b + 12, 0);
    if (n % 11 == 0) std::fill(b, b + 10, 0), b[10] = b[11] = 0xff;
    IpAddress a = IpAddress::v6(b);
    if (a.is_v4()) continue;
    ASSERT_EQ(a.to_string(), c_library_text(b));
  }
  for (const char* text : {"::", "::1", "1::", "::1.2.3.4", "1:0:0:2::3", "1::2:0:0:3", "fe80::1",
                           "2001:db8::ff00:42:8329", "0:0:1::"}) {
    auto a = IpAddress::parse(text);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), text);
  }
  EXPECT_EQ(IpAddress::v4(0x0a000001).to_string(), "10.0.0.1");
  EXPECT_EQ(IpAddress::v4(0xffffffff).to_string(), "255.255.255.255");
  EXPECT_EQ(IpAddress::v4(uint32_t(0)).to_string(), "0.0.0.0");
  EXPECT_EQ(IpAddress::v4(0xc0a8640a).to_string(), "192.168.100.10");
}

}  // namespace
}  // namespace flowkit
