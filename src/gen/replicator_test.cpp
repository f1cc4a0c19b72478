#include "gen/replicator.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "gen/checksum.h"
#include "gen/test_util.h"

namespace flowkit::gen {
namespace {

using testing::Decoded;
using testing::temp_path;

std::string shared(const std::string& rel) {
  std::string p = std::string(FLOWKIT_SHARED_DIR) + "/pcaps/" + rel;
  struct stat st;
  return stat(p.c_str(), &st) == 0 ? p : "";
}

std::string v4(const char* text, const AddressMap& m) {
  uint8_t a[4];
  inet_pton(AF_INET, text, a);
  m.map_v4(a);
  char out[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, a, out, sizeof out);
}

std::string v6(const char* text, const AddressMap& m) {
  uint8_t a[16];
  inet_pton(AF_INET6, text, a);
  m.map_v6(a);
  char out[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, a, out, sizeof out);
}

bool in_prefix(const std::string& addr, const char* net, int bits) {
  uint8_t a[4], n[4];
  inet_pton(AF_INET, addr.c_str(), a);
  inet_pton(AF_INET, net, n);
  uint32_t x = testing::be32(a), y = testing::be32(n);
  uint32_t mask = bits ? ~0u << (32 - bits) : 0;
  return (x & mask) == (y & mask);
}

TEST(AddressMap, CopyZeroIsTheIdentity) {
  AddressMap m(1, 0);
  EXPECT_EQ(v4("10.1.2.3", m), "10.1.2.3");
  EXPECT_EQ(v6("2001:db8::1", m), "2001:db8::1");
  uint8_t mac[6] = {0x3c, 0x22, 0xfb, 1, 2, 3};
  m.map_mac(mac);
  EXPECT_EQ(mac[5], 3);
}

TEST(AddressMap, KeepsAddressClasses) {
  struct Case {
    const char* addr;
    const char* net;
    int bits;
  } cases[] = {
      {"10.20.30.40", "10.0.0.0", 8},
      {"172.20.1.9", "172.16.0.0", 12},
      {"192.168.1.20", "192.168.0.0", 16},
      {"100.70.1.2", "100.64.0.0", 10},
      {"169.254.10.20", "169.254.0.0", 16},
      {"198.18.5.5", "198.18.0.0", 15},
      {"192.0.2.77", "192.0.2.0", 24},
      {"203.0.113.9", "203.0.113.0", 24},
      {"8.8.4.4", "8.0.0.0", 8},
      {"172.15.1.1", "172.15.0.0", 16},
      {"192.169.1.1", "192.169.0.0", 16},
  };
  for (uint32_t copy = 1; copy < 30; ++copy) {
    AddressMap m(42, copy);
    for (const Case& c : cases) {
      std::string out = v4(c.addr, m);
      EXPECT_NE(out, c.addr) << c.addr << " copy " << copy;
      EXPECT_TRUE(in_prefix(out, c.net, c.bits)) << c.addr << " -> " << out;
    }
    EXPECT_TRUE(in_prefix(v4("127.0.0.1", m), "127.0.0.0", 8));
    EXPECT_NE(v4("127.0.0.1", m), "127.0.0.1");
    for (const char* fixed :
         {"0.0.0.0", "224.0.0.251", "239.255.255.250", "255.255.255.255", "240.0.0.1"}) {
      EXPECT_EQ(v4(fixed, m), fixed);
    }
    EXPECT_TRUE(v4("10.1.2.0", m).ends_with(".0"));
    EXPECT_TRUE(v4("10.1.2.255", m).ends_with(".255"));
    for (const char* fixed : {"ff02::1", "::1", "::", "::ffff:10.1.2.3"}) {
      EXPECT_EQ(v6(fixed, m), fixed);
    }
    EXPECT_TRUE(v6("fe80::1234:5678", m).starts_with("fe80::"));
    EXPECT_NE(v6("fe80::1234:5678", m), "fe80::1234:5678");
    EXPECT_TRUE(v6("2001:db8:1::1", m).starts_with("2001:db8:"));
    EXPECT_TRUE(v6("2a00:1450:4001:80b::200e", m).starts_with("2a00:"));
    EXPECT_TRUE(v6("2a00:1450:4001:80b::200e", m).ends_with(":200e"));
  }
}

TEST(AddressMap, IsABijectionAndCopiesDiffer) {
  AddressMap m(7, 3);
  std::set<uint32_t> seen;
  for (uint32_t i = 0; i < 65536; ++i) {
    uint8_t a[4] = {192, 168, uint8_t(i >> 8), uint8_t(i)};
    m.map_v4(a);
    seen.insert(testing::be32(a));
  }
  EXPECT_EQ(seen.size(), 65536u);
  std::set<std::string> copies4, copies6;
  for (uint32_t k = 0; k < 300; ++k) {
    AddressMap c(7, k);
    copies4.insert(v4("10.1.2.3", c));
    copies6.insert(v6("2001:db8:5::7", c));
  }
  EXPECT_EQ(copies4.size(), 300u);
  EXPECT_EQ(copies6.size(), 300u);
  // Two hosts of one /64 stay in one /64.
  AddressMap c(7, 5);
  EXPECT_EQ(v6("2a02:26f0:1:2::1", c).substr(0, 15), v6("2a02:26f0:1:2::99", c).substr(0, 15));
}

TEST(AddressMap, MacsKeepOuiAndGroupBit) {
  AddressMap m(1, 4);
  uint8_t mac[6] = {0x3c, 0x22, 0xfb, 1, 2, 3};
  m.map_mac(mac);
  EXPECT_EQ(mac[0], 0x3c);
  EXPECT_EQ(mac[2], 0xfb);
  EXPECT_FALSE(mac[3] == 1 && mac[4] == 2 && mac[5] == 3);
  uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  m.map_mac(bcast);
  EXPECT_EQ(bcast[5], 0xff);
  uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 0xfb};
  m.map_mac(mcast);
  EXPECT_EQ(mcast[5], 0xfb);
}

// An Ethernet frame with one VLAN tag and valid checksums.
std::vector<uint8_t> make_frame(int version, uint8_t proto, uint16_t frag = 0) {
  std::vector<uint8_t> f = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x81, 0x00, 0x00, 0x64};
  size_t l4_len = proto == 6 ? 20 + 30 : 8 + 30;
  if (version == 4) {
    f.insert(f.end(), {0x08,
                       0x00,
                       0x45,
                       0,
                       0,
                       0,
                       0x12,
                       0x34,
                       uint8_t(frag >> 8),
                       uint8_t(frag),
                       64,
                       proto,
                       0,
                       0,
                       10,
                       1,
                       2,
                       3,
                       93,
                       184,
                       216,
                       34});
    f[18 + 2] = uint8_t((20 + l4_len) >> 8);
    f[18 + 3] = uint8_t(20 + l4_len);
  } else {
    f.insert(f.end(),
             {0x86, 0xdd, 0x60, 0, 0, 0, uint8_t(l4_len >> 8), uint8_t(l4_len), proto, 64});
    const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t dst[16] = {0x2a, 0x00, 0x14, 0x50, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x0e};
    f.insert(f.end(), src, src + 16);
    f.insert(f.end(), dst, dst + 16);
  }
  size_t l4 = f.size();
  f.resize(l4 + l4_len, 0x61);
  uint8_t* t = &f[l4];
  t[0] = 0xc3;
  t[1] = 0x50;
  t[2] = 0x01;
  t[3] = 0xbb;
  if (proto == 6) {
    t[12] = 0x50;
    t[13] = 0x18;
    t[16] = t[17] = 0;
  } else {
    t[4] = uint8_t(l4_len >> 8);
    t[5] = uint8_t(l4_len);
    t[6] = t[7] = 0;
    if (proto == 58) t[0] = 128, t[1] = 0, t[2] = t[3] = 0;
  }
  Decoded d;
  EXPECT_TRUE(testing::decode(f.data(), f.size(), &d));
  if (version == 4) {
    uint16_t c = ones_finish(ones_sum(d.ip, 20));
    f[18 + 10] = uint8_t(c >> 8);
    f[18 + 11] = uint8_t(c);
  }
  uint32_t pseudo = testing::naive_pseudo(version, d.src, d.dst, proto, uint32_t(l4_len));
  uint16_t c = uint16_t(~testing::naive_fold(testing::naive_sum(t, l4_len, pseudo)));
  size_t at = proto == 6 ? 16 : proto == 17 ? 6 : 2;
  t[at] = uint8_t(c >> 8);
  t[at + 1] = uint8_t(c);
  return f;
}

