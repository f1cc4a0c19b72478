#include "capture/pcap_file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "capture/capture_test_util.h"

namespace flowkit::capture {
namespace {

using namespace test;

constexpr int64_t kSec = 1'000'000'000;

ReadAll read_path(const std::string& path, FileIo io = FileIo::kMap, size_t batch = 64) {
  auto r = PcapFileReader::open(path, io);
  EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.status().message());
  if (!r.ok()) return {};
  return read_all(**r, batch);
}

ReadAll read_bytes(std::vector<uint8_t> bytes, size_t batch = 64) {
  auto r = PcapFileReader::from_bytes(std::move(bytes), "test");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.status().message());
  if (!r.ok()) return {};
  return read_all(**r, batch);
}

std::string open_error(const std::string& path) {
  auto r = PcapFileReader::open(path);
  EXPECT_FALSE(r.ok()) << path << " opened";
  return r.ok() ? "" : r.status().message();
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return contains(l, needle); });
}

std::vector<uint32_t> interface_ids(const ReadAll& r) {
  std::vector<uint32_t> ids;
  for (const Packet& p : r.packets) ids.push_back(p.interface);
  return ids;
}

std::vector<std::string> interface_names(const ReadAll& r) {
  std::vector<std::string> names;
  for (const InterfaceInfo& i : r.interfaces) names.push_back(i.name);
  return names;
}

// ---------------------------------------------------------------- classic pcap

TEST(PcapFileReader, ClassicMicroseconds) {
  SKIP_WITHOUT_PCAPS();
  const std::string path = pcap_path("dpkt-1.9.8/http.pcap");
  auto r = PcapFileReader::open(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->format(), PcapFileReader::Format::kPcap);
  const ReadAll all = read_all(**r);
  // Expected values from tshark -T fields -e frame.time_epoch -e frame.cap_len -e frame.len.
  ASSERT_EQ(all.packets.size(), 43u);
  EXPECT_EQ(all.packets[0].ts, 1084443427311224000);
  EXPECT_EQ(all.packets[0].caplen, 62u);
  EXPECT_EQ(all.packets[0].wirelen, 62u);
  EXPECT_EQ(all.packets[42].ts, 1084443457704928000);
  EXPECT_EQ(all.packets[42].caplen, 54u);
  for (const Packet& p : all.packets) {
    EXPECT_EQ(p.linktype, kLinkEthernet);
    EXPECT_EQ(p.interface, 0u);
  }
  ASSERT_EQ(all.interfaces.size(), 1u);
  EXPECT_EQ(all.interfaces[0].name, path);
  EXPECT_EQ(all.interfaces[0].linktype, kLinkEthernet);
  EXPECT_TRUE(all.warnings.empty());
  EXPECT_EQ(all.stats.packets, 43u);
  EXPECT_EQ(all.stats.bad_records, 0u);
  EXPECT_EQ(all.stats.bytes_total, 25803u);
  EXPECT_EQ(all.stats.bytes_read, 25803u);
  EXPECT_TRUE((*r)->finished());
}

TEST(PcapFileReader, ClassicBigEndian) {
  SKIP_WITHOUT_PCAPS();
  // npm-pcap-parser's be.pcap (tshark: 5 packets, first 3064.714590, 42 of 60 bytes).
  const ReadAll be = read_path(pcap_path("npm-pcap-parser-0.2.1/be.pcap"));
  ASSERT_EQ(be.packets.size(), 5u);
  EXPECT_EQ(be.packets[0].ts, 3064714590000);
  EXPECT_EQ(be.packets[0].caplen, 42u);
  EXPECT_EQ(be.packets[0].wirelen, 60u);
  EXPECT_EQ(be.packets[1].ts, 3064714654000);
  EXPECT_EQ(be.packets[0].linktype, kLinkEthernet);
  const ReadAll pptp = read_path(pcap_path("tcpdump-4.99.3/pptp.pcap"));
  EXPECT_EQ(pptp.packets.size(), 23u);
  EXPECT_TRUE(pptp.warnings.empty());
}

TEST(PcapFileReader, ClassicNanosecondsFromRealFile) {
  SKIP_WITHOUT_PCAPS();
  // A nanosecond file of pcap version 2.0, whose two length fields are in the old order
  // (tshark: caplen 197, len 524501, time 980658802 s + 1882137472 ns).
  const ReadAll r = read_path(pcap_path("ndpi-4.2/fuzz-2021-10-13.pcap"));
  ASSERT_EQ(r.packets.size(), 1u);
  EXPECT_EQ(r.packets[0].caplen, 197u);
  EXPECT_EQ(r.packets[0].wirelen, 524501u);
  EXPECT_EQ(r.packets[0].ts, 980658802 * kSec + 1882137472);
}

TEST(PcapFileReader, ClassicEveryByteOrderAndResolution) {
  const std::vector<int64_t> times = {0, 1 * kSec + 1000, 1700000000 * kSec + 999999000,
                                      4294967295 * kSec + 5000};  // unsigned seconds: to 2106
  for (bool be : {false, true}) {
    for (bool nanos : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "big_endian=" << be << " nanos=" << nanos);
      PcapWriter w(be, nanos, kLinkRaw);
      for (size_t i = 0; i < times.size(); ++i) {
        w.packet(times[i] + (nanos ? 7 : 0), payload(20 + i, uint8_t(i)), uint32_t(100 + i));
      }
      const ReadAll r = read_bytes(w.bytes());
      ASSERT_EQ(r.packets.size(), times.size());
      for (size_t i = 0; i < times.size(); ++i) {
        EXPECT_EQ(r.packets[i].ts, times[i] + (nanos ? 7 : 0));
        EXPECT_EQ(r.packets[i].data, payload(20 + i, uint8_t(i)));
        EXPECT_EQ(r.packets[i].wirelen, 100 + i);
        EXPECT_EQ(r.packets[i].linktype, kLinkRaw);
      }
    }
  }
}

