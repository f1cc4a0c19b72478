#include "capture/filtered_source.h"

#include <pcap/pcap.h>

#include <filesystem>

#include "capture/capture_test_util.h"
#include "capture/merged_source.h"

namespace flowkit::capture {
namespace {

using test::contains;
using test::read_all;
using test::TempDir;

// A 28-byte IPv4 packet (no link header) of protocol `proto` from 10.0.0.`host`.
std::vector<uint8_t> ipv4(uint8_t proto, uint8_t host) {
  std::vector<uint8_t> p = {0x45, 0,    0,  28, 0, 0, 0,    0,    64, proto, 0, 0, 10, 0,
                            0,    host, 10, 0,  0, 1, 0x30, 0x39, 0,  53,    0, 8, 0,  0};
  return p;
}

std::vector<uint8_t> ethernet(const std::vector<uint8_t>& ip) {
  std::vector<uint8_t> p = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
  p.insert(p.end(), ip.begin(), ip.end());
  return p;
}

Result<std::unique_ptr<FilteredSource>> open_filtered(const std::string& path,
                                                      const std::string& filter) {
  auto files = open_capture_files({path});
  if (!files) return files.status();
  return FilteredSource::open(std::move(*files), filter);
}

TEST(FilteredSource, CheckFilterNeedsNoDevice) {
  EXPECT_TRUE(check_filter("udp port 53 or (tcp and not port 22)").ok());
  EXPECT_TRUE(check_filter("ip6", kLinkRaw).ok());
  const Status bad = check_filter("udp port ((");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.message(), "invalid capture filter")) << bad.message();
  EXPECT_TRUE(contains(bad.message(), "syntax error")) << bad.message();
  EXPECT_FALSE(check_filter("ether host 1:2:3:4:5:6", kLinkRaw).ok());
}

TEST(FilteredSource, KeepsWhatMatchesAndCountsTheRest) {
  TempDir dir;
  test::PcapWriter w(false, false, kLinkRaw);
  for (int i = 0; i < 300; ++i)  // batches the filter empties entirely, then one it does not
    w.packet(int64_t(i) * 1000, ipv4(i < 290 ? 6 : 17, uint8_t(i)));
  test::write_file(dir.file("raw.pcap"), w.bytes());
  // The packets from 10.0.0.7 (the 8th and the 264th) are TCP: nothing passes.
  auto src = open_filtered(dir.file("raw.pcap"), "udp and src host 10.0.0.7");
  ASSERT_TRUE(src.ok()) << src.status().message();
  test::ReadAll none = read_all(**src, 16);
  EXPECT_TRUE(none.packets.empty());
  EXPECT_EQ(none.stats.filtered, 300u);
  EXPECT_EQ(none.stats.packets, 0u);

  auto udp = open_filtered(dir.file("raw.pcap"), "udp");
  ASSERT_TRUE(udp.ok()) << udp.status().message();
  test::ReadAll r = read_all(**udp, 16);
  ASSERT_EQ(r.packets.size(), 10u);
  for (size_t i = 0; i < r.packets.size(); ++i) {
    EXPECT_EQ(r.packets[i].ts, int64_t(290 + i) * 1000);
    EXPECT_EQ(r.packets[i].data, ipv4(17, uint8_t(290 + i)));
  }
  EXPECT_EQ(r.stats.packets, 10u);
  EXPECT_EQ(r.stats.filtered, 290u);
  EXPECT_TRUE(r.warnings.empty());

  // After 100 dropped packets a call returns nothing, before the end, so that a caller can show
  // progress; the next calls go on.
  auto files = open_capture_files({dir.file("raw.pcap")});
  ASSERT_TRUE(files.ok());
  auto paced = FilteredSource::open(std::move(*files), "udp", 100);
  ASSERT_TRUE(paced.ok()) << paced.status().message();
  std::vector<RawPacket> buf(16);
  size_t empty = 0, got = 0;
  for (size_t n; (n = (*paced)->read_batch(buf)) != 0 || !(*paced)->finished();) {
    if (n == 0) ++empty;
    got += n;
    ASSERT_LT(empty, 100u);
  }
  EXPECT_EQ(got, 10u);
  EXPECT_EQ(empty, 2u);  // 290 dropped: 112 (7 batches of 16), 112, then 66 and the 10 kept
  EXPECT_EQ((*paced)->stats().filtered, 290u);
}

