#include "packet/decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/ip_address.h"
#include "packet/testing/decoder_check.h"
#include "packet/testing/frame_builder.h"

namespace flowkit::packet {
namespace {

using testing::Frame;

PacketView run(const std::vector<uint8_t>& f, uint32_t linktype = 1, bool decap = true) {
  PacketView v;
  DecodeOptions o;
  o.decapsulate = decap;
  decode(f.data(), uint32_t(f.size()), uint32_t(f.size()), linktype, o, v);
  return v;
}

std::string src_of(const PacketView& v) {
  return IpAddress::v6(v.src).to_string();
}
std::string dst_of(const PacketView& v) {
  return IpAddress::v6(v.dst).to_string();
}
std::string outer_src_of(const PacketView& v) {
  return IpAddress::v6(v.outer_src).to_string();
}

TEST(Decoder, EthernetIpv4Tcp) {
  auto f = Frame().eth(0x0800).ipv4(6).tcp(1234, 80, 0x12).payload(10).done();
  PacketView v = run(f);
  ASSERT_EQ(v.skip, SkipReason::kNone);
  EXPECT_EQ(v.ip_version, 4);
  EXPECT_EQ(src_of(v), "10.0.0.1");
  EXPECT_EQ(dst_of(v), "10.0.0.2");
  EXPECT_EQ(v.protocol, 6);
  EXPECT_EQ(v.src_port, 1234);
  EXPECT_EQ(v.dst_port, 80);
  EXPECT_EQ(v.tcp_flags, 0x12);
  EXPECT_EQ(v.ip_bytes, 20u + 20 + 10);
  EXPECT_EQ(v.tos, 0x10);
  EXPECT_EQ(v.ttl, 64);
  EXPECT_TRUE(v.has_mac);
  EXPECT_EQ(v.src_mac[0], 0x02);
  EXPECT_EQ(v.src_mac[5], 0x01);
  EXPECT_EQ(v.payload_len, 10u);
  EXPECT_FALSE(v.is_fragment);
}

TEST(Decoder, EthernetPaddingIsNotCounted) {
  auto f = Frame().eth(0x0800).ipv4(17).udp(53, 53).done();
  f.insert(f.end(), 18, 0);  // minimum frame padding
  PacketView v = run(f);
  EXPECT_EQ(v.ip_bytes, 28u);
  EXPECT_EQ(v.payload_len, 0u);
}

TEST(Decoder, VlanQinQAndMpls) {
  auto f = Frame().eth(0x88a8).vlan(100, 0x8100).vlan(200, 0x0800).ipv4(17).udp(1, 2).done();
  PacketView v = run(f);
  ASSERT_EQ(v.skip, SkipReason::kNone);
  EXPECT_EQ(v.vlan_depth, 2);
  EXPECT_EQ(v.vlan_id, 100);
  EXPECT_EQ(v.vlan_id_inner, 200);

  auto m = Frame()
               .eth(0x8847)
               .be32(272u << 12 | 64)
               .be32(305u << 12 | 0x100 | 64)
               .ipv4(1)
               .bytes({8, 0, 0, 0})
               .done();
  v = run(m);
  ASSERT_EQ(v.skip, SkipReason::kNone);
  EXPECT_EQ(v.mpls_depth, 2);
  EXPECT_EQ(v.mpls_label[0], 272u << 4);
  EXPECT_EQ(v.mpls_label[1], 305u << 4 | 1);
  EXPECT_EQ(v.icmp_type, 8);
}

TEST(Decoder, PppoeSession) {
  auto f =
      Frame().eth(0x8864).bytes({0x11, 0}).be16(1).be16(0).be16(0x0021).ipv4(6).tcp(1, 2, 2).done();
  PacketView v = run(f);
  ASSERT_EQ(v.skip, SkipReason::kNone);
  EXPECT_EQ(v.src_port, 1);
}

TEST(Decoder, Ipv4Fragments) {
  auto first =
      Frame().eth(0x0800).ipv4(17, "1.1.1.1", "2.2.2.2", 0x2000, 99).udp(5, 6).payload(100).done();
  PacketView v = run(first);
  EXPECT_TRUE(v.is_fragment);
  EXPECT_TRUE(v.first_fragment);
  EXPECT_TRUE(v.has_ports);
  EXPECT_EQ(v.frag_id, 99u);
  auto later =
      Frame().eth(0x0800).ipv4(17, "1.1.1.1", "2.2.2.2", 0x0000 | 14, 99).payload(50).done();
  v = run(later);
  EXPECT_TRUE(v.is_fragment);
  EXPECT_FALSE(v.first_fragment);
  EXPECT_FALSE(v.has_ports);
  EXPECT_EQ(v.frag_offset, 14 * 8);
  EXPECT_EQ(v.frag_len, 50u);
  EXPECT_EQ(v.ip_bytes, 70u);
}

TEST(Decoder, Ipv6ExtensionHeaders) {
  // hop-by-hop -> routing -> destination options -> AH -> TCP
  auto f = Frame()
               .eth(0x86dd)
               .ipv6(0)
               .bytes({43, 0, 1, 4, 0, 0, 0, 0})
               .bytes({60, 0, 0, 0, 0, 0, 0, 0})
               .bytes({51, 0, 1, 4, 0, 0, 0, 0})
               .bytes({6, 1, 0, 0})
               .be32(1)
               .be32(2)  // AH: (1+2)*4 = 12 bytes
               .tcp(443, 5555, 0x18)
               .done();
  PacketView v = run(f);
  ASSERT_EQ(v.skip, SkipReason::kNone);
  EXPECT_EQ(v.ip_version, 6);
  EXPECT_EQ(v.protocol, 6);
  EXPECT_EQ(v.src_port, 443);
  EXPECT_EQ(v.flow_label, 0x12345u);
  EXPECT_EQ(v.ttl, 57);
  EXPECT_EQ(v.ip_bytes, f.size() - 14);

  auto esp = Frame().eth(0x86dd).ipv6(50).be32(0x1000).be32(1).payload(16).done();
  v = run(esp);
  EXPECT_EQ(v.protocol, 50);
  EXPECT_FALSE(v.has_ports);

  auto mob = Frame().eth(0x86dd).ipv6(135).bytes({59, 0, 0, 0, 0, 0, 0, 0}).done();
  v = run(mob);
  EXPECT_EQ(v.protocol, 59);
}

TEST(Decoder, Ipv6Fragments) {
  auto first = Frame()
                   .eth(0x86dd)
                   .ipv6(44)
                   .bytes({17, 0})
                   .be16(0x0001)
                   .be32(0xabcdef)
                   .udp(7, 8)
                   .payload(40)
                   .done();
  PacketView v = run(first);
  EXPECT_TRUE(v.is_fragment);
  EXPECT_TRUE(v.first_fragment);
  EXPECT_EQ(v.protocol, 17);
  EXPECT_EQ(v.src_port, 7);
  EXPECT_EQ(v.frag_id, 0xabcdefu);
  auto later =
      Frame().eth(0x86dd).ipv6(44).bytes({17, 0}).be16(48).be32(0xabcdef).payload(40).done();
  v = run(later);
  EXPECT_TRUE(v.is_fragment);
  EXPECT_FALSE(v.first_fragment);
  EXPECT_EQ(v.frag_offset, 48);
  EXPECT_EQ(v.protocol, 17);
  auto atomic = Frame().eth(0x86dd).ipv6(44).bytes({17, 0}).be16(0).be32(5).udp(7, 8).done();
  v = run(atomic);
  EXPECT_FALSE(v.is_fragment);
  EXPECT_EQ(v.src_port, 7);
}

TEST(Decoder, GreVariants) {
  struct Case {
    uint16_t flags;
    std::vector<int> extra;
    uint32_t key;
  };
  const Case cases[] = {
      {0x0000, {}, 0},
      {0x2000, {0, 0, 0, 42}, 42},                                      // key
      {0x1000, {0, 0, 0, 1}, 0},                                        // sequence
      {0x8000, {0, 0, 0, 0}, 0},                                        // checksum + offset
      {0xb000, {0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1}, 9},                // checksum, key, sequence
      {0x4000, {0, 0, 0, 0, 0x0800, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0}, 0},  // routing + SREs
  };
  for (const Case& c : cases) {
    Frame f;
    f.eth(0x0800).ipv4(47, "192.0.2.1", "192.0.2.2").be16(c.flags).be16(0x0800);
    for (int b : c.extra) {
      if (b > 0xff)
        f.be16(uint16_t(b));
      else
        f.bytes({b});
    }
    auto bytes = f.ipv4(1, "1.1.1.1", "2.2.2.2").bytes({8, 0, 0, 0}).done();
    PacketView v = run(bytes);
    ASSERT_EQ(v.skip, SkipReason::kNone) << c.flags;
    EXPECT_EQ(v.tunnel, TunnelType::kGre) << c.flags;
    EXPECT_EQ(v.tunnel_id, c.key) << c.flags;
    EXPECT_EQ(src_of(v), "1.1.1.1") << c.flags;
    EXPECT_EQ(v.protocol, 1) << c.flags;
    EXPECT_EQ(outer_src_of(v), "192.0.2.1");
    EXPECT_EQ(v.outer_ip_bytes, bytes.size() - 14);
    EXPECT_EQ(v.ip_bytes, 24u);
  }
}

TEST(Decoder, GreEthernetErspanAndPptp) {
  auto teb = Frame()
                 .eth(0x0800)
                 .ipv4(47)
                 .be16(0)
                 .be16(0x6558)
                 .eth(0x0800)
                 .ipv4(17, "3.3.3.3")
                 .udp(1, 2)
                 .done();
  PacketView v = run(teb);
  EXPECT_EQ(v.tunnel, TunnelType::kGre);
  EXPECT_EQ(src_of(v), "3.3.3.3");

  auto erspan = Frame()
                    .eth(0x0800)
                    .ipv4(47)
                    .be16(0x1000)
                    .be16(0x88be)
                    .be32(1)
                    .zeros(8)
                    .eth(0x0800)
                    .ipv4(6, "4.4.4.4")
                    .tcp(1, 2, 2)
                    .done();
  v = run(erspan);
  EXPECT_EQ(v.tunnel, TunnelType::kGre);
  EXPECT_EQ(src_of(v), "4.4.4.4");

  auto pptp = Frame()
                  .eth(0x0800)
                  .ipv4(47)
                  .be16(0x3001)
                  .be16(0x880b)
                  .be16(0)
                  .be16(77)
                  .be32(5)
                  .bytes({0xff, 0x03})
                  .be16(0x0021)
                  .ipv4(17, "5.5.5.5")
                  .udp(9, 9)
                  .done();
  v = run(pptp);
  EXPECT_EQ(v.tunnel, TunnelType::kGre);
  EXPECT_EQ(v.tunnel_id, 77u);
  EXPECT_EQ(src_of(v), "5.5.5.5");
}

TEST(Decoder, UdpTunnels) {
  auto vx = Frame()
                .eth(0x0800)
                .ipv4(17, "192.0.2.1")
                .udp(5000, 4789)
                .bytes({0x08, 0, 0, 0})
                .be32(123u << 8)
                .eth(0x0800)
                .ipv4(1, "10.0.0.1")
                .bytes({0, 0, 0, 0})
                .done();
  PacketView v = run(vx);
  EXPECT_EQ(v.tunnel, TunnelType::kVxlan);
  EXPECT_EQ(v.tunnel_id, 123u);
  EXPECT_EQ(src_of(v), "10.0.0.1");

  auto gen = Frame()
                 .eth(0x0800)
                 .ipv4(17)
                 .udp(5000, 6081)
                 .bytes({0x01, 0})
                 .be16(0x6558)
                 .be32(77u << 8)
                 .zeros(4)
                 .eth(0x86dd)
                 .ipv6(17, "2001:db8::9")
                 .udp(1, 2)
                 .done();
  v = run(gen);
  EXPECT_EQ(v.tunnel, TunnelType::kGeneve);
  EXPECT_EQ(v.tunnel_id, 77u);
  EXPECT_EQ(src_of(v), "2001:db8::9");

  auto gtp = Frame()
                 .eth(0x0800)
                 .ipv4(17)
                 .udp(2152, 2152)
                 .bytes({0x34, 0xff})
                 .be16(0)
                 .be32(0xdeadbeef)
                 .be16(0)
                 .bytes({0, 0x85})
                 .bytes({1, 0, 0, 0})
                 .ipv4(6, "7.7.7.7")
                 .tcp(1, 2, 2)
                 .done();
  v = run(gtp);
  EXPECT_EQ(v.tunnel, TunnelType::kGtpU);
  EXPECT_EQ(v.tunnel_id, 0xdeadbeefu);
  EXPECT_EQ(src_of(v), "7.7.7.7");

  auto teredo = Frame()
                    .eth(0x0800)
                    .ipv4(17)
                    .udp(3544, 40000)
                    .ipv6(58, "2001::1")
                    .bytes({128, 0, 0, 0})
                    .done();
  v = run(teredo);
  EXPECT_EQ(v.tunnel, TunnelType::kTeredo);
  EXPECT_EQ(v.protocol, 58);
  EXPECT_EQ(v.icmp_type, 128);
}

TEST(Decoder, IpInIp) {
  for (auto [outer, inner] : {std::pair{4, 4}, {4, 6}, {6, 4}, {6, 6}}) {
    Frame f;
    if (outer == 4)
      f.eth(0x0800).ipv4(inner == 4 ? 4 : 41);
    else
      f.eth(0x86dd).ipv6(inner == 4 ? 4 : 41);
    if (inner == 4)
      f.ipv4(17, "8.8.8.8");
    else
      f.ipv6(17, "2001:db8::8");
    PacketView v = run(f.udp(53, 53).done());
    EXPECT_EQ(v.tunnel, TunnelType::kIpInIp);
    EXPECT_EQ(v.ip_version, inner);
    EXPECT_EQ(v.src_port, 53);
  }
}

TEST(Decoder, DecapsulationOffKeepsOuter) {
  auto vx = Frame()
                .eth(0x0800)
                .ipv4(17, "192.0.2.1")
                .udp(5000, 4789)
                .bytes({0x08, 0, 0, 0})
                .be32(1u << 8)
                .eth(0x0800)
                .ipv4(1, "10.0.0.1")
                .bytes({0, 0, 0, 0})
                .done();
  PacketView v = run(vx, 1, false);
  EXPECT_EQ(v.tunnel, TunnelType::kNone);
  EXPECT_EQ(src_of(v), "192.0.2.1");
  EXPECT_EQ(v.dst_port, 4789);
}

TEST(Decoder, GarbageInsideTunnelKeepsOuter) {
  auto vx = Frame()
                .eth(0x0800)
                .ipv4(17, "192.0.2.1")
                .udp(5000, 4789)
                .bytes({0x08, 0, 0, 0})
                .be32(1u << 8)
                .eth(0x0806)
                .zeros(28)
                .done();
  PacketView v = run(vx);
  EXPECT_EQ(v.skip, SkipReason::kNone);
  EXPECT_EQ(v.tunnel, TunnelType::kNone);
  EXPECT_EQ(src_of(v), "192.0.2.1");
  EXPECT_EQ(v.protocol, 17);
}

TEST(Decoder, LinkTypes) {
  auto ip = Frame().ipv4(6, "9.9.9.9").tcp(1, 2, 2).done();
  std::vector<uint8_t> sll = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  sll.insert(sll.end(), ip.begin(), ip.end());
  EXPECT_EQ(src_of(run(sll, 113)), "9.9.9.9");
  std::vector<uint8_t> sll2 = {0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  sll2.insert(sll2.end(), ip.begin(), ip.end());
  EXPECT_EQ(src_of(run(sll2, 276)), "9.9.9.9");
  for (std::vector<uint8_t> null : {std::vector<uint8_t>{2, 0, 0, 0}, {0, 0, 0, 2}}) {
    null.insert(null.end(), ip.begin(), ip.end());
    EXPECT_EQ(src_of(run(null, 0)), "9.9.9.9");
  }
  EXPECT_EQ(src_of(run(ip, 101)), "9.9.9.9");
  EXPECT_EQ(src_of(run(ip, 228)), "9.9.9.9");
  EXPECT_EQ(run(ip, 229).skip, SkipReason::kBadIpHeader);
  EXPECT_EQ(run(ip, 147).skip, SkipReason::kUnsupportedLinkType);
  std::vector<uint8_t> ppp = {0xff, 0x03, 0x00, 0x21};
  ppp.insert(ppp.end(), ip.begin(), ip.end());
  EXPECT_EQ(src_of(run(ppp, 9)), "9.9.9.9");
}

TEST(Decoder, NotIp) {
  auto arp = Frame().eth(0x0806).zeros(28).done();
  EXPECT_EQ(run(arp).skip, SkipReason::kNotIp);
  auto stp = Frame().eth(0x0026).bytes({0x42, 0x42, 0x03}).zeros(35).done();
  EXPECT_EQ(run(stp).skip, SkipReason::kNotIp);
}

TEST(Decoder, BadHeaders) {
  auto f = Frame().eth(0x0800).ipv4(6).tcp(1, 2, 2).done();
  f[14] = 0x43;  // IHL 3
  EXPECT_EQ(run(f).skip, SkipReason::kBadIpHeader);
  f[14] = 0x55;  // version 5
  EXPECT_EQ(run(f).skip, SkipReason::kBadIpHeader);
}

// Every prefix of every frame above decodes without reading past the end (ASan checks the
// reads; here we check the verdicts are sane).
TEST(Decoder, EveryTruncationIsSafe) {
  std::vector<std::vector<uint8_t>> frames = {
      Frame()
          .eth(0x88a8)
          .vlan(1, 0x8100)
          .vlan(2, 0x8847)
          .be32(5u << 12 | 0x100)
          .ipv4(6)
          .tcp(1, 2, 2)
          .payload(4)
          .done(),
      Frame()
          .eth(0x86dd)
          .ipv6(0)
          .bytes({44, 0, 1, 4, 0, 0, 0, 0})
          .bytes({17, 0})
          .be16(1)
          .be32(1)
          .udp(1, 2)
          .done(),
      Frame()
          .eth(0x0800)
          .ipv4(47)
          .be16(0xb000)
          .be16(0x0800)
          .be32(0)
          .be32(1)
          .be32(2)
          .ipv4(17)
          .udp(1, 4789)
          .bytes({8, 0, 0, 0})
          .be32(1)
          .eth(0x0800)
          .ipv4(6)
          .tcp(1, 2, 3)
          .done(),
      Frame()
          .eth(0x0800)
          .ipv4(17)
          .udp(2152, 2152)
          .bytes({0x34, 0xff})
          .be16(0)
          .be32(1)
          .be16(0)
          .bytes({0, 0x85})
          .bytes({1, 0, 0, 0})
          .ipv6(6)
          .tcp(1, 2, 2)
          .done(),
  };
  for (const auto& full : frames) {
    for (size_t n = 0; n <= full.size(); ++n) {
      std::vector<uint8_t> cut(full.begin(), full.begin() + long(n));
      PacketView v;
      decode(cut.data(), uint32_t(cut.size()), uint32_t(full.size()), 1, DecodeOptions{}, v);
      if (v.skip == SkipReason::kNone) {
        EXPECT_NE(v.ip_version, 0);
      }
    }
  }
}

// decode() takes a shortcut for plain Ethernet/IPv4-IPv6/TCP-UDP frames. On frames at and just
// past the edges of what it takes, it must agree byte for byte with the general decoder.
TEST(Decoder, ShortcutAgreesWithGeneralDecoderAtItsEdges) {
  auto with = [](std::vector<uint8_t> f, size_t off, std::initializer_list<uint8_t> b) {
    for (uint8_t x : b) f.at(off++) = x;
    return f;
  };
  auto tcp = Frame().eth(0x0800).ipv4(6).tcp(1234, 80, 0x18).payload(30).done();
  auto udp = Frame().eth(0x0800).ipv4(17).udp(5353, 53).payload(12).done();
  auto tcp6 = Frame().eth(0x86dd).ipv6(6).tcp(1234, 443, 0x12).payload(30).done();
  auto udp6 = Frame().eth(0x86dd).ipv6(17).udp(5353, 53).payload(12).done();
  std::vector<std::vector<uint8_t>> frames = {
      tcp6,
      udp6,
      Frame().eth(0x86dd).ipv6(58).bytes({128, 0, 0, 0, 0, 1, 0, 1}).done(),  // ICMPv6: general
      Frame().eth(0x86dd).ipv6(17).udp(3544, 40000).payload(48).done(),       // Teredo port
      Frame()
          .eth(0x86dd)
          .ipv6(0)
          .bytes({6, 0, 1, 4, 0, 0, 0, 0})
          .tcp(1, 2, 2)
          .done(),  // hop-by-hop
      Frame().eth(0x86dd).ipv6(44).bytes({6, 0, 0, 1, 0, 0, 0, 9}).tcp(1, 2, 2).done(),  // fragment
      Frame().eth(0x86dd).ipv4(6).tcp(1, 2, 2).payload(20).done(),  // IPv4 header, IPv6 type
      Frame().eth(0x0800).ipv6(6).tcp(1, 2, 2).done(),              // IPv6 header, IPv4 type
      with(tcp6, 14 + 4, {0, 0}),     // payload length 0 (jumbogram, segmentation offload)
      with(tcp6, 14 + 4, {0, 10}),    // payload length below the TCP header
      with(tcp6, 14 + 4, {0, 60}),    // Ethernet padding after the datagram
      with(tcp6, 14 + 4, {0xff, 0}),  // longer than captured
      with(tcp6, 54 + 12, {0x40}),    // TCP data offset 16
      with(udp6, 14 + 4, {0, 7}),     // UDP header cut by the payload length
      tcp,
      udp,
      Frame().eth(0x0800).ipv4(1).bytes({8, 0, 0, 0, 0, 1, 0, 1}).done(),  // ICMP: general
      Frame().eth(0x0800).ipv4(17).udp(40000, 4789).payload(16).done(),    // VXLAN port
      Frame().eth(0x0800).ipv4(17).udp(3544, 40000).payload(48).done(),    // Teredo port
      Frame()  // VXLAN with a whole inner frame: opened by the general decoder
          .eth(0x0800)
          .ipv4(17)
          .udp(5000, 4789)
          .bytes({8, 0, 0, 0})
          .be32(42u << 8)
          .eth(0x0800)
          .ipv4(6, "10.1.0.1", "10.1.0.2")
          .tcp(1, 2, 2)
          .done(),
      Frame().eth(0x0800).ipv4(6, "10.0.0.1", "10.0.0.2", 0x2000).tcp(1, 2, 2).done(),  // MF
      Frame().eth(0x0800).ipv4(6, "10.0.0.1", "10.0.0.2", 0x4000).tcp(1, 2, 2).done(),  // DF
      Frame().eth(0x0800).ipv4(6, "10.0.0.1", "10.0.0.2", 3, 9).payload(20).done(),  // last frag.
      Frame().eth(0x8100).vlan(7, 0x0800).ipv4(6).tcp(1, 2, 2).done(),
      with(tcp, 14, {0x46}),         // options
      with(tcp, 14 + 2, {0, 19}),    // total length below the header
      with(tcp, 14 + 2, {0, 0}),     // total length 0 (segmentation offload)
      with(tcp, 14 + 2, {0, 40}),    // Ethernet padding after the datagram
      with(tcp, 14 + 2, {0xff, 0}),  // longer than captured
      with(tcp, 34 + 12, {0x40}),    // TCP data offset 16
      with(tcp, 34 + 12, {0xf0}),    // TCP data offset past the segment
      with(udp, 14 + 2, {0, 27}),    // UDP header cut by the total length
  };
  for (size_t cut : {13, 14, 33, 34, 37, 41, 47, 53, 54, 57, 61, 67, 73}) {
    for (const auto* f : {&tcp, &udp, &tcp6, &udp6})
      frames.push_back(std::vector<uint8_t>(f->begin(), f->begin() + std::min(cut, f->size())));
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    for (bool decap : {true, false}) {
      DecodeOptions o;
      o.decapsulate = decap;
      const std::vector<uint8_t>& f = frames[i];
      EXPECT_TRUE(testing::shortcut_agrees(f.data(), uint32_t(f.size()), uint32_t(f.size()), 1, o))
          << "frame " << i << " decap " << decap;
    }
  }
  PacketView v = run(tcp);
  EXPECT_EQ(v.payload_len, 30u);
  EXPECT_EQ(v.tcp_flags, 0x18);
  v = run(tcp6);
  EXPECT_EQ(v.ip_version, 6);
  EXPECT_EQ(v.protocol, 6);
  EXPECT_EQ(v.ip_bytes, 40u + 20 + 30);
  EXPECT_EQ(v.flow_label, 0x12345u);
  EXPECT_EQ(v.dst_port, 443);
  EXPECT_EQ(v.payload_len, 30u);
}

}  // namespace
}  // namespace flowkit::packet