TEST(PcapFileReader, ClassicLinkTypeIgnoresFcsBits) {
  // The upper 16 bits of the link type field carry the FCS length (pcap spec).
  PcapWriter w(false, false, kLinkEthernet | 0x04000000 | 0x40000000);
  w.packet(kSec, payload(60, 1));
  const ReadAll r = read_bytes(w.bytes());
  ASSERT_EQ(r.interfaces.size(), 1u);
  EXPECT_EQ(r.interfaces[0].linktype, kLinkEthernet);
  EXPECT_EQ(r.packets.at(0).linktype, kLinkEthernet);
  if (!have_pcaps()) return;
  // Juniper ES with FCS length 3: 0x30000084.
  EXPECT_EQ(read_path(pcap_path("tcpdump-4.99.3/juniper_es_oobr.pcap")).interfaces.at(0).linktype,
            0x84u);
}

TEST(PcapFileReader, ClassicOldVersionsWithSwappedLengths) {
  for (int minor : {2, 3}) {
    SCOPED_TRACE(minor);
    Bytes b;
    for (uint32_t v : {0xa1b2c3d4u, 2u | uint32_t(minor) << 16, 0u, 0u, 65535u, 1u}) b.u32(v);
    // Records written before 2.3 put the wire length first.
    b.u32(10);
    b.u32(0);
    b.u32(1500);
    b.u32(64);
    b.raw(payload(64, 3));
    const ReadAll r = read_bytes(b.bytes());
    ASSERT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.packets[0].caplen, 64u);
    EXPECT_EQ(r.packets[0].wirelen, 1500u);
    EXPECT_TRUE(r.warnings.empty());
  }
}

// ---------------------------------------------------------------- pcapng

const char* const kGopacketFiles[] = {
    "test001", "test002", "test003", "test004", "test005", "test006", "test007",
    "test008", "test009", "test010", "test011", "test012", "test013", "test014",
    "test015", "test016", "test017", "test018", "test100", "test101", "test102",
    "test200", "test201", "test202", "test901", "test902"};

TEST(PcapFileReader, PcapngLittleAndBigEndianFilesAgree) {
  SKIP_WITHOUT_PCAPS();
  for (const char* name : kGopacketFiles) {
    SCOPED_TRACE(name);
    const std::string le = pcap_path(std::string("gopacket-1.1.19-pcapng/le/") + name + ".pcapng");
    const std::string be = pcap_path(std::string("gopacket-1.1.19-pcapng/be/") + name + ".pcapng");
    auto rl = PcapFileReader::open(le);
    auto rb = PcapFileReader::open(be);
    ASSERT_TRUE(rl.ok()) << rl.status().message();
    ASSERT_TRUE(rb.ok()) << rb.status().message();
    EXPECT_EQ((*rl)->format(), PcapFileReader::Format::kPcapng);
    const ReadAll a = read_all(**rl);
    const ReadAll b = read_all(**rb);
    EXPECT_EQ(a.packets, b.packets);
    EXPECT_EQ(a.warnings.size(), b.warnings.size());
    EXPECT_EQ(a.stats.bad_records, b.stats.bad_records);
    ASSERT_EQ(a.interfaces.size(), b.interfaces.size());
    for (size_t i = 0; i < a.interfaces.size(); ++i) {
      EXPECT_EQ(a.interfaces[i].linktype, b.interfaces[i].linktype);
      if (contains(a.interfaces[i].name, ".pcapng#")) continue;  // named after the path
      EXPECT_EQ(a.interfaces[i].name, b.interfaces[i].name);
    }
  }
}

TEST(PcapFileReader, PcapngManyInterfaces) {
  SKIP_WITHOUT_PCAPS();
  // tshark: interface 0 (en0) 62 packets, interface 10 (lo0, null link type) 2 packets.
  const ReadAll r = read_path(pcap_path("wireshark-4.0.17/many_interfaces.pcapng.1"));
  EXPECT_EQ(interface_names(r),
            (std::vector<std::string>{"en0", "awdl0", "bridge0", "vboxnet0", "utun0", "en1",
                                      "vboxnet1", "en2", "p2p0", "vboxnet2", "lo0"}));
  std::vector<uint32_t> linktypes;
  for (const InterfaceInfo& i : r.interfaces) linktypes.push_back(i.linktype);
  EXPECT_EQ(linktypes, (std::vector<uint32_t>{1, 1, 1, 1, 0, 1, 1, 1, 12, 1, 0}));
  ASSERT_EQ(r.packets.size(), 64u);
  size_t on_en0 = 0, on_lo0 = 0;
  for (const Packet& p : r.packets) {
    if (p.interface == 0 && p.linktype == kLinkEthernet) ++on_en0;
    if (p.interface == 10 && p.linktype == kLinkNull) ++on_lo0;
  }
  EXPECT_EQ(on_en0, 62u);
  EXPECT_EQ(on_lo0, 2u);
  EXPECT_EQ(r.packets[2].interface, 10u);  // third packet, as tshark lists them

  const ReadAll r3 = read_path(pcap_path("wireshark-4.0.17/many_interfaces.pcapng.3"));
  EXPECT_EQ(r3.interfaces.size(), 11u);
  EXPECT_EQ(interface_ids(r3), std::vector<uint32_t>(9, 0));
}