TEST(FilteredSource, BadExpressionFailsAtOnceWithLibpcapsMessage) {
  TempDir dir;
  test::PcapWriter w(false, false, kLinkRaw);
  w.packet(0, ipv4(6, 1));
  test::write_file(dir.file("raw.pcap"), w.bytes());
  auto bad = open_filtered(dir.file("raw.pcap"), "tcp port ((");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.status().message(), "invalid capture filter 'tcp port (('"))
      << bad.status().message();
  // Valid syntax, but not for this file's link type.
  auto no_ether = open_filtered(dir.file("raw.pcap"), "ether host 2:0:0:0:0:1");
  ASSERT_FALSE(no_ether.ok());
  EXPECT_TRUE(contains(no_ether.status().message(), "link type 101"))
      << no_ether.status().message();
}

TEST(FilteredSource, CompilesForEachLinkTypeOfAPcapngFile) {
  TempDir dir;
  test::NgWriter w;
  w.idb(kLinkEthernet, 0, "eth0");
  w.epb(0, 0, ethernet(ipv4(17, 100)));
  // An interface of another link type, defined after the first packet: unknown at open.
  w.idb(kLinkRaw, 0, "tun0");
  for (int i = 0; i < 8; ++i) {
    const std::vector<uint8_t> ip = ipv4(i % 2 ? 17 : 6, uint8_t(i));
    w.epb(0, uint64_t(i) * 2 + 1, ethernet(ip));
    w.epb(1, uint64_t(i) * 2 + 2, ip);
  }
  test::write_file(dir.file("two.pcapng"), w.bytes());
  auto src = open_filtered(dir.file("two.pcapng"), "udp");
  ASSERT_TRUE(src.ok()) << src.status().message();
  test::ReadAll r = read_all(**src);
  ASSERT_EQ(r.packets.size(), 9u);  // the first packet and four UDP packets on each interface
  for (const test::Packet& p : r.packets) EXPECT_EQ(p.data[p.linktype == kLinkRaw ? 9 : 23], 17);
  EXPECT_TRUE(r.warnings.empty());

  // A filter only Ethernet can answer: the raw interface's packets are dropped, with a warning.
  auto ether = open_filtered(dir.file("two.pcapng"), "ether src 2:0:0:0:0:2");
  ASSERT_TRUE(ether.ok()) << ether.status().message();
  test::ReadAll e = read_all(**ether);
  EXPECT_EQ(e.packets.size(), 9u);
  for (const test::Packet& p : e.packets) EXPECT_EQ(p.linktype, kLinkEthernet);
  EXPECT_EQ(e.stats.filtered, 8u);
  ASSERT_EQ(e.warnings.size(), 1u);
  EXPECT_TRUE(contains(e.warnings[0], "link type 101")) << e.warnings[0];
  EXPECT_TRUE(contains(e.warnings[0], "dropped")) << e.warnings[0];
}

// libpcap's own reading and filtering of `path`: the packet count, or -1 when it cannot.
int64_t libpcap_count(const std::string& path, const std::string& filter) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (!p) return -1;
  int64_t n = 0;
  bpf_program prog;
  if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
      pcap_setfilter(p, &prog) != 0) {
    n = -1;
  } else {
    pcap_pkthdr* h;
    const u_char* d;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) ++n;
    if (rc == PCAP_ERROR) n = -1;  // a damaged file: its count is libpcap's guess
    pcap_freecode(&prog);
  }
  pcap_close(p);
  return n;
}