bool l4_ok(const std::vector<uint8_t>& f) {
  Decoded d;
  if (!testing::decode(f.data(), f.size(), &d)) return false;
  uint32_t pseudo = testing::naive_pseudo(d.version, d.src, d.dst, d.proto, uint32_t(d.l4_len));
  return testing::sums_to_ones(d.l4, d.l4_len, pseudo);
}

TEST(RewriteFrame, RewritesAddressesAndKeepsChecksumsRight) {
  AddressMap m(9, 2);
  for (auto [version, proto] : {std::pair{4, 6}, {4, 17}, {6, 6}, {6, 17}, {6, 58}}) {
    auto f = make_frame(version, uint8_t(proto));
    ASSERT_TRUE(l4_ok(f));
    auto before = f;
    ASSERT_TRUE(rewrite_frame(f.data(), f.size(), m));
    Decoded a, b;
    testing::decode(before.data(), before.size(), &a);
    testing::decode(f.data(), f.size(), &b);
    EXPECT_NE(0, std::memcmp(a.src, b.src, 16));
    EXPECT_NE(0, std::memcmp(a.dst, b.dst, 16));
    EXPECT_NE(0, std::memcmp(before.data() + 6, f.data() + 6, 6));  // source MAC
    if (version == 4) {
      EXPECT_TRUE(testing::sums_to_ones(b.ip, 20));
    }
    EXPECT_TRUE(l4_ok(f)) << "IPv" << version << " protocol " << proto;
  }
}