TEST(PcapFileReader, PcapngInterfacesAcrossSections) {
  SKIP_WITHOUT_PCAPS();
  const std::string dir = "gopacket-1.1.19-pcapng/le/";
  // Three sections (little, big, little endian); each section's interfaces are new entries.
  const ReadAll r202 = read_path(pcap_path(dir + "test202.pcapng"));
  EXPECT_EQ(
      interface_names(r202),
      (std::vector<std::string>{"eth0", "null1", "silly ethernet interface 2", "eth0", "null1"}));
  EXPECT_EQ(interface_ids(r202), (std::vector<uint32_t>{0, 0, 1, 2, 2, 2, 2, 4}));
  EXPECT_EQ(r202.packets[2].linktype, kLinkNull);
  EXPECT_EQ(r202.packets[7].linktype, kLinkNull);
  // One section, an interface defined between packets (tshark: ids 0 2 0 1).
  const ReadAll r101 = read_path(pcap_path(dir + "test101.pcapng"));
  EXPECT_EQ(interface_ids(r101), (std::vector<uint32_t>{0, 2, 0, 1}));
  EXPECT_EQ(interface_names(r101),
            (std::vector<std::string>{"eth0", "null1", "silly ethernet interface 2"}));
  const ReadAll r006 = read_path(pcap_path(dir + "test006.pcapng"));
  EXPECT_EQ(interface_ids(r006), (std::vector<uint32_t>{0, 1, 0, 0, 0}));
}

TEST(PcapFileReader, PcapngInterfacesKnownAtOpen) {
  SKIP_WITHOUT_PCAPS();
  auto r = PcapFileReader::open(pcap_path("wireshark-4.0.17/many_interfaces.pcapng.1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->interfaces().size(), 11u);
  EXPECT_EQ((*r)->stats().packets, 0u);
}

TEST(PcapFileReader, PcapngUnnamedInterfaceNamedAfterFile) {
  NgWriter w;
  w.idb(kLinkEthernet).idb(kLinkRaw, 0, "wan");
  w.epb(1, 5, payload(20, 1));
  const ReadAll r = read_bytes(w.bytes());
  EXPECT_EQ(interface_names(r), (std::vector<std::string>{"test#0", "wan"}));
  EXPECT_EQ(r.packets.at(0).interface, 1u);
  EXPECT_EQ(r.packets.at(0).linktype, kLinkRaw);
}

TEST(PcapFileReader, SimplePacketBlocksFromRealFiles) {
  SKIP_WITHOUT_PCAPS();
  // Four Simple Packet Blocks and nothing before them: no time to borrow.
  const ReadAll r010 = read_path(pcap_path("gopacket-1.1.19-pcapng/le/test010.pcapng"));
  ASSERT_EQ(r010.packets.size(), 4u);
  const uint32_t lens[] = {314, 342, 314, 342};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r010.packets[i].ts, 0);
    EXPECT_EQ(r010.packets[i].caplen, lens[i]);
    EXPECT_EQ(r010.packets[i].wirelen, lens[i]);
  }
  // SPB, EPB, SPB, EPB: the second SPB takes the first EPB's time.
  const ReadAll r016 = read_path(pcap_path("gopacket-1.1.19-pcapng/le/test016.pcapng"));
  ASSERT_EQ(r016.packets.size(), 4u);
  EXPECT_EQ(r016.packets[0].ts, 0);
  EXPECT_EQ(r016.packets[1].ts, 1340954905298858000);
  EXPECT_EQ(r016.packets[2].ts, 1340954905298858000);
  EXPECT_EQ(r016.packets[3].ts, 1340954905300858000);
}

TEST(PcapFileReader, SimplePacketBlocksSynthetic) {
  for (bool be : {false, true}) {
    NgWriter w(be);
    w.idb(kLinkEthernet, 64, "eth0");
    w.epb(0, 5'000'000, payload(40, 1));
    w.spb(payload(100, 2));  // cut to the interface's snaplen of 64
    w.shb(be);               // a new section without interfaces
    w.spb(payload(30, 3));   // no interface 0: skipped and counted
    w.idb(kLinkRaw, 0, "raw");
    w.spb(payload(30, 4));
    const ReadAll r = read_bytes(w.bytes());
    ASSERT_EQ(r.packets.size(), 3u);
    EXPECT_EQ(r.packets[1].ts, 5 * kSec);
    EXPECT_EQ(r.packets[1].caplen, 64u);
    EXPECT_EQ(r.packets[1].wirelen, 100u);
    const std::vector<uint8_t> full = payload(100, 2);
    EXPECT_EQ(r.packets[1].data, std::vector<uint8_t>(full.begin(), full.begin() + 64));
    EXPECT_EQ(r.packets[2].ts, 5 * kSec);
    EXPECT_EQ(r.packets[2].interface, 1u);
    EXPECT_EQ(r.packets[2].linktype, kLinkRaw);
    EXPECT_EQ(r.packets[2].data, payload(30, 4));
    EXPECT_EQ(r.stats.bad_records, 1u);
    EXPECT_TRUE(any_contains(r.warnings, "before any interface description"));
  }
}