// Every shared capture that libpcap reads to its end, with filters that look at every layer:
// the packets that pass are as many as libpcap's own filtering lets through.
TEST(FilteredSource, SharedCapturesPassWhatLibpcapPasses) {
  SKIP_WITHOUT_PCAPS();
  const char* filters[] = {"tcp", "udp port 53", "ip6 or vlan", "icmp or icmp6",
                           "net 192.168.0.0/16 and greater 200"};
  size_t compared = 0, passed = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(test::pcaps_dir())) {
    const std::string path = e.path().string();
    if (!e.is_regular_file() || !(path.ends_with(".pcap") || path.ends_with(".pcapng"))) continue;
    const int64_t all = libpcap_count(path, "");
    if (all < 0) continue;
    {
      auto files = open_capture_files({path});
      if (!files) continue;
      test::ReadAll ours = read_all(**files, 64, false);
      // Files we read differently (see shared_captures_test.cpp) say nothing about filtering.
      if (!ours.warnings.empty() || int64_t(ours.packets.size()) != all) continue;
    }
    for (const char* f : filters) {
      const int64_t theirs = libpcap_count(path, f);
      if (theirs < 0) continue;  // not for this link type
      auto src = open_filtered(path, f);
      ASSERT_TRUE(src.ok()) << path << " '" << f << "': " << src.status().message();
      // Long stretches the filter drops make read_batch() return 0 before the end.
      test::ReadAll r = read_all(**src, 64, false, 1 << 20);
      EXPECT_EQ(int64_t(r.packets.size()), theirs) << path << " '" << f << "'";
      EXPECT_EQ(int64_t(r.stats.filtered), all - theirs) << path << " '" << f << "'";
      ++compared;
      passed += r.packets.size();
    }
  }
  std::printf("compared %zu (capture, filter) pairs; %zu packets passed\n", compared, passed);
  EXPECT_GT(compared, 500u);
  EXPECT_GT(passed, 10000u);
}

// LINKTYPE_NULL keeps the address family in the writer's byte order: a file from a big-endian
// machine passes the same packets as one from a little-endian machine, as libpcap passes them.
TEST(FilteredSource, NullLinkTypeOfEitherByteOrder) {
  TempDir dir;
  for (bool be : {false, true}) {
    SCOPED_TRACE(be);
    test::PcapWriter w(be, false, kLinkNull);
    for (int i = 0; i < 6; ++i) {
      // AF_INET (2) and the AF_INET6 values of BSD (24), FreeBSD (28) and Darwin (30).
      const uint32_t family = i < 3 ? 2 : i == 3 ? 24 : i == 4 ? 28 : 30;
      std::vector<uint8_t> p(4);
      for (int b = 0; b < 4; ++b) p[size_t(b)] = uint8_t(family >> (8 * (be ? 3 - b : b)));
      std::vector<uint8_t> ip = ipv4(i % 2 ? 17 : 6, uint8_t(i));
      if (family != 2) {  // a minimal IPv6 header instead, next header TCP or UDP
        ip.assign(40 + 8, 0);
        ip[0] = 0x60;
        ip[5] = 8;
        ip[6] = i % 2 ? 17 : 6;
        ip[7] = 64;
      }
      p.insert(p.end(), ip.begin(), ip.end());
      w.packet(int64_t(i) * 1000, p);
    }
    const std::string path = dir.file(be ? "be.pcap" : "le.pcap");
    test::write_file(path, w.bytes());
    // Packets 0-2 are IPv4 (TCP, UDP, TCP), 3-5 IPv6 (UDP, TCP, UDP).
    for (auto [f, expected] : {std::pair{"tcp", 3}, {"udp", 3}, {"ip6", 3}, {"ip and tcp", 2}}) {
      auto src = open_filtered(path, f);
      ASSERT_TRUE(src.ok()) << src.status().message();
      const int64_t ours = int64_t(read_all(**src).packets.size());
      EXPECT_EQ(ours, expected) << f;
      EXPECT_EQ(ours, libpcap_count(path, f)) << f;
    }
  }
}

}  // namespace
}  // namespace flowkit::capture