TEST(RewriteFrame, LeavesLaterFragmentsAndZeroUdpChecksumsAlone) {
  AddressMap m(9, 2);
  auto frag = make_frame(4, 17, 0x00b9);  // offset 185 * 8: no UDP header here
  auto before = frag;
  ASSERT_TRUE(rewrite_frame(frag.data(), frag.size(), m));
  EXPECT_TRUE(std::equal(frag.begin() + 38, frag.end(), before.begin() + 38));
  Decoded d;
  testing::decode(frag.data(), frag.size(), &d);
  EXPECT_TRUE(testing::sums_to_ones(d.ip, 20));

  auto udp = make_frame(4, 17);
  udp[38 + 6] = udp[38 + 7] = 0;
  ASSERT_TRUE(rewrite_frame(udp.data(), udp.size(), m));
  EXPECT_EQ(udp[38 + 6] | udp[38 + 7], 0);

  std::vector<uint8_t> arp(42, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_FALSE(rewrite_frame(arp.data(), arp.size(), m));
}

// Wraps frame's IP packet (after its Ethernet header and tag) in an outer IPv4 header and, for
// GRE, a GRE header with a checksum; for VXLAN, in UDP 4789 with a checksum around the frame.
std::vector<uint8_t> tunnel(const std::vector<uint8_t>& frame, const std::string& kind) {
  std::vector<uint8_t> inner;
  std::vector<uint8_t> encap;
  uint8_t proto;
  if (kind == "ipip") {
    inner.assign(frame.begin() + 18, frame.end());
    proto = 4;
  } else if (kind == "gre") {
    inner.assign(frame.begin() + 18, frame.end());
    encap = {0x80, 0, 0x08, 0x00, 0, 0, 0, 0};  // checksum present
    proto = 47;
  } else {  // vxlan: Ethernet inside
    inner = frame;
    encap = {0x12, 0x34, 0x12, 0xb5, 0, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 0x2a, 0};
    proto = 17;
  }
  std::vector<uint8_t> l4 = encap;
  l4.insert(l4.end(), inner.begin(), inner.end());
  const uint8_t src[4] = {198, 51, 100, 1}, dst[4] = {198, 51, 100, 2};
  if (kind == "gre") {
    uint16_t c = uint16_t(~testing::naive_fold(testing::naive_sum(l4.data(), l4.size())));
    l4[4] = uint8_t(c >> 8);
    l4[5] = uint8_t(c);
  } else if (kind == "vxlan") {
    l4[4] = uint8_t(l4.size() >> 8);
    l4[5] = uint8_t(l4.size());
    uint32_t ps = testing::naive_pseudo(4, src, dst, 17, uint32_t(l4.size()));
    uint16_t c = uint16_t(~testing::naive_fold(testing::naive_sum(l4.data(), l4.size(), ps)));
    l4[6] = uint8_t(c >> 8);
    l4[7] = uint8_t(c);
  }
  std::vector<uint8_t> f = {2, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 4, 0x08, 0x00};
  size_t total = 20 + l4.size();
  std::vector<uint8_t> ip = {0x45,
                             0,
                             uint8_t(total >> 8),
                             uint8_t(total),
                             0,
                             7,
                             0,
                             0,
                             64,
                             proto,
                             0,
                             0,
                             src[0],
                             src[1],
                             src[2],
                             src[3],
                             dst[0],
                             dst[1],
                             dst[2],
                             dst[3]};
  uint16_t c = ones_finish(ones_sum(ip.data(), 20));
  ip[10] = uint8_t(c >> 8);
  ip[11] = uint8_t(c);
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

TEST(RewriteFrame, FollowsTunnelsAndKeepsTheirChecksumsRight) {
  AddressMap m(9, 2);
  for (std::string kind : {"ipip", "gre", "vxlan"}) {
    for (int version : {4, 6}) {
      auto inner = make_frame(version, 6);
      auto f = tunnel(inner, kind);
      auto before = f;
      ASSERT_TRUE(rewrite_frame(f.data(), f.size(), m));
      size_t at = 14 + 20 + (kind == "gre" ? 8 : kind == "vxlan" ? 16 : 0);
      // The inner packet, given an Ethernet header so the test decoder can read it.
      std::vector<uint8_t> got(14, 0), old(14, 0);
      got[12] = old[12] = version == 4 ? 0x08 : 0x86;
      got[13] = old[13] = version == 4 ? 0x00 : 0xdd;
      size_t skip = kind == "vxlan" ? 18 : 0;  // the inner Ethernet header and tag
      got.insert(got.end(), f.begin() + at + skip, f.end());
      old.insert(old.end(), before.begin() + at + skip, before.end());
      Decoded a, b;
      ASSERT_TRUE(testing::decode(old.data(), old.size(), &a));
      ASSERT_TRUE(testing::decode(got.data(), got.size(), &b));
      EXPECT_NE(0, std::memcmp(a.src, b.src, 16)) << kind << " v" << version;
      if (version == 4) {
        EXPECT_TRUE(testing::sums_to_ones(b.ip, 20)) << kind;
      }
      EXPECT_TRUE(l4_ok(got)) << kind << " v" << version;
      Decoded outer;
      ASSERT_TRUE(testing::decode(f.data(), f.size(), &outer));
      EXPECT_TRUE(testing::sums_to_ones(outer.ip, 20)) << kind;
      if (kind == "gre") {
        EXPECT_TRUE(testing::sums_to_ones(outer.l4, outer.l4_len)) << kind;
      }
      if (kind == "vxlan") {
        uint32_t ps = testing::naive_pseudo(4, outer.src, outer.dst, 17, uint32_t(outer.l4_len));
        EXPECT_TRUE(testing::sums_to_ones(outer.l4, outer.l4_len, ps)) << "outer UDP";
      }
    }
  }
}

// Writes packets with the given timestamps (seconds) as an Ethernet capture.
std::string write_input(const std::string& name, const std::vector<double>& times) {
  std::string path = temp_path(name);
  auto w = PcapWriter::open(path);
  EXPECT_TRUE(w.ok());
  auto f = make_frame(4, 17);
  for (double t : times) (*w)->write(Timestamp{int64_t(t * 1e9)}, f);
  EXPECT_TRUE((*w)->finish().ok());
  return path;
}

std::vector<testing::CapturedPacket> replicate(const ReplicateOptions& o, ReplicateStats* stats) {
  std::string out = temp_path("out.pcap");
  auto r = write_replicated_pcap(o, out);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (r.ok() && stats) *stats = *r;
  std::string err;
  int linktype = 0;
  auto got = testing::read_pcap(out, &err, &linktype);
  EXPECT_EQ(err, "");
  EXPECT_EQ(linktype, 1);
  std::remove(out.c_str());
  return got;
}

TEST(Replicator, RebasesShrinksGapsAndNeverGoesBackInTime) {
  std::string in = write_input("times.pcap", {100, 101, 5101, 5100.5, 5102});
  ReplicateOptions o;
  o.inputs = {in};
  o.copies = 1;
  o.spread_seconds = 0;
  o.max_gap_seconds = 600;
  o.start = Timestamp::from_seconds(1'000'000);
  auto got = replicate(o, nullptr);
  ASSERT_EQ(got.size(), 5u);
  const int64_t s = 1'000'000'000'000'000;
  EXPECT_EQ(got[0].ts_ns, s);
  EXPECT_EQ(got[1].ts_ns, s + 1'000'000'000);
  EXPECT_EQ(got[2].ts_ns, s + 601'000'000'000);  // 5000 s gap shrunk to 600
  EXPECT_EQ(got[3].ts_ns, s + 601'000'000'000);  // earlier than its predecessor: clamped
  EXPECT_EQ(got[4].ts_ns, s + 602'000'000'000);
  std::remove(in.c_str());
}

TEST(Replicator, CopiesInterleaveInTimeOrder) {
  std::vector<double> times;
  for (int i = 0; i < 200; ++i) times.push_back(i * 0.01);
  std::string in = write_input("steady.pcap", times);
  ReplicateOptions o;
  o.inputs = {in, in};
  o.copies = 5;
  o.spread_seconds = 0.5;
  ReplicateStats st;
  auto got = replicate(o, &st);
  ASSERT_EQ(got.size(), 2000u);
  EXPECT_EQ(st.packets, 2000u);
  EXPECT_EQ(st.input_packets, 400u);
  for (size_t i = 1; i < got.size(); ++i) ASSERT_LE(got[i - 1].ts_ns, got[i].ts_ns);
  EXPECT_GE(got.front().ts_ns, kDefaultStart.ns);
  EXPECT_LT(got.front().ts_ns, kDefaultStart.ns + 500'000'000);
  // Copies are interleaved, not concatenated: the first 100 output packets mix sources.
  std::set<std::string> sources;
  for (size_t i = 0; i < 100; ++i) {
    Decoded d;
    testing::decode(got[i].data.data(), got[i].data.size(), &d);
    sources.insert(std::string(reinterpret_cast<const char*>(d.src), 4));
  }
  EXPECT_GE(sources.size(), 5u);
  std::remove(in.c_str());
}

TEST(Replicator, ThreeCopiesOfARealCaptureHaveDistinctHosts) {
  std::string in = shared("ndpi-4.2/dns_fragmented.pcap");
  if (in.empty()) GTEST_SKIP() << "shared captures not found under " << FLOWKIT_SHARED_DIR;
  std::string err;
  auto original = testing::read_pcap(in, &err);
  ASSERT_EQ(original.size(), 66u);

  ReplicateOptions o;
  o.inputs = {in};
  o.copies = 3;
  o.seed = 17;
  ReplicateStats st;
  auto got = replicate(o, &st);
  ASSERT_EQ(got.size(), 3 * original.size());
  EXPECT_EQ(st.not_rewritten, 0u);
  for (size_t i = 1; i < got.size(); ++i) ASSERT_LE(got[i - 1].ts_ns, got[i].ts_ns);

  // The expected address set of each copy, from the input through that copy's map.
  auto addresses = [](const std::vector<testing::CapturedPacket>& pk) {
    std::set<std::string> s;
    for (const auto& c : pk) {
      Decoded d;
      if (!testing::decode(c.data.data(), c.data.size(), &d)) continue;
      size_t n = d.version == 4 ? 4 : 16;
      s.insert(std::string(reinterpret_cast<const char*>(d.src), n));
      s.insert(std::string(reinterpret_cast<const char*>(d.dst), n));
    }
    return s;
  };
  std::set<std::string> in_addrs = addresses(original);
  std::vector<std::set<std::string>> per_copy(3);
  for (uint32_t k = 0; k < 3; ++k) {
    AddressMap m(17, k);
    for (std::string a : in_addrs) {
      auto* b = reinterpret_cast<uint8_t*>(a.data());
      a.size() == 4 ? m.map_v4(b) : m.map_v6(b);
      per_copy[k].insert(a);
    }
  }
  EXPECT_EQ(per_copy[0], in_addrs);
  for (int i = 0; i < 3; ++i) {
    for (int j = i + 1; j < 3; ++j) {
      for (const std::string& a : per_copy[i]) {
        EXPECT_FALSE(per_copy[j].count(a)) << "copies " << i << " and " << j << " share a host";
      }
    }
  }
  std::set<std::string> expected;
  for (auto& s : per_copy) expected.insert(s.begin(), s.end());
  EXPECT_EQ(addresses(got), expected);

  // Checksums that were right stay right.
  auto count_ok = [](const std::vector<testing::CapturedPacket>& pk, int* ip_ok) {
    int l4 = 0;
    *ip_ok = 0;
    for (const auto& c : pk) {
      Decoded d;
      if (!testing::decode(c.data.data(), c.data.size(), &d)) continue;
      if (d.version == 4) *ip_ok += testing::sums_to_ones(d.ip, d.ip_header_len);
      if (d.fragment || (d.proto != 6 && d.proto != 17)) continue;
      uint32_t ps = testing::naive_pseudo(d.version, d.src, d.dst, d.proto, uint32_t(d.l4_len));
      l4 += testing::sums_to_ones(d.l4, d.l4_len, ps);
    }
    return l4;
  };
  int ip_in, ip_out;
  int l4_in = count_ok(original, &ip_in), l4_out = count_ok(got, &ip_out);
  EXPECT_GT(ip_in, 0);
  EXPECT_GT(l4_in, 0);
  EXPECT_EQ(ip_out, 3 * ip_in);
  EXPECT_EQ(l4_out, 3 * l4_in);
}

TEST(Replicator, ReframesRawLoopbackAndCookedCapturesAsEthernet) {
  struct Case {
    const char* file;
    int header;  // bytes of the input's link header
  } cases[] = {
      {"ndpi-4.2/ocs.pcap", 0}, {"ndpi-4.2/selfsigned.pcap", 4}, {"ndpi-4.2/quickplay.pcap", 16}};
  for (const Case& c : cases) {
    std::string in = shared(c.file);
    if (in.empty()) GTEST_SKIP() << "shared captures not found under " << FLOWKIT_SHARED_DIR;
    std::string err;
    auto original = testing::read_pcap(in, &err);
    ReplicateOptions o;
    o.inputs = {in};
    o.copies = 2;
    ReplicateStats st;
    auto got = replicate(o, &st);
    ASSERT_EQ(got.size(), 2 * original.size()) << c.file;
    size_t ip = 0;
    for (const auto& p : got) {
      Decoded d;
      ip += testing::decode(p.data.data(), p.data.size(), &d);
      EXPECT_GE(p.wirelen, p.data.size());
    }
    EXPECT_GT(ip, got.size() * 9 / 10) << c.file;
    EXPECT_EQ(got[0].data.size(), original[0].data.size() - c.header + 14) << c.file;
    EXPECT_EQ(got[0].wirelen, original[0].wirelen - c.header + 14) << c.file;
  }
}

TEST(Replicator, SkipsUnsupportedLinkTypesWithANote) {
  std::string chdlc = shared("ndpi-4.2/BGP_redist.pcap");
  if (chdlc.empty()) GTEST_SKIP() << "shared captures not found under " << FLOWKIT_SHARED_DIR;
  std::string good = write_input("good.pcap", {1, 2, 3});
  ReplicateOptions o;
  o.inputs = {chdlc, good};
  o.copies = 2;
  ReplicateStats st;
  auto got = replicate(o, &st);
  EXPECT_EQ(got.size(), 6u);
  ASSERT_EQ(st.notes.size(), 1u);
  EXPECT_NE(st.notes[0].find("C_HDLC"), std::string::npos) << st.notes[0];
  EXPECT_EQ(st.inputs_used, 1u);

  o.inputs = {chdlc};
  auto only = Replicator::open(o);
  ASSERT_FALSE(only.ok());
  EXPECT_NE(only.status().message().find("no usable packets"), std::string::npos);
  std::remove(good.c_str());
}

TEST(Replicator, ErrorsAreValues) {
  ReplicateOptions o;
  EXPECT_FALSE(Replicator::open(o).ok());
  o.inputs = {"/nonexistent/x.pcap"};
  auto r = Replicator::open(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot read /nonexistent/x.pcap"), std::string::npos);
  std::string good = write_input("good2.pcap", {1});
  o.inputs = {good};
  o.copies = 0;
  EXPECT_FALSE(Replicator::open(o).ok());
  std::remove(good.c_str());
}

}  // namespace
}  // namespace flowkit::gen