TEST(PcapFileReader, ObsoletePacketBlocks) {
  NgWriter w;
  w.idb(kLinkEthernet, 0, "a").idb(kLinkRaw, 0, "b");
  w.pb(1, 2'500'000, payload(33, 9));
  w.pb(7, 2'500'000, payload(33, 9));  // no interface 7: skipped
  w.epb(0, 3'000'000, payload(10, 1));
  const ReadAll r = read_bytes(w.bytes());
  ASSERT_EQ(r.packets.size(), 2u);
  EXPECT_EQ(r.packets[0].ts, 2'500'000'000);
  EXPECT_EQ(r.packets[0].interface, 1u);
  EXPECT_EQ(r.packets[0].linktype, kLinkRaw);
  EXPECT_EQ(r.packets[0].data, payload(33, 9));
  EXPECT_EQ(r.stats.bad_records, 1u);
}

TEST(PcapFileReader, TimestampResolutionsFromRealFiles) {
  SKIP_WITHOUT_PCAPS();
  // if_tsresol 0x88 (2^-8 s): tshark 1519128000.195312500.
  const ReadAll r902 = read_path(pcap_path("gopacket-1.1.19-pcapng/le/test902.pcapng"));
  ASSERT_EQ(r902.packets.size(), 1u);
  EXPECT_EQ(r902.packets[0].ts, 1519128000195312500);
  // if_tsresol 9 (ns): tshark 1340954.905298858.
  const ReadAll r008 = read_path(pcap_path("gopacket-1.1.19-pcapng/le/test008.pcapng"));
  ASSERT_EQ(r008.packets.size(), 4u);
  EXPECT_EQ(r008.packets[0].ts, 1340954905298858);
  const ReadAll dhcp = read_path(pcap_path("wireshark-4.0.17/dhcp-nanosecond.pcapng"));
  ASSERT_FALSE(dhcp.packets.empty());
  EXPECT_EQ(dhcp.packets[0].ts, 1102274184317453000);
}

TEST(PcapFileReader, TimestampResolutionsAndOffsets) {
  struct Case {
    int tsresol;
    int64_t tsoffset;
    uint64_t units;
    int64_t ns;
  };
  const Case cases[] = {
      {-1, 0, 1'500'000, 1'500'000'000},          // default: microseconds
      {6, 0, 1'500'000, 1'500'000'000},           // explicit microseconds
      {3, 0, 1'500, 1'500'000'000},               // milliseconds
      {0, 0, 2, 2 * kSec},                        // seconds
      {9, 0, 1'234'567'891, 1'234'567'891},       // nanoseconds
      {12, 0, 1'500'000'000'123, 1'500'000'000},  // picoseconds: rounded down
      {0x80 | 10, 0, 1536, 1'500'000'000},        // 1/1024 s
      {0x80, 0, 3, 3 * kSec},                     // 2^0 s
      {0x80 | 30, 0, uint64_t(1) << 30, kSec},    // 2^-30 s
      {0x80 | 63, 0, uint64_t(1) << 63, kSec},    // 2^-63 s
      {6, 1000, 1'000'000, 1001 * kSec},          // if_tsoffset in seconds
      {6, -10, 1'000'000, -9 * kSec},             // negative offsets are allowed
      {40, 0, ~uint64_t(0), 0},                   // far below a nanosecond
  };
  for (bool be : {false, true}) {
    NgWriter w(be);
    for (const Case& c : cases) w.idb(kLinkEthernet, 0, "", c.tsresol, c.tsoffset);
    for (uint32_t i = 0; i < std::size(cases); ++i) w.epb(i, cases[i].units, payload(4, 0));
    const ReadAll r = read_bytes(w.bytes());
    ASSERT_EQ(r.packets.size(), std::size(cases));
    for (size_t i = 0; i < std::size(cases); ++i) {
      EXPECT_EQ(r.packets[i].ts, cases[i].ns) << "case " << i << " big_endian=" << be;
    }
  }
}

TEST(PcapFileReader, UnknownBlocksAreSkipped) {
  NgWriter w;
  w.block(0x00000bad, payload(20, 1));  // custom block before any interface
  w.idb(kLinkEthernet);
  w.block(5, payload(24, 2));  // interface statistics
  w.epb(0, 1, payload(8, 3));
  w.block(0x12345678, {});
  w.epb(0, 2, payload(8, 4));
  const ReadAll r = read_bytes(w.bytes());
  EXPECT_EQ(r.packets.size(), 2u);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.stats.bad_records, 0u);
}

// ---------------------------------------------------------------- I/O modes and inputs

TEST(PcapFileReader, StreamingReadsTheSameAsMapping) {
  SKIP_WITHOUT_PCAPS();
  for (const char* rel : {"ndpi-4.2/pinterest.pcap", "ndpi-4.2/alexa-app.pcapng",
                          "ndpi-4.2/quic-33.pcapng", "wireshark-4.0.17/many_interfaces.pcapng.1",
                          "gopacket-1.1.19-pcapng/be/test202.pcapng", "dpkt-1.9.8/http.pcap"}) {
    SCOPED_TRACE(rel);
    const ReadAll mapped = read_path(pcap_path(rel), FileIo::kMap, 256);
    for (size_t batch : {1, 7, 256, 4096}) {
      auto r = PcapFileReader::open(pcap_path(rel), FileIo::kRead);
      ASSERT_TRUE(r.ok());
      EXPECT_FALSE((*r)->stable_data());
      const ReadAll streamed = read_all(**r, batch);
      EXPECT_EQ(streamed.packets, mapped.packets) << "batch " << batch;
      EXPECT_EQ(streamed.stats.bytes_read, mapped.stats.bytes_read);
      EXPECT_EQ(streamed.stats.bytes_total, mapped.stats.bytes_total);
      EXPECT_EQ(interface_names(streamed), interface_names(mapped));
    }
  }
}

// A capture several times the stream window, with packets up to the largest allowed, a block
// too large to hold (skipped) and an interface block larger than the window (held).
std::vector<uint8_t> large_pcapng(bool be) {
  NgWriter w(be);
  std::vector<uint8_t> huge_options;
  {
    Bytes o(be);
    for (int i = 0; i < 50; ++i) {  // 50 comments of 60000 bytes: 3 MB of options
      o.u16(1);
      o.u16(60000);
      o.raw(std::vector<uint8_t>(60000, 'c'));
    }
    o.u16(0);
    o.u16(0);
    huge_options = o.bytes();
  }
  w.idb(kLinkEthernet, 0, "eth0");
  std::mt19937 rng(7);
  uint64_t ts = 1'000'000;
  for (int i = 0; i < 3000; ++i) {
    const size_t len = i % 500 == 0 ? kMaxCaplen : rng() % 3000;
    w.epb(0, ts++, payload(len, uint8_t(i)));
    if (i == 1000) w.block(0x40000bad, std::vector<uint8_t>(5 << 20, 1));  // 5 MiB custom block
    if (i == 2000) {
      Bytes body(be);
      body.u16(kLinkRaw);
      body.u16(0);
      body.u32(0);
      body.raw(huge_options);
      w.block(1, body.bytes());
    }
    if (i > 2000 && i % 3 == 0) w.epb(1, ts++, payload(100, uint8_t(i)));
  }
  return w.bytes();
}

TEST(PcapFileReader, StreamingAcrossWindowBoundaries) {
  TempDir dir;
  for (bool be : {false, true}) {
    SCOPED_TRACE(be);
    const std::vector<uint8_t> bytes = large_pcapng(be);
    const ReadAll expected = read_bytes(bytes, 256);
    ASSERT_GT(expected.packets.size(), 3000u);
    EXPECT_TRUE(expected.warnings.empty());
    EXPECT_EQ(expected.interfaces.size(), 2u);
    const std::string path = dir.file("large.pcapng");
    write_file(path, bytes);
    for (size_t batch : {1, 64, 1000}) {
      const ReadAll streamed = read_path(path, FileIo::kRead, batch);
      EXPECT_EQ(streamed.packets, expected.packets) << "batch " << batch;
      EXPECT_TRUE(streamed.warnings.empty());
      EXPECT_EQ(streamed.stats.bytes_read, bytes.size());
    }
    // Classic pcap of the same packets.
    PcapWriter pw(be, true);
    for (const Packet& p : expected.packets) pw.packet(p.ts, p.data);
    write_file(path, pw.bytes());
    const ReadAll classic = read_path(path, FileIo::kRead, 100);
    ASSERT_EQ(classic.packets.size(), expected.packets.size());
    for (size_t i = 0; i < classic.packets.size(); ++i) {
      ASSERT_EQ(classic.packets[i].data, expected.packets[i].data);
    }
  }
}

// Writes `bytes` into fd in uneven pieces with pauses, so that the reader sees short reads.
void feed(int fd, const std::vector<uint8_t>& bytes) {
  size_t off = 0, piece = 1;
  while (off < bytes.size()) {
    const size_t n = std::min(piece, bytes.size() - off);
    const ssize_t w = ::write(fd, bytes.data() + off, n);
    if (w <= 0) break;
    off += size_t(w);
    piece = piece * 3 + 1;
    if (piece > 100000) piece = 7;
    if (off < 5000) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ::close(fd);
}

TEST(PcapFileReader, ReadsFromAPipe) {
  SKIP_WITHOUT_PCAPS();
  TempDir dir;
  const std::string fifo = dir.file("capture.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const char* rel : {"dpkt-1.9.8/http.pcap", "gopacket-1.1.19-pcapng/be/test202.pcapng",
                          "ndpi-4.2/quic-33.pcapng"}) {
    SCOPED_TRACE(rel);
    const std::vector<uint8_t> bytes = read_file(pcap_path(rel));
    std::thread writer([&] { feed(::open(fifo.c_str(), O_WRONLY), bytes); });
    auto r = PcapFileReader::open(fifo, FileIo::kMap);  // a pipe cannot be mapped: streamed
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_FALSE((*r)->stable_data());
    const ReadAll piped = read_all(**r, 50);
    writer.join();
    const ReadAll expected = read_bytes(bytes);
    EXPECT_EQ(piped.packets, expected.packets);
    EXPECT_TRUE(piped.warnings.empty());
    EXPECT_EQ(piped.stats.bytes_total, bytes.size());  // known once the stream ended
  }
}

TEST(PcapFileReader, ReadsStandardInput) {
  SKIP_WITHOUT_PCAPS();
  const std::string path = pcap_path("gopacket-1.1.19-pcapng/le/test202.pcapng");
  const std::vector<uint8_t> bytes = read_file(path);
  const ReadAll expected = read_bytes(bytes);
  const int saved = ::dup(0);
  ASSERT_GE(saved, 0);
  // stdin from a pipe: streamed.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::dup2(fds[0], 0);
  ::close(fds[0]);
  std::thread writer([&] { feed(fds[1], bytes); });
  auto piped = PcapFileReader::open("-");
  ReadAll from_pipe;
  if (piped.ok()) from_pipe = read_all(**piped);
  writer.join();
  // stdin from a regular file (`< file`): mapped.
  const int file_fd = ::open(path.c_str(), O_RDONLY);
  ::dup2(file_fd, 0);
  ::close(file_fd);
  auto redirected = PcapFileReader::open("-", FileIo::kMap);
  ReadAll from_file;
  if (redirected.ok()) from_file = read_all(**redirected);
  ::dup2(saved, 0);
  ::close(saved);
  ASSERT_TRUE(piped.ok()) << piped.status().message();
  ASSERT_TRUE(redirected.ok()) << redirected.status().message();
  EXPECT_EQ((*piped)->path(), "stdin");
  EXPECT_EQ(from_pipe.packets, expected.packets);
  EXPECT_TRUE((*redirected)->stable_data());
  EXPECT_EQ(from_file.packets, expected.packets);
}

TEST(PcapFileReader, MappedDataStayValidForTheReadersLifetime) {
  SKIP_WITHOUT_PCAPS();
  const std::string path = pcap_path("ndpi-4.2/quic-33.pcapng");
  auto r = PcapFileReader::open(path, FileIo::kMap);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->stable_data());
  std::vector<RawPacket> kept;
  std::vector<RawPacket> batch(32);
  while (size_t n = (*r)->read_batch(batch))
    kept.insert(kept.end(), batch.begin(), batch.begin() + n);
  const ReadAll copies = read_path(path);
  ASSERT_EQ(kept.size(), copies.packets.size());
  for (size_t i = 0; i < kept.size(); ++i) {
    ASSERT_TRUE(std::equal(kept[i].data, kept[i].data + kept[i].caplen,
                           copies.packets[i].data.begin(), copies.packets[i].data.end()))
        << "packet " << i;
  }
}

TEST(PcapFileReader, ProgressGrowsToTheFileSize) {
  SKIP_WITHOUT_PCAPS();
  for (FileIo io : {FileIo::kMap, FileIo::kRead}) {
    auto r = PcapFileReader::open(pcap_path("ndpi-4.2/pinterest.pcap"), io);
    ASSERT_TRUE(r.ok());
    const uint64_t total = (*r)->stats().bytes_total;
    EXPECT_EQ(total, 28291461u);
    std::vector<RawPacket> batch(100);
    uint64_t last = 0, packets = 0;
    while (size_t n = (*r)->read_batch(batch)) {
      packets += n;
      const SourceStats s = (*r)->stats();
      EXPECT_GE(s.bytes_read, last);
      EXPECT_LE(s.bytes_read, total);
      EXPECT_EQ(s.packets, packets);
      last = s.bytes_read;
    }
    EXPECT_EQ(last, total);
    EXPECT_TRUE((*r)->finished());
  }
}

// ---------------------------------------------------------------- errors at open

TEST(PcapFileReader, GzipFileSaysDecompressFirst) {
  SKIP_WITHOUT_PCAPS();
  const std::string path = pcap_path("wireshark-4.0.17/dns+icmp.pcapng.gz");
  const std::string msg = open_error(path);
  EXPECT_TRUE(contains(msg, "gzip-compressed")) << msg;
  EXPECT_TRUE(contains(msg, "decompress it first (gunzip")) << msg;
  EXPECT_TRUE(contains(msg, path)) << msg;
}

TEST(PcapFileReader, OtherCompressorsAreNamed) {
  TempDir dir;
  const std::pair<std::vector<uint8_t>, const char*> cases[] = {
      {{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0}, "unzstd"},
      {{0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0}, "unxz"},
      {{0x42, 0x5a, 0x68, 0x39, 0, 0}, "bunzip2"},
  };
  for (const auto& [bytes, command] : cases) {
    write_file(dir.file("c"), bytes);
    EXPECT_TRUE(contains(open_error(dir.file("c")), command));
  }
}

TEST(PcapFileReader, EmptyFile) {
  TempDir dir;
  write_file(dir.file("empty.pcap"), {});
  const std::string msg = open_error(dir.file("empty.pcap"));
  EXPECT_TRUE(contains(msg, "is empty")) << msg;
  auto r = PcapFileReader::from_bytes({}, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "is empty"));
}

TEST(PcapFileReader, NotACaptureFile) {
  SKIP_WITHOUT_PCAPS();
  for (const char* rel : {"MANIFEST.md", "npm-pcap-parser-0.2.1/malformed.pcap"}) {
    const std::string msg = open_error(pcap_path(rel));
    EXPECT_TRUE(contains(msg, "is not a pcap or pcapng file")) << msg;
    EXPECT_TRUE(contains(msg, "editcap")) << msg;
  }
}

TEST(PcapFileReader, MissingFileAndDirectory) {
  TempDir dir;
  std::string msg = open_error(dir.file("nope.pcap"));
  EXPECT_TRUE(contains(msg, "No such file")) << msg;
  EXPECT_TRUE(contains(msg, "nope.pcap")) << msg;
  msg = open_error(dir.path());
  EXPECT_TRUE(contains(msg, "is a directory")) << msg;
}

TEST(PcapFileReader, TruncatedHeaders) {
  PcapWriter w(false, false);
  std::vector<uint8_t> pcap = w.bytes();
  pcap.resize(10);
  auto r = PcapFileReader::from_bytes(pcap, "short.pcap");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "truncated")) << r.status().message();
  std::vector<uint8_t> ng = NgWriter().bytes();
  ng.resize(20);
  r = PcapFileReader::from_bytes(ng, "short.pcapng");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "truncated")) << r.status().message();
  // A pcapng file whose first section is of an unknown version cannot be read at all.
  NgWriter v2;
  v2.bytes().clear();
  v2.shb(false, 2);
  r = PcapFileReader::from_bytes(v2.bytes(), "v2.pcapng");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.status().message(), "version 2.0")) << r.status().message();
}

