#include "gen/traffic_generator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "gen/payloads.h"
#include "gen/test_util.h"

namespace flowkit::gen {
namespace {

using testing::be16;
using testing::be32;
using testing::CapturedPacket;
using testing::Decoded;
using testing::file_bytes;
using testing::temp_path;

// Generates to a temporary file and reads it back with libpcap.
struct Generated {
  GeneratorStats stats;
  std::vector<CapturedPacket> packets;
};
Generated generate(const GeneratorOptions& o, const std::string& name) {
  std::string path = temp_path(name);
  auto r = write_generated_pcap(o, path);
  EXPECT_TRUE(r.ok()) << r.status().message();
  Generated g;
  if (r.ok()) g.stats = *r;
  std::string err;
  g.packets = testing::read_pcap(path, &err);
  EXPECT_EQ(err, "");
  std::remove(path.c_str());
  return g;
}

GeneratorOptions opts(uint64_t packets, uint64_t seed = 1) {
  GeneratorOptions o;
  o.packets = packets;
  o.seed = seed;
  return o;
}

// A 100k-packet capture shared by several tests (generated once).
const Generated& shared_capture() {
  static const Generated g = [] {
    GeneratorOptions o = opts(100000, 11);
    o.ipv6_share = 0.3;
    o.vlan_share = 0.3;
    return generate(o, "shared.pcap");
  }();
  return g;
}

TEST(TrafficGenerator, SameSeedSameBytesOtherSeedOtherBytes) {
  std::string a = temp_path("a.pcap"), b = temp_path("b.pcap"), c = temp_path("c.pcap");
  ASSERT_TRUE(write_generated_pcap(opts(30000, 5), a).ok());
  ASSERT_TRUE(write_generated_pcap(opts(30000, 5), b).ok());
  ASSERT_TRUE(write_generated_pcap(opts(30000, 6), c).ok());
  auto ba = file_bytes(a), bb = file_bytes(b), bc = file_bytes(c);
  EXPECT_GT(ba.size(), 30000u * 54);
  EXPECT_TRUE(ba == bb) << "same seed, different bytes";
  EXPECT_FALSE(ba == bc) << "different seeds, same bytes";
  for (auto& p : {a, b, c}) std::remove(p.c_str());
}

TEST(TrafficGenerator, NextMatchesTheFile) {
  auto gen = TrafficGenerator::create(opts(2000, 3));
  ASSERT_TRUE(gen.ok());
  Generated g = generate(opts(2000, 3), "next.pcap");
  std::vector<uint8_t> frame(TrafficGenerator::kMaxFrameSize);
  PacketMeta m;
  size_t i = 0;
  while ((*gen)->next(frame.data(), &m)) {
    ASSERT_LT(i, g.packets.size());
    ASSERT_EQ(m.length, g.packets[i].data.size());
    ASSERT_EQ(0, std::memcmp(frame.data(), g.packets[i].data.data(), m.length));
    ASSERT_EQ(m.ts.ns / 1000 * 1000, g.packets[i].ts_ns);  // the file holds microseconds
    ++i;
  }
  EXPECT_EQ(i, 2000u);
}

TEST(TrafficGenerator, LibpcapReadsTheRightCountInTimeOrder) {
  const Generated& g = shared_capture();
  ASSERT_EQ(g.packets.size(), 100000u);
  EXPECT_EQ(g.stats.packets, 100000u);
  EXPECT_EQ(g.packets.front().ts_ns, kDefaultStart.ns);
  uint64_t bytes = 0;
  for (size_t i = 0; i < g.packets.size(); ++i) {
    bytes += g.packets[i].data.size();
    ASSERT_LE(g.packets[i].data.size(), TrafficGenerator::kMaxFrameSize);
    if (i) {
      ASSERT_LE(g.packets[i - 1].ts_ns, g.packets[i].ts_ns) << "packet " << i;
    }
  }
  EXPECT_EQ(bytes, g.stats.bytes);
  for (size_t k = 0; k < kSessionKinds; ++k) {
    EXPECT_GT(g.stats.sessions[k], 0u) << session_kind_name(SessionKind(k));
  }
}

TEST(TrafficGenerator, EveryChecksumVerifies) {
  const Generated& g = shared_capture();
  std::map<std::string, int> verified;
  for (size_t i = 0; i < g.packets.size(); ++i) {
    const auto& p = g.packets[i].data;
    Decoded d;
    ASSERT_TRUE(testing::decode(p.data(), p.size(), &d)) << "packet " << i;
    if (d.version == 4) {
      ASSERT_TRUE(testing::sums_to_ones(d.ip, d.ip_header_len)) << "IPv4 header, packet " << i;
      ++verified["ipv4"];
    }
    if (d.fragment) continue;  // checked after reassembly
    uint32_t pseudo = testing::naive_pseudo(d.version, d.src, d.dst, d.proto, uint32_t(d.l4_len));
    switch (d.proto) {
      case 6:
        ASSERT_TRUE(testing::sums_to_ones(d.l4, d.l4_len, pseudo)) << "TCP, packet " << i;
        ++verified["tcp"];
        break;
      case 17:
        ASSERT_NE(be16(d.l4 + 6), 0) << "UDP without checksum, packet " << i;
        ASSERT_TRUE(testing::sums_to_ones(d.l4, d.l4_len, pseudo)) << "UDP, packet " << i;
        ++verified["udp"];
        break;
      case 1:
        ASSERT_TRUE(testing::sums_to_ones(d.l4, d.l4_len)) << "ICMP, packet " << i;
        ++verified["icmp"];
        break;
      case 58:
        ASSERT_TRUE(testing::sums_to_ones(d.l4, d.l4_len, pseudo)) << "ICMPv6, packet " << i;
        ++verified["icmpv6"];
        break;
      default:
        FAIL() << "unexpected protocol " << int(d.proto) << " in packet " << i;
    }
  }
  for (const char* k : {"ipv4", "tcp", "udp", "icmp", "icmpv6"}) EXPECT_GT(verified[k], 0) << k;
}

TEST(TrafficGenerator, FragmentsReassembleToWholeDatagrams) {
  const Generated& g = shared_capture();
  struct Piece {
    uint32_t offset;
    std::vector<uint8_t> bytes;
    bool more;
    size_t order;
  };
  struct Datagram {
    int version;
    uint8_t src[16], dst[16];
    std::vector<Piece> pieces;
  };
  std::map<std::string, Datagram> datagrams;
  for (size_t i = 0; i < g.packets.size(); ++i) {
    const auto& p = g.packets[i].data;
    Decoded d;
    ASSERT_TRUE(testing::decode(p.data(), p.size(), &d));
    if (!d.fragment) continue;
    std::string key(reinterpret_cast<const char*>(d.src), 16);
    key.append(reinterpret_cast<const char*>(d.dst), 16);
    key += std::to_string(d.version) + ":" + std::to_string(d.frag_id);
    Datagram& dg = datagrams[key];
    dg.version = d.version;
    std::memcpy(dg.src, d.src, 16);
    std::memcpy(dg.dst, d.dst, 16);
    dg.pieces.push_back({d.frag_offset, {d.l4, d.l4 + d.l4_len}, d.more_fragments, i});
  }
  ASSERT_GT(datagrams.size(), 50u);
  EXPECT_EQ(g.stats.fragments,
            size_t(std::count_if(g.packets.begin(), g.packets.end(), [](const auto& c) {
              Decoded d;
              return testing::decode(c.data.data(), c.data.size(), &d) && d.fragment;
            })));
  int reordered = 0, v6 = 0, complete = 0;
  for (auto& [key, dg] : datagrams) {
    // The last fragment of the capture may belong to a datagram the packet limit cut short.
    auto by_time = dg.pieces;
    std::sort(dg.pieces.begin(), dg.pieces.end(),
              [](const Piece& a, const Piece& b) { return a.offset < b.offset; });
    if (dg.pieces.back().more || dg.pieces.front().offset != 0) continue;
    bool contiguous = true;
    std::vector<uint8_t> whole;
    for (const Piece& pc : dg.pieces) {
      contiguous &= pc.offset == whole.size();
      whole.insert(whole.end(), pc.bytes.begin(), pc.bytes.end());
    }
    if (!contiguous) continue;  // a middle fragment is beyond the packet limit
    ++complete;
    for (size_t i = 0; i + 1 < dg.pieces.size(); ++i) {
      EXPECT_TRUE(dg.pieces[i].more);
      EXPECT_EQ(dg.pieces[i].bytes.size() % 8, 0u);
    }
    ASSERT_GE(whole.size(), 8u);
    EXPECT_EQ(be16(&whole[4]), whole.size()) << "UDP length vs reassembled length";
    EXPECT_GT(whole.size(), dg.version == 4 ? 1480u : 1448u);
    uint32_t pseudo = testing::naive_pseudo(dg.version, dg.src, dg.dst, 17, uint32_t(whole.size()));
    EXPECT_TRUE(testing::sums_to_ones(whole.data(), whole.size(), pseudo)) << "UDP checksum";
    EXPECT_EQ(be16(&whole[0]), 53);            // a DNS response
    EXPECT_EQ(be16(&whole[8 + 6]) > 0, true);  // with answers
    if (by_time.front().offset != 0) ++reordered;
    if (dg.version == 6) ++v6;
  }
  EXPECT_GT(complete, 50);
  EXPECT_GT(reordered, 0) << "no datagram sent a later fragment first";
  EXPECT_GT(v6, 0) << "no IPv6 fragment headers";
}

// Sequence and acknowledgment numbers of every TCP packet follow from the ones before.
TEST(TrafficGenerator, TcpSequenceAndAckNumbersAreConsistent) {
  const Generated& g = shared_capture();
  struct Conn {
    bool init[2] = {false, false};
    uint32_t next[2] = {0, 0};
    bool fin[2] = {false, false};
    bool rst = false;
    bool data = false;
  };
  std::map<std::string, Conn> conns;
  std::vector<std::string> problems;
  int packets = 0;
  for (size_t i = 0; i < g.packets.size(); ++i) {
    const auto& p = g.packets[i].data;
    Decoded d;
    ASSERT_TRUE(testing::decode(p.data(), p.size(), &d));
    if (d.proto != 6 || d.fragment) continue;
    ++packets;
    const uint8_t* t = d.l4;
    uint16_t sport = be16(t), dport = be16(t + 2);
    uint32_t seq = be32(t + 4), ack = be32(t + 8);
    uint8_t flags = t[13];
    size_t len = d.l4_len - size_t(t[12] >> 4) * 4;
    std::string a(reinterpret_cast<const char*>(d.src), 16),
        b(reinterpret_cast<const char*>(d.dst), 16);
    a += std::to_string(sport);
    b += std::to_string(dport);
    int dir = a < b ? 0 : 1;
    std::string key = dir == 0 ? a + "|" + b : b + "|" + a;
    const bool syn = flags & 0x02, fin = flags & 0x01, rst = flags & 0x04, has_ack = flags & 0x10;
    if (syn && !has_ack && conns.count(key) && conns[key].init[1 - dir]) conns.erase(key);
    Conn& c = conns[key];
    auto problem = [&](const std::string& what) {
      if (problems.size() < 10) problems.push_back("packet " + std::to_string(i) + ": " + what);
    };
    if (syn) {
      if (c.init[dir] && c.next[dir] != seq + 1) problem("SYN retransmission with a new ISN");
      c.init[dir] = true;
      c.next[dir] = seq + 1;
    } else if (c.init[dir]) {
      if (seq != c.next[dir])
        problem("seq " + std::to_string(seq) + " expected " + std::to_string(c.next[dir]));
      c.next[dir] = seq + uint32_t(len) + (fin ? 1 : 0);
    } else if (!rst) {
      problem("data before SYN");
    }
    if (has_ack && c.init[1 - dir] && ack != c.next[1 - dir]) {
      problem("ack " + std::to_string(ack) + " expected " + std::to_string(c.next[1 - dir]));
    }
    c.fin[dir] |= fin;
    c.rst |= rst;
    c.data |= len > 0;
  }
  EXPECT_TRUE(problems.empty()) << [&] {
    std::string s;
    for (auto& p : problems) s += p + "\n";
    return s;
  }();
  int closed = 0, reset = 0, with_data = 0;
  for (auto& [k, c] : conns) {
    closed += c.fin[0] && c.fin[1];
    reset += c.rst;
    with_data += c.data;
  }
  EXPECT_GT(packets, 10000);
  EXPECT_GT(closed, 50);
  EXPECT_GT(reset, 10);
  EXPECT_GT(with_data, 100);
}

TEST(TrafficGenerator, ApplicationPayloadsLookRight) {
  const Generated& g = shared_capture();
  auto names = host_names();
  std::set<std::string> known(names.begin(), names.end());
  int hellos = 0, requests = 0, dns_matched = 0;
  std::map<std::string, uint16_t> dns_queries;
  for (const auto& c : g.packets) {
    Decoded d;
    ASSERT_TRUE(testing::decode(c.data.data(), c.data.size(), &d));
    if (d.fragment) continue;
    if (d.proto == 6) {
      const uint8_t* pl = d.l4 + size_t(d.l4[12] >> 4) * 4;
      size_t len = d.l4_len - size_t(d.l4[12] >> 4) * 4;
      uint16_t dport = be16(d.l4 + 2);
      if ((dport == 443 || dport == 8443) && len > 5 && pl[0] == 22 && pl[1] == 3 && pl[5] == 1) {
        // SNI: find the server_name extension's host name and check it is a real one.
        std::string s(reinterpret_cast<const char*>(pl), len);
        bool found = false;
        for (const auto& n : known) found |= s.find(n) != std::string::npos;
        EXPECT_TRUE(found);
        ++hellos;
      }
      if (dport == 80 && len > 4 && std::memcmp(pl, "GET ", 4) == 0) {
        std::string s(reinterpret_cast<const char*>(pl), len);
        auto h = s.find("\r\nHost: ");
        ASSERT_NE(h, std::string::npos);
        std::string host = s.substr(h + 8, s.find("\r\n", h + 8) - h - 8);
        EXPECT_TRUE(known.count(host)) << host;
        ++requests;
      }
    }
    if (d.proto == 17) {
      uint16_t sport = be16(d.l4), dport = be16(d.l4 + 2);
      std::string client(reinterpret_cast<const char*>(dport == 53 ? d.src : d.dst), 16);
      client += std::to_string(dport == 53 ? sport : dport);
      uint16_t id = be16(d.l4 + 8);
      if (dport == 53) {
        dns_queries[client] = id;
      } else if (sport == 53) {
        ASSERT_TRUE(dns_queries.count(client))
            << "response without query, packet " << (&c - &g.packets[0]);
        EXPECT_EQ(dns_queries[client], id);
        ++dns_matched;
      }
    }
  }
  EXPECT_GT(hellos, 100);
  EXPECT_GT(requests, 20);
  EXPECT_GT(dns_matched, 1000);
}

TEST(TrafficGenerator, AboutTenPacketsPerFlow) {
  const Generated& g = shared_capture();
  std::set<std::string> flows;
  for (const auto& c : g.packets) {
    Decoded d;
    ASSERT_TRUE(testing::decode(c.data.data(), c.data.size(), &d));
    std::string a(reinterpret_cast<const char*>(d.src), 16),
        b(reinterpret_cast<const char*>(d.dst), 16);
    if (!d.fragment && (d.proto == 6 || d.proto == 17)) {
      a += std::to_string(be16(d.l4));
      b += std::to_string(be16(d.l4 + 2));
    } else if (!d.fragment) {
      a += std::to_string(be16(d.l4 + 4));  // ICMP echo id
    } else {
      continue;  // fragments belong to their DNS flow
    }
    flows.insert(std::min(a, b) + std::max(a, b) + char(d.proto));
  }
  double per_flow = double(g.packets.size()) / double(flows.size());
  EXPECT_GT(per_flow, 5.0);
  EXPECT_LT(per_flow, 20.0);
}

TEST(TrafficGenerator, SharesAndHostsShapeTheTraffic) {
  GeneratorOptions o = opts(20000, 2);
  o.ipv6_share = 0;
  o.vlan_share = 0;
  o.hosts = 300;
  Generated v4 = generate(o, "v4.pcap");
  std::set<uint32_t> clients;
  for (const auto& c : v4.packets) {
    Decoded d;
    ASSERT_TRUE(testing::decode(c.data.data(), c.data.size(), &d));
    EXPECT_EQ(d.version, 4);
    EXPECT_EQ(d.vlan_tags, 0);
    if (d.src[0] == 10 && d.src[1] != 0) clients.insert(be32(d.src));
  }
  EXPECT_LE(clients.size(), 300u);
  EXPECT_GT(clients.size(), 200u);
  EXPECT_EQ(v4.stats.ipv6_packets, 0u);

  o.ipv6_share = 1;
  o.vlan_share = 1;
  o.start = Timestamp::from_seconds(1'600'000'000);
  Generated v6 = generate(o, "v6.pcap");
  int qinq = 0;
  for (const auto& c : v6.packets) {
    Decoded d;
    ASSERT_TRUE(testing::decode(c.data.data(), c.data.size(), &d));
    EXPECT_EQ(d.version, 6);
    EXPECT_GE(d.vlan_tags, 1);
    qinq += d.vlan_tags == 2;
  }
  EXPECT_GT(qinq, 0);
  EXPECT_EQ(v6.packets.front().ts_ns, 1'600'000'000'000'000'000);
}

TEST(TrafficGenerator, ByteTargetStopsNearIt) {
  GeneratorOptions o = opts(0, 4);
  o.bytes = 5'000'000;
  Generated g = generate(o, "bytes.pcap");
  EXPECT_GE(g.stats.bytes, 5'000'000u);
  EXPECT_LT(g.stats.bytes, 5'000'000u + TrafficGenerator::kMaxFrameSize);
  EXPECT_EQ(g.packets.size(), g.stats.packets);
}

TEST(TrafficGenerator, RejectsBadOptions) {
  GeneratorOptions o;
  o.ipv6_share = 1.5;
  EXPECT_FALSE(TrafficGenerator::create(o).ok());
  o = {};
  o.vlan_share = -0.1;
  EXPECT_FALSE(TrafficGenerator::create(o).ok());
  o = {};
  o.packets = 0;
  EXPECT_FALSE(TrafficGenerator::create(o).ok());
  o = {};
  o.weights.fill(0);
  EXPECT_FALSE(TrafficGenerator::create(o).ok());
  o = {};
  o.sessions_per_second = 0;
  EXPECT_FALSE(TrafficGenerator::create(o).ok());
  EXPECT_FALSE(write_generated_pcap(GeneratorOptions{}, "/nonexistent-dir/x.pcap").ok());
}

// Runs a shell command and returns its standard output.
std::string run(const std::string& cmd) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  return out;
}

// Frames tshark flags as errors (malformed, bad checksums) with checksum validation on.
int tshark_errors(const std::string& path) {
  std::string out =
      run("tshark -n -r '" + path +
          "' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE"
          " -Y '_ws.expert.severity == \"Error\" || _ws.malformed || ip.checksum.status == \"Bad\""
          " || tcp.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\""
          " || icmp.checksum.status == \"Bad\" || icmpv6.checksum.status == \"Bad\"'"
          " -T fields -e frame.number 2>/dev/null");
  return int(std::count(out.begin(), out.end(), '\n'));
}

TEST(TrafficGenerator, TsharkFindsNoMalformedPacketsOrBadChecksums) {
  if (run("command -v tshark").empty()) GTEST_SKIP() << "tshark is not installed";
  GeneratorOptions o = opts(40000, 9);
  o.ipv6_share = 0.3;
  o.vlan_share = 0.3;
  std::string path = temp_path("tshark.pcap");
  ASSERT_TRUE(write_generated_pcap(o, path).ok());
  std::string count = run("tshark -n -r '" + path + "' 2>/dev/null | wc -l");
  ASSERT_EQ(std::stoi(count), 40000) << "tshark did not read the file";
  EXPECT_EQ(tshark_errors(path), 0);

  // The check must catch a broken checksum: corrupt one TCP payload byte and look again.
  std::string err;
  auto packets = testing::read_pcap(path, &err);
  std::string bad = temp_path("tshark_bad.pcap");
  {
    auto w = PcapWriter::open(bad);
    ASSERT_TRUE(w.ok());
    bool corrupted = false;
    for (auto& c : packets) {
      Decoded d;
      if (!corrupted && testing::decode(c.data.data(), c.data.size(), &d) && d.proto == 6 &&
          d.l4_len > 100) {
        c.data[c.data.size() - 1] ^= 0x5a;
        corrupted = true;
      }
      (*w)->write(Timestamp{c.ts_ns}, c.data);
    }
    ASSERT_TRUE((*w)->finish().ok());
  }
  EXPECT_GE(tshark_errors(bad), 1);
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

}  // namespace
}  // namespace flowkit::gen
