#include "dissect/hosts.h"

#include <gtest/gtest.h>

#include "core/field_registry.h"
#include "core/testing/ip.h"

namespace flowkit::dissect {
namespace {

using flowkit::testing::ip;

TEST(HostNames, LatestAnswerWinsAndTheOldestIsForgotten) {
  HostNames names(2);
  names.learn(ip("192.0.2.1"), "a.example");
  names.learn(ip("192.0.2.1"), "b.example");
  EXPECT_EQ(names.find(ip("192.0.2.1")), "b.example");
  names.learn(ip("2001:db8::1"), "c.example");
  names.learn(ip("192.0.2.3"), "d.example");  // full: 192.0.2.1 goes
  EXPECT_EQ(names.find(ip("192.0.2.1")), "");
  EXPECT_EQ(names.find(ip("2001:db8::1")), "c.example");
  EXPECT_EQ(names.size(), 2u);

  FlowRecord r;
  r.src_ip = ip("10.0.0.1");
  r.dst_ip = ip("2001:db8::1");
  Arena arena;
  names.label(r, arena);
  EXPECT_EQ(r.app.dst_host, "c.example");
  EXPECT_FALSE(r.present & field_info(FieldId::kSrcHost).bit);
}

TEST(LocalNets, DirectionsAndErrors) {
  auto nets = LocalNets::parse("10.0.0.0/8,2001:db8::/32,192.0.2.7");
  ASSERT_TRUE(nets.ok());
  EXPECT_TRUE(nets->contains(ip("10.200.1.1")));
  EXPECT_FALSE(nets->contains(ip("11.0.0.1")));
  EXPECT_TRUE(nets->contains(ip("2001:db8:5::1")));
  EXPECT_TRUE(nets->contains(ip("192.0.2.7")));
  EXPECT_FALSE(nets->contains(ip("192.0.2.8")));
  auto direction = [&](const char* src, const char* dst) {
    FlowRecord r;
    r.src_ip = ip(src);
    r.dst_ip = ip(dst);
    nets->label(r);
    return std::string(r.app.traffic_direction);
  };
  EXPECT_EQ(direction("10.0.0.1", "8.8.8.8"), "outbound");
  EXPECT_EQ(direction("8.8.8.8", "10.0.0.1"), "inbound");
  EXPECT_EQ(direction("10.0.0.1", "192.0.2.7"), "internal");
  EXPECT_EQ(direction("8.8.8.8", "1.1.1.1"), "external");
  for (const char* bad : {"10.0.0.0/33", "2001:db8::/129", "example.org", "10.0.0.0/x"}) {
    auto r = LocalNets::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("ADDRESS/PREFIX"), std::string::npos);
  }
}

}  // namespace
}  // namespace flowkit::dissect