// ---------------------------------------------------------------- corruption

// Offsets at which a packet's record ends, from reading one packet at a time.
std::vector<uint64_t> packet_ends(const std::vector<uint8_t>& bytes) {
  auto r = PcapFileReader::from_bytes(bytes, "x");
  std::vector<uint64_t> ends;
  RawPacket p;
  while ((*r)->read_batch({&p, 1}) == 1) ends.push_back((*r)->stats().bytes_read);
  return ends;
}

// Cuts the file at every length: in memory (exact bounds, for the sanitizers) and, with
// `on_disk`, also as a file in a temporary folder, mapped and streamed.
void check_truncations(const std::string& rel, bool on_disk) {
  SCOPED_TRACE(rel);
  const std::vector<uint8_t> full = read_file(pcap_path(rel));
  const ReadAll all = read_bytes(full);
  ASSERT_TRUE(all.warnings.empty());
  const std::vector<uint64_t> ends = packet_ends(full);
  ASSERT_EQ(ends.size(), all.packets.size());
  TempDir dir;
  const std::string path = dir.file("cut");
  size_t opened = 0;
  for (size_t len = 0; len <= full.size(); ++len) {
    SCOPED_TRACE(len);
    const std::vector<uint8_t> cut(full.begin(), full.begin() + ptrdiff_t(len));
    const size_t complete =
        size_t(std::count_if(ends.begin(), ends.end(), [&](uint64_t e) { return e <= len; }));
    const bool at_packet_end = len == 0 || std::find(ends.begin(), ends.end(), len) != ends.end();
    std::vector<Result<std::unique_ptr<PcapFileReader>>> readers;
    readers.push_back(PcapFileReader::from_bytes(cut, "cut"));
    if (on_disk) {
      write_file(path, cut);
      readers.push_back(PcapFileReader::open(path, FileIo::kMap));
      readers.push_back(PcapFileReader::open(path, FileIo::kRead));
    }
    for (const auto& r : readers) ASSERT_EQ(r.ok(), readers[0].ok());
    if (!readers[0].ok()) {
      EXPECT_EQ(complete, 0u);
      EXPECT_FALSE(readers[0].status().message().empty());
      continue;
    }
    ++opened;
    for (auto& opened_reader : readers) {
      PcapFileReader* reader = opened_reader->get();
      const ReadAll r = read_all(*reader, 5);
      ASSERT_EQ(r.packets.size(), complete);
      for (size_t i = 0; i < complete; ++i) ASSERT_EQ(r.packets[i], all.packets[i]) << i;
      EXPECT_TRUE(reader->finished());
      EXPECT_LE(r.stats.bad_records, 1u);
      EXPECT_EQ(r.warnings.empty(), r.stats.bad_records == 0);
      if (at_packet_end && complete > 0) {
        EXPECT_EQ(r.stats.bad_records, 0u);
      }
      if (r.stats.bad_records) {
        EXPECT_TRUE(any_contains(r.warnings, "truncated"));
      }
    }
  }
  EXPECT_GT(opened, full.size() / 2);
}

