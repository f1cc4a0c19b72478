#include "ipfix/encoder.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "capture/merged_source.h"
#include "core/byte_io.h"
#include "core/field_registry.h"
#include "core/testing/collecting_sink.h"
#include "gen/pcap_writer.h"
#include "gen/traffic_generator.h"
#include "ipfix/decoder.h"
#include "meter/meter.h"

namespace flowkit::ipfix {
namespace {

using Keep = flowkit::testing::CollectingSink;

// Flows of generated traffic (IPv4, IPv6, VLAN, QinQ, ICMP, fragments), plus hand-made ones with
// the rare layers: a tunnel, MPLS, asymmetric MACs, and a uniflow.
std::vector<FlowRecord> sample_flows(bool biflow) {
  gen::GeneratorOptions g;
  g.seed = 3;
  g.packets = 20000;
  auto gen = gen::TrafficGenerator::create(g);
  meter::MeterOptions o;
  o.key.biflow = biflow;
  // The records view strings in their sink's arena: kept for the whole test program.
  static std::deque<Keep> sinks;
  Keep& keep = sinks.emplace_back();
  meter::Meter m(o, keep);
  std::vector<std::vector<uint8_t>> frames;
  uint8_t frame[gen::TrafficGenerator::kMaxFrameSize];
  gen::PacketMeta meta;
  while ((*gen)->next(frame, &meta)) {
    capture::RawPacket p;
    p.ts = meta.ts;
    p.data = frame;
    p.caplen = p.wirelen = meta.length;
    p.linktype = 1;
    m.process(std::span(&p, 1));
  }
  m.flush();
  FlowRecord t = keep.flows.front();
  t.tunnel_type = TunnelType::kVxlan;
  t.tunnel_id = 4242;
  t.outer_src_ip = *IpAddress::parse("2001:db8::1");
  t.outer_dst_ip = *IpAddress::parse("2001:db8::2");
  t.fwd.bytes_outer = 999;
  t.fwd.mpls_depth = 2;
  t.fwd.mpls_label[0] = 272 << 4;
  t.fwd.mpls_label[1] = 305 << 4 | 1;
  t.fwd.vlan_depth = 2;
  t.fwd.vlan_id = 10;
  t.fwd.vlan_id_inner = 20;
  t.fwd.first = Timestamp{t.fwd.first.ns + 123'456'789};
  t.fwd.last = Timestamp{t.fwd.first.ns + 5'864'197'532};
  if (biflow) {
    t.rev.packets = 3;
    t.rev.bytes = 300;
    t.rev.first = t.fwd.first;
    t.rev.last = t.fwd.last;
    t.rev.has_mac = true;
    t.rev.src_mac = *MacAddress::parse("aa:bb:cc:dd:ee:ff");
    t.rev.bytes_outer = 333;
  }
  keep.flows.push_back(t);
  // What a router sends, and strings and lists (static storage: the records outlive `keep`).
  static const DnsAnswer answers[] = {
      {"example.com", 1, 1, 300, "93.184.216.34"},
      {"caf\xc3\xa9.example", 5, 1, 0, ""},
      {"", 28, 1, 4294967295u, "2001:db8::\"quoted\", with\nnewline"}};
  for (bool v6 : {false, true}) {
    FlowRecord u = keep.flows[v6 ? 1 : 0];
    auto set = [&](FieldId id, FieldValue v, Direction d = Direction::kForward) {
      ASSERT_TRUE(field_info(id).set(u, d, v)) << field_info(id).name;
    };
    auto ip = [&](const char* a4, const char* a6) { return *IpAddress::parse(v6 ? a6 : a4); };
    set(FieldId::kExporterIp, ip("192.0.2.1", "2001:db8::a"));
    set(FieldId::kFlowDirection, uint64_t(1));
    set(FieldId::kSrcAs, uint64_t(64512));
    set(FieldId::kDstAs, uint64_t(4200000000u));
    set(FieldId::kSrcMask, uint64_t(v6 ? 48 : 24));
    set(FieldId::kDstMask, uint64_t(0));
    set(FieldId::kNextHop, ip("192.0.2.254", "fe80::1"));
    set(FieldId::kBgpNextHop, ip("198.51.100.1", "2001:db8:1::1"));
    set(FieldId::kSamplingAlgorithm, uint64_t(1));
    set(FieldId::kForwardingStatus, uint64_t(64));
    set(FieldId::kPostNatSrcIp, ip("203.0.113.5", "2001:db8:2::5"));
    set(FieldId::kPostNatDstIp, ip("203.0.113.6", "2001:db8:2::6"));
    set(FieldId::kPostNatSrcPort, uint64_t(40000));
    set(FieldId::kPostNatDstPort, uint64_t(0));
    set(FieldId::kOutIf, uint64_t(7));
    set(FieldId::kInterfaceName, std::string_view(v6 ? "" : "eth0 \"uplink\""));
    set(FieldId::kDnsRespRr, ListRef{answers, v6 ? 0u : 3u, &field_info(FieldId::kDnsRespRr)});
    if (biflow && u.rev.packets) {
      set(FieldId::kInIf, uint64_t(2), Direction::kReverse);
      set(FieldId::kInterfaceName, std::string_view("wlan0"), Direction::kReverse);
    }
    keep.flows.push_back(u);
  }
  return keep.flows;
}

struct Encoded {
  std::vector<std::vector<uint8_t>> messages;
  Arena arena;  // the decoded records' strings and lists
  std::vector<FlowRecord> decoded;
  DecoderStats stats;
  EncoderStats sent;
};

// The uniflow records an encoder that splits biflows sends for `r`.
void append_uniflows(const FlowRecord& r, std::vector<FlowRecord>& out) {
  out.push_back(forward_half(r));
  if (r.rev.packets) out.push_back(reverse_half(r));
}

Encoded round_trip(const std::vector<FlowRecord>& flows, EncoderOptions o) {
  Encoded e;
  Timestamp init = flows.front().first();
  for (const FlowRecord& r : flows) init = std::min(init, r.first());
  auto enc = make_encoder(
      o, init, [&](std::span<const uint8_t> m) { e.messages.emplace_back(m.begin(), m.end()); },
      nullptr);
  Timestamp now = init;
  for (const FlowRecord& r : flows) {
    now = std::max(now, r.last());
    enc->add(r, now);
  }
  enc->flush(now);
  e.sent = enc->stats();
  Decoder dec(o.elements.pen);
  for (const auto& m : e.messages) EXPECT_TRUE(dec.decode(m, e.decoded, e.arena).ok());
  e.stats = dec.stats();
  return e;
}

bool empty_variable(const FieldValue& v) {
  if (const auto* s = std::get_if<std::string_view>(&v)) return s->empty();
  if (const auto* l = std::get_if<ListRef>(&v)) return l->size == 0;
  return false;
}

// Records that came back with their strings and lists empty: too long for one message, so the
// encoder sent them so (EncoderStats::truncated_records).
size_t emptied_records = 0;

// Every field the original has (and its format carries) must come back equal.
void expect_same(const FlowRecord& want, const FlowRecord& got, bool (*carried)(const FieldInfo&),
                 int64_t time_unit_ns, size_t i) {
  bool emptied = false;
  for (const FieldInfo& f : all_fields()) {
    // The decoder names the observation domain of every record it reads.
    if (f.derived || !carried(f) || f.id == FieldId::kObservationDomain) continue;
    for (Direction d : {Direction::kForward, Direction::kReverse}) {
      if (f.scope == FieldScope::kFlow && d == Direction::kReverse) break;
      bool present = field_present(f, want, d);
      ASSERT_EQ(field_present(f, got, d), present)
          << "record " << i << " " << f.name << " dir " << int(d);
      if (!present) continue;
      FieldValue a = f.get(want, d), b = f.get(got, d);
      if (empty_variable(b) && !empty_variable(a)) {
        emptied = true;
        continue;
      }
      if (f.type == FieldType::kTime) {
        a = Timestamp{std::get<Timestamp>(a).ns / time_unit_ns * time_unit_ns};
      }
      EXPECT_EQ(a, b) << "record " << i << " " << f.name << (d == Direction::kReverse ? "_rev" : "")
                      << " want " << want.src_ip.to_string() << ":" << want.src_port << " "
                      << want.fwd.first.ns << " got " << got.src_ip.to_string() << ":"
                      << got.src_port << " " << got.fwd.first.ns;
    }
  }
  emptied_records += emptied;
}

bool ipfix_carries(const FieldInfo& f) {
  return f.ipfix.id != kNoElement || f.id == FieldId::kIcmpType || f.id == FieldId::kIcmpCode;
}
bool v9_carries(const FieldInfo& f) {
  return f.nf9.id != 0 || f.id == FieldId::kIcmpType || f.id == FieldId::kIcmpCode;
}

TEST(IpfixRoundTrip, EveryFieldOfBiflowsAtNanosecondPrecision) {
  auto flows = sample_flows(true);
  EncoderOptions o;
  o.elements.time = TimePrecision::kNanoseconds;
  Encoded e = round_trip(flows, o);
  ASSERT_EQ(e.decoded.size(), flows.size());
  EXPECT_EQ(e.stats.template_limit, 0u);
  EXPECT_EQ(e.stats.lost_records, 0u);
  EXPECT_EQ(e.stats.missing_template, 0u);
  EXPECT_EQ(e.stats.bad_fields, 0u);
  emptied_records = 0;
  for (size_t i = 0; i < flows.size(); ++i)
    expect_same(flows[i], e.decoded[i], ipfix_carries, 1, i);
  // Large DNS responses among them: each that came back emptied was counted as sent so.
  EXPECT_GT(e.sent.truncated_records, 0u);
  EXPECT_EQ(emptied_records, e.sent.truncated_records);
  for (const auto& m : e.messages) EXPECT_LE(m.size(), o.max_message);
}

TEST(IpfixRoundTrip, MillisecondsMicrosecondsAndUniflows) {
  auto flows = sample_flows(false);
  for (auto [p, unit] : {std::pair{TimePrecision::kMilliseconds, 1'000'000},
                         {TimePrecision::kMicroseconds, 1'000}}) {
    EncoderOptions o;
    o.elements.time = p;
    Encoded e = round_trip(flows, o);
    ASSERT_EQ(e.decoded.size(), flows.size());
    for (size_t i = 0; i < flows.size(); ++i)
      expect_same(flows[i], e.decoded[i], ipfix_carries, unit, i);
  }
}

TEST(IpfixRoundTrip, SplitBiflowsForCollectorsWithoutRfc5103) {
  auto flows = sample_flows(true);
  EncoderOptions o;
  o.split_biflows = true;
  o.elements.time = TimePrecision::kNanoseconds;
  Encoded e = round_trip(flows, o);
  std::vector<FlowRecord> want;
  for (const FlowRecord& r : flows) append_uniflows(r, want);
  ASSERT_EQ(e.decoded.size(), want.size());
  emptied_records = 0;
  for (size_t i = 0; i < want.size(); ++i) expect_same(want[i], e.decoded[i], ipfix_carries, 1, i);
  EXPECT_EQ(emptied_records, e.sent.truncated_records);
}

TEST(Netflow9RoundTrip, FieldsV9HasSplitIntoUniflows) {
  auto flows = sample_flows(true);
  EncoderOptions o;
  o.format = Format::kNetflow9;
  Encoded e = round_trip(flows, o);
  std::vector<FlowRecord> want;
  for (const FlowRecord& r : flows) append_uniflows(r, want);
  ASSERT_EQ(e.decoded.size(), want.size());
  EXPECT_EQ(e.stats.lost_messages, 0u);
  for (size_t i = 0; i < want.size(); ++i) {
    // v9 has no tunnel, end reason or reverse elements; compare what it carries.
    FlowRecord w = want[i];
    w.end_reason = EndReason::kUnknown;
    w.tunnel_type = TunnelType::kNone;
    w.fwd.bytes_outer = 0;
    w.has_stats = false;
    w.fwd.pkt_size = w.rev.pkt_size = {};
    w.fwd.piat = {};
    w.pkt_size = w.piat = {};
    FlowRecord g = e.decoded[i];
    g.has_stats = false;
    g.fwd.pkt_size = {};
    expect_same(w, g, v9_carries, 1'000'000, i);
    EXPECT_EQ(g.fwd.pkt_size, SummaryStats{}) << i;
  }
  for (const auto& m : e.messages) EXPECT_LE(m.size(), o.max_message);
}

TEST(Netflow5RoundTrip, Ipv4FieldsAndCountedIpv6) {
  auto flows = sample_flows(true);
  EncoderOptions o;
  o.format = Format::kNetflow5;
  std::vector<FlowRecord> want;
  size_t v6 = 0;
  for (const FlowRecord& r : flows) {
    if (r.ip_version != 4) {
      ++v6;
      continue;
    }
    append_uniflows(r, want);
  }
  Encoded e = round_trip(flows, o);
  EXPECT_EQ(e.sent.not_exportable, v6);
  EXPECT_GT(v6, 0u);
  for (const auto& m : e.messages) EXPECT_LE(load_be16(m.data() + 2), 30);
  ASSERT_EQ(e.decoded.size(), want.size());
  EXPECT_EQ(e.stats.lost_records, 0u);
  for (size_t i = 0; i < want.size(); ++i) {
    const FlowRecord &w = want[i], &g = e.decoded[i];
    EXPECT_EQ(g.src_ip, w.src_ip);
    EXPECT_EQ(g.dst_ip, w.dst_ip);
    EXPECT_EQ(g.protocol, w.protocol);
    if (w.protocol != 1) {
      EXPECT_EQ(g.src_port, w.src_port);
      EXPECT_EQ(g.dst_port, w.dst_port);
    } else {
      EXPECT_EQ(g.fwd.icmp_type, w.fwd.icmp_type);
      EXPECT_EQ(g.fwd.icmp_code, w.fwd.icmp_code);
    }
    EXPECT_EQ(g.fwd.packets, w.fwd.packets);
    EXPECT_EQ(g.fwd.bytes, w.fwd.bytes);
    EXPECT_EQ(g.fwd.first.millis(), w.fwd.first.millis()) << i;
    EXPECT_EQ(g.fwd.last.millis(), w.fwd.last.millis()) << i;
    EXPECT_EQ(g.fwd.tcp_flags, w.fwd.tcp_flags);
    EXPECT_EQ(g.fwd.tos, w.fwd.tos);
  }
}

TEST(Ipfix, SequenceCountsDataRecordsAndTemplatesRepeat) {
  auto flows = sample_flows(true);
  EncoderOptions o;
  o.template_refresh_messages = 5;
  o.template_refresh_ns = 0;
  Encoded e = round_trip(flows, o);
  ASSERT_GT(e.messages.size(), 20u);
  Decoder dec;
  Arena arena;
  std::vector<FlowRecord> out;
  uint64_t records_before = 0;
  std::vector<size_t> with_templates;
  for (size_t i = 0; i < e.messages.size(); ++i) {
    const auto& m = e.messages[i];
    EXPECT_EQ(load_be32(m.data() + 8), uint32_t(records_before)) << "message " << i;
    for (size_t off = 16; off + 4 <= m.size(); off += load_be16(m.data() + off + 2)) {
      uint16_t set = load_be16(m.data() + off);
      if (set == 2 || set == 3) {
        with_templates.push_back(i);
        break;
      }
    }
    uint64_t options_before = dec.stats().options_records;
    size_t flows_before = out.size();
    ASSERT_TRUE(dec.decode(m, out, arena).ok());
    records_before += (out.size() - flows_before) + (dec.stats().options_records - options_before);
  }
  EXPECT_EQ(dec.stats().lost_records, 0u);
  // Templates (and options templates) at the start, then again every 5 messages.
  ASSERT_GE(with_templates.size(), e.messages.size() / 6);
  EXPECT_EQ(with_templates.front(), 0u);
}

TEST(Ipfix, TemplatesRepeatByExportTime) {
  auto flows = sample_flows(true);
  EncoderOptions o;
  o.template_refresh_messages = 0;
  o.template_refresh_ns = 10 * kNanosPerSecond;
  std::vector<std::pair<Timestamp, std::vector<uint8_t>>> messages;
  Timestamp now = flows.front().first();
  auto enc = make_encoder(
      o, now,
      [&](std::span<const uint8_t> m) {
        messages.emplace_back(now, std::vector<uint8_t>(m.begin(), m.end()));
      },
      nullptr);
  // One flow per simulated second for a minute: templates at 0, then every 10 s.
  for (size_t i = 0; i < 60; ++i) {
    now = Timestamp{now.ns + kNanosPerSecond};
    enc->add(flows[i], now);
    enc->flush(now);
  }
  std::vector<int64_t> template_times;
  for (const auto& [t, m] : messages) {
    for (size_t off = 16; off + 4 <= m.size(); off += load_be16(m.data() + off + 2)) {
      if (load_be16(m.data() + off) == 3) {
        template_times.push_back(t.seconds());
        break;
      }
    }
  }
  ASSERT_EQ(template_times.size(), 6u);
  for (size_t i = 1; i < template_times.size(); ++i)
    EXPECT_EQ(template_times[i] - template_times[i - 1], 10);
}

// Every field of every flow of real captures (all CESNET FlowTest captures: tunnels, MPLS,
// VLANs, IPv6 extension headers, fragments; and a few large mixes) survives IPFIX and v9.
TEST(RoundTrip, SharedCaptures) {
  std::string shared = FLOWKIT_SHARED_DIR;
  if (!std::filesystem::exists(shared + "/flowtest/pcaps")) GTEST_SKIP() << shared << " not found";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(shared + "/flowtest/pcaps"))
    files.push_back(e.path());
  for (const char* f : {"/pcaps/ndpi-4.2/pinterest.pcap", "/pcaps/ndpi-4.2/zoom2.pcap",
                        "/pcaps/ndpi-4.2/instagram.pcap", "/pcaps/ndpi-4.2/chrome.pcap",
                        "/pcaps/ndpi-4.2/dnscrypt-v1-and-resolver-pings.pcap",
                        "/pcaps/ndpi-4.2/6in4tunnel.pcap", "/pcaps/ndpi-4.2/teredo.pcap",
                        "/pcaps/generated/scapy_synthetic.pcap", "/pcaps/tcpdump-4.99.3/vxlan.pcap",
                        "/pcaps/tcpdump-4.99.3/geneve.pcap", "/pcaps/tcpdump-4.99.3/pppoe.pcap"})
    files.push_back(shared + f);
  std::sort(files.begin(), files.end());
  size_t total = 0;
  for (const std::string& file : files) {
    auto src = capture::open_capture_files({file});
    ASSERT_TRUE(src.ok()) << file;
    Keep keep;
    meter::Meter m(meter::MeterOptions{}, keep);
    std::vector<capture::RawPacket> batch(256);
    while (size_t n = (*src)->read_batch(batch)) m.process(std::span(batch.data(), n));
    m.flush();
    if (keep.flows.empty()) continue;
    total += keep.flows.size();
    EncoderOptions o;
    o.elements.time = TimePrecision::kNanoseconds;
    Encoded e = round_trip(keep.flows, o);
    ASSERT_EQ(e.decoded.size(), keep.flows.size()) << file;
    for (size_t i = 0; i < keep.flows.size(); ++i)
      expect_same(keep.flows[i], e.decoded[i], ipfix_carries, 1, i);
    o.format = Format::kNetflow9;
    Encoded v9 = round_trip(keep.flows, o);
    size_t halves = 0;
    for (const FlowRecord& r : keep.flows) halves += r.rev.packets ? 2 : 1;
    EXPECT_EQ(v9.decoded.size(), halves) << file;
    EXPECT_EQ(v9.stats.bad_fields, 0u) << file;
  }
  EXPECT_GT(total, 400u);
}

TEST(Ipfix, VariableLengthFieldsUseOneAndThreeByteLengths) {
  for (size_t n : {0, 1, 254, 255, 256, 300, 65535, 70000}) {
    std::vector<uint8_t> v;
    append_varlen(v, std::string(n, 'x'));
    size_t kept = std::min<size_t>(n, 65535);
    if (kept < 255) {
      ASSERT_EQ(v.size(), 1 + kept);
      EXPECT_EQ(v[0], kept);
    } else {
      ASSERT_EQ(v.size(), 3 + kept);
      EXPECT_EQ(v[0], 255);
      EXPECT_EQ(size_t(v[1] << 8 | v[2]), kept);
    }
  }
  // The decoder walks both forms: a template with a string (varlen) before the source port.
  for (size_t n : {10, 300}) {
    std::vector<uint8_t> m(16, 0);
    store_be16(m.data(), 10);
    std::vector<uint8_t> tmpl = {0, 2, 0, 16, 1, 0, 0, 2, 0x01, 0x55, 0xff, 0xff, 0, 7, 0, 2};
    m.insert(m.end(), tmpl.begin(), tmpl.end());
    std::vector<uint8_t> rec;
    append_varlen(rec, std::string(n, 'a'));
    rec.push_back(0x12);
    rec.push_back(0x34);
    m.push_back(1);
    m.push_back(0);
    m.push_back(uint8_t((rec.size() + 4) >> 8));
    m.push_back(uint8_t(rec.size() + 4));
    m.insert(m.end(), rec.begin(), rec.end());
    store_be16(m.data() + 2, uint16_t(m.size()));
    Decoder dec;
    Arena arena;
    std::vector<FlowRecord> out;
    ASSERT_TRUE(dec.decode(m, out, arena).ok());
    ASSERT_EQ(out.size(), 1u) << n;
    EXPECT_EQ(out[0].src_port, 0x1234) << n;
  }
}

TEST(Decoder, HostileInputIsCountedNotFatal) {
  Decoder dec;
  Arena arena;
  std::vector<FlowRecord> out;
  std::vector<uint8_t> m(16, 0);
  store_be16(m.data(), 10);
  store_be16(m.data() + 2, 16);
  EXPECT_TRUE(dec.decode(m, out, arena).ok());
  // A set longer than the message.
  std::vector<uint8_t> bad = m;
  bad.insert(bad.end(), {0x01, 0x00, 0xff, 0xff});
  store_be16(bad.data() + 2, uint16_t(bad.size()));
  EXPECT_FALSE(dec.decode(bad, out, arena).ok());
  // A template with 60000 fields, one with only zero-length fields, data for an unknown one.
  std::vector<uint8_t> t = m;
  t.insert(t.end(), {0, 2, 0, 12, 1, 0, 0xea, 0x60, 0, 1, 0, 0});
  store_be16(t.data() + 2, uint16_t(t.size()));
  EXPECT_TRUE(dec.decode(t, out, arena).ok());
  std::vector<uint8_t> z = m;
  z.insert(z.end(), {0, 2, 0, 12, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 8, 0, 0, 0, 0});
  store_be16(z.data() + 2, uint16_t(z.size()));
  EXPECT_TRUE(dec.decode(z, out, arena).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_GE(dec.stats().malformed, 2u);
  EXPECT_EQ(dec.stats().held_sets, 1u);  // waits for its template...
  dec.drop_held();
  EXPECT_EQ(dec.stats().missing_template, 1u);  // ...which never comes
  // Every truncation of real messages decodes without harm.
  auto flows = sample_flows(true);
  for (Format f : {Format::kIpfix, Format::kNetflow9, Format::kNetflow5}) {
    EncoderOptions o;
    o.format = f;
    Encoded e = round_trip(std::vector<FlowRecord>(flows.begin(), flows.begin() + 40), o);
    for (const auto& msg : e.messages) {
      for (size_t n = 0; n < msg.size(); n += 7) {
        Decoder d2;
        std::vector<FlowRecord> sink;
        Arena a2;
        d2.decode(std::span(msg.data(), n), sink, a2);
      }
    }
  }
}

// Runs a shell command; its exit status and what it printed (stdout and stderr).
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return {-1, ""};
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  int rc = pclose(f);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

bool have(const char* tool) {
  return run(std::string("command -v ") + tool).first == 0;
}

// Messages as UDP datagrams from 127.0.0.1 to port 4739 in a pcap, for tshark.
void write_udp_pcap(const std::string& path, const std::vector<std::vector<uint8_t>>& messages) {
  auto w = gen::PcapWriter::open(path);
  ASSERT_TRUE(w.ok());
  for (const auto& m : messages) {
    std::vector<uint8_t> f(14 + 20 + 8);
    f[12] = 0x08;
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    store_be16(ip + 2, uint16_t(20 + 8 + m.size()));
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = ip[16] = 127;
    ip[15] = ip[19] = 1;
    uint8_t* udp = ip + 20;
    store_be16(udp, 50000);
    store_be16(udp + 2, 4739);
    store_be16(udp + 4, uint16_t(8 + m.size()));
    f.insert(f.end(), m.begin(), m.end());
    (*w)->write(Timestamp::from_seconds(1700000000), f);
  }
  ASSERT_TRUE((*w)->finish().ok());
}

// ipfixDump (libfixbuf) and tshark read every element flowkit sends, strings, lists and what
// routers send included, without an error or warning, and find every record.
TEST(PeerDecoders, ReadEveryElement) {
  auto flows = sample_flows(true);
  std::string dir = ::testing::TempDir() + "/peer_decoders";
  std::filesystem::create_directories(dir);
  bool ran = false;
  for (Format format : {Format::kIpfix, Format::kNetflow9}) {
    EncoderOptions o;
    o.format = format;
    Encoded e = round_trip(flows, o);
    ASSERT_EQ(e.stats.bad_fields, 0u);
    uint64_t records = e.decoded.size() + e.stats.options_records;
    std::string name = dir + (format == Format::kIpfix ? "/ipfix" : "/v9");
    if (format == Format::kIpfix && have("ipfixDump")) {
      ran = true;
      std::ofstream file(name + ".ipfix", std::ios::binary);
      for (const auto& m : e.messages)
        file.write(reinterpret_cast<const char*>(m.data()), m.size());
      file.close();
      auto [rc, dump] = run("ipfixDump --rfc5610 --in " + name + ".ipfix");
      EXPECT_EQ(rc, 0);
      EXPECT_EQ(dump.find("rror"), std::string::npos);
      EXPECT_EQ(dump.find("arning"), std::string::npos);
      EXPECT_NE(dump.find(fmt::format("Messages, {} Data Records", records)), std::string::npos)
          << dump.substr(dump.size() - std::min<size_t>(dump.size(), 300));
      for (const char* want :
           {"exporterIPv4Address : 192.0.2.1", "exporterIPv6Address : 2001:0db8::000a",
            "bgpDestinationAsNumber : 4200000000", "sourceIPv6PrefixLength : 48",
            "ipNextHopIPv6Address : fe80::0001", "bgpNextHopIPv4Address : 198.51.100.1",
            "postNATSourceIPv4Address : 203.0.113.5", "postNAPTSourceTransportPort : 40000",
            "forwardingStatus : 64", "flowDirection : 1", "egressInterface : 7",
            "interfaceName : (len: 13) eth0 \"uplink\"", "reverseInterfaceName : (len: 5) wlan0",
            "count: 3       semantic: 4-ordered",
            "flowkit_dns_resp_rr_name : (len: 13) caf\xc3\xa9",
            "flowkit_dns_resp_rr_ttl : 4294967295"})
        EXPECT_NE(dump.find(want), std::string::npos) << want;
    }
    if (have("tshark")) {
      ran = true;
      // The router records' templates have up to 74 fields; tshark stops at 60 by default.
      write_udp_pcap(name + ".pcap", e.messages);
      auto [rc, out] =
          run("tshark -r " + name + ".pcap -o cflow.max_template_fields:100" +
              " -d udp.port==4739,cflow -T fields -E occurrence=a -E aggregator=';'" +
              " -e _ws.malformed -e _ws.expert.severity -e cflow.srcaddr" + " -e cflow.srcaddrv6");
      EXPECT_EQ(rc, 0) << out;
      size_t flows_seen = 0, packets = 0;
      std::istringstream lines(out);
      for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("Running as user")) continue;  // tshark's note to root
        ++packets;
        std::vector<std::string> cols;
        std::istringstream cells(line);
        for (std::string c; std::getline(cells, c, '\t');) cols.push_back(c);
        cols.resize(4);
        EXPECT_TRUE(cols[0].empty()) << "malformed packet " << packets;
        // Expert severities: warning 6291456 and above (notes and chats are fine).
        std::istringstream sev(cols[1]);
        for (std::string v; std::getline(sev, v, ';');)
          EXPECT_LT(std::stoll(v), 6291456) << "expert warning in packet " << packets;
        for (const std::string& c : {cols[2], cols[3]})
          if (!c.empty()) flows_seen += std::count(c.begin(), c.end(), ';') + 1;
      }
      EXPECT_EQ(packets, e.messages.size());
      EXPECT_EQ(flows_seen, e.decoded.size());
    }
  }
  if (!ran) GTEST_SKIP() << "neither ipfixDump nor tshark is installed (scripts/bootstrap.sh)";
}

}  // namespace
}  // namespace flowkit::ipfix