TEST(PcapFileReader, EveryTruncationKeepsAPrefix) {
  SKIP_WITHOUT_PCAPS();
  check_truncations("dpkt-1.9.8/dns_icmp.pcap", true);
  check_truncations("gopacket-1.1.19-pcapng/be/test101.pcapng", true);
  check_truncations("npm-pcap-parser-0.2.1/be.pcap", false);
  check_truncations("gopacket-1.1.19-pcapng/le/test202.pcapng", false);
  check_truncations("wireshark-4.0.17/many_interfaces.pcapng.3", false);
}

// Flips bytes one at a time: whatever the damage, the reader stays inside the buffer, hands out
// sane lengths and ends.
void check_corruptions(const std::vector<uint8_t>& full) {
  for (size_t pos = 0; pos < full.size(); ++pos) {
    for (uint8_t mask : {uint8_t(0xff), uint8_t(0x80), uint8_t(0x03)}) {
      std::vector<uint8_t> bad = full;
      bad[pos] ^= mask;
      const uint8_t* lo = bad.data();
      const uint8_t* hi = lo + bad.size();
      auto r = PcapFileReader::from_bytes(std::move(bad), "bad");
      if (!r.ok()) continue;
      std::vector<RawPacket> batch(16);
      size_t total = 0;
      while (size_t n = (*r)->read_batch(batch)) {
        for (size_t i = 0; i < n; ++i) {
          ASSERT_GE(batch[i].data, lo) << pos;
          ASSERT_LE(batch[i].data + batch[i].caplen, hi) << pos;
          ASSERT_LE(batch[i].caplen, kMaxCaplen);
          ASSERT_LT(batch[i].interface, (*r)->interfaces().size());
        }
        total += n;
        ASSERT_LE(total, full.size() / 12) << pos;
      }
      ASSERT_TRUE((*r)->finished());
    }
  }
}

TEST(PcapFileReader, CorruptBytesNeverCrash) {
  SKIP_WITHOUT_PCAPS();
  for (const char* rel :
       {"dpkt-1.9.8/dns_icmp.pcap", "gopacket-1.1.19-pcapng/le/test202.pcapng",
        "gopacket-1.1.19-pcapng/be/test102.pcapng", "gopacket-1.1.19-pcapng/le/test902.pcapng"}) {
    SCOPED_TRACE(rel);
    check_corruptions(read_file(pcap_path(rel)));
  }
}

TEST(PcapFileReader, RandomDamageNeverCrashes) {
  NgWriter w;
  w.idb(kLinkEthernet, 0, "eth0", 9).idb(kLinkRaw, 128, "", 0x80 | 20, 7);
  for (int i = 0; i < 40; ++i) {
    if (i % 5 == 0) {
      w.spb(payload(size_t(i * 3), uint8_t(i)));
    } else {
      w.epb(uint32_t(i % 2), uint64_t(i) << 30, payload(size_t(i * 5), uint8_t(i)));
    }
  }
  std::mt19937 rng(42);
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> bad = w.bytes();
    const int hits = 1 + int(rng() % 8);
    for (int h = 0; h < hits; ++h) bad[28 + rng() % (bad.size() - 28)] = uint8_t(rng());
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    auto r = PcapFileReader::from_bytes(std::move(bad), "bad");
    if (!r.ok()) continue;
    const ReadAll all = read_all(**r, 1 + rng() % 20, false);
    ASSERT_LE(all.packets.size(), 40u);
    for (const Packet& p : all.packets) ASSERT_LT(p.interface, all.interfaces.size());
  }
}

TEST(PcapFileReader, CorruptPcapngBlocks) {
  const auto base = [] {
    NgWriter w;
    w.idb(kLinkEthernet, 0, "eth0");
    w.epb(0, 1, payload(10, 1));
    return w;
  };
  // Length not a multiple of 4: the file ends there.
  {
    NgWriter w = base();
    std::vector<uint8_t>& b = w.bytes();
    const size_t at = b.size();
    w.epb(0, 2, payload(12, 2));
    b[at + 4] += 2;
    w.epb(0, 3, payload(8, 3));
    const ReadAll r = read_bytes(b);
    EXPECT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.stats.bad_records, 1u);
    EXPECT_TRUE(any_contains(r.warnings, "must be a multiple of 4")) << r.warnings.at(0);
  }
  // Length below the minimum of any block.
  {
    NgWriter w = base();
    w.bytes().insert(w.bytes().end(), {6, 0, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0});
    const ReadAll r = read_bytes(w.bytes());
    EXPECT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.stats.bad_records, 1u);
  }
  // Leading and trailing lengths differ.
  {
    NgWriter w = base();
    w.epb(0, 2, payload(12, 2));
    w.bytes()[w.bytes().size() - 4] ^= 0x40;
    const ReadAll r = read_bytes(w.bytes());
    EXPECT_EQ(r.packets.size(), 1u);
    EXPECT_TRUE(any_contains(r.warnings, "trailing length"));
  }
  // Well-delimited blocks that make no sense are skipped, and reading goes on.
  {
    NgWriter w = base();
    w.epb(5, 2, payload(12, 2));              // interface out of range
    w.block(6, std::vector<uint8_t>(16, 0));  // EPB shorter than its minimum
    Bytes epb;                                // caplen larger than the block
    for (uint32_t v : {0u, 0u, 3u, 1000u, 1000u}) epb.u32(v);
    epb.raw(payload(16, 1));
    w.block(6, epb.bytes());
    w.epb(0, 4, payload(kMaxCaplen + 4, 4));  // absurd caplen
    w.epb(0, 5, payload(10, 5));
    const ReadAll r = read_bytes(w.bytes());
    ASSERT_EQ(r.packets.size(), 2u);
    EXPECT_EQ(r.packets[1].ts, 5000);
    EXPECT_EQ(r.stats.bad_records, 4u);
    EXPECT_EQ(r.warnings.size(), 4u);
    EXPECT_TRUE(any_contains(r.warnings, "interface 5"));
    EXPECT_TRUE(any_contains(r.warnings, "exceeds 262144"));
  }
  // A section of an unknown major version ends the file; the sections before it stay.
  {
    NgWriter w = base();
    w.shb(false, 2);
    w.idb(kLinkEthernet);
    w.epb(0, 9, payload(10, 9));
    const ReadAll r = read_bytes(w.bytes());
    EXPECT_EQ(r.packets.size(), 1u);
    EXPECT_TRUE(any_contains(r.warnings, "version 2.0"));
  }
  // Warnings stop after 20; the count goes on.
  {
    NgWriter w = base();
    for (int i = 0; i < 100; ++i) w.epb(9, 2, payload(4, 2));
    const ReadAll r = read_bytes(w.bytes());
    EXPECT_EQ(r.stats.bad_records, 100u);
    EXPECT_EQ(r.warnings.size(), 21u);
    EXPECT_TRUE(contains(r.warnings.back(), "suppressed"));
  }
}

TEST(PcapFileReader, CorruptClassicRecords) {
  {
    PcapWriter w(false, false);
    w.packet(kSec, payload(10, 1));
    Bytes rec;
    for (uint32_t v : {1u, 0u, kMaxCaplen + 1, 100u}) rec.u32(v);
    w.bytes().insert(w.bytes().end(), rec.bytes().begin(), rec.bytes().end());
    w.bytes().resize(w.bytes().size() + kMaxCaplen + 1);
    const ReadAll r = read_bytes(w.bytes());
    EXPECT_EQ(r.packets.size(), 1u);
    EXPECT_EQ(r.stats.bad_records, 1u);
    EXPECT_TRUE(any_contains(r.warnings, "exceeds 262144")) << r.warnings.at(0);
  }
  {
    PcapWriter w(true, true);
    w.packet(kSec, payload(10, 1)).packet(2 * kSec, payload(100, 2));
    w.bytes().resize(w.bytes().size() - 1);
    const ReadAll r = read_bytes(w.bytes());
    EXPECT_EQ(r.packets.size(), 1u);
    EXPECT_TRUE(any_contains(r.warnings, "truncated record: 100 captured bytes announced, 99"));
  }
}

}  // namespace
}  // namespace flowkit::capture
