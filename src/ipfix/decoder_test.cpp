// The decoder's bookkeeping on hand-made messages: sequence accounting, template withdrawal,
// data that comes before its template, limits, sysUpTime times and saved templates.
#include "ipfix/decoder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "capture/pcap_file_reader.h"
#include "core/byte_io.h"
#include "ipfix/wire_format.h"

namespace flowkit::ipfix {
namespace {

// Builds IPFIX (or v9) messages a set at a time.
class Message {
 public:
  Message(uint32_t seq, uint32_t export_secs = 1'700'000'000, uint32_t domain = 1,
          int version = kIpfixVersion)
      : version_(version) {
    if (version == kIpfixVersion) {
      b_.resize(kIpfixHeader);
      store_be16(b_.data(), kIpfixVersion);
      store_be32(b_.data() + 4, export_secs);
      store_be32(b_.data() + 8, seq);
      store_be32(b_.data() + 12, domain);
    } else {
      b_.resize(kV9Header);
      store_be16(b_.data(), kV9Version);
      store_be32(b_.data() + 4, 1000);  // sysUpTime: 1 s after boot
      store_be32(b_.data() + 8, export_secs);
      store_be32(b_.data() + 12, seq);
      store_be32(b_.data() + 16, domain);
    }
  }
  Message& set(uint16_t id, std::initializer_list<uint16_t> words) {
    size_t at = b_.size();
    b_.resize(at + 4);
    store_be16(b_.data() + at, id);
    for (uint16_t w : words) put16(w);
    store_be16(b_.data() + at + 2, uint16_t(b_.size() - at));
    return *this;
  }
  // A template of source/destination IPv4 address (8, 12) and packetDeltaCount (2, 4 bytes).
  Message& flow_template(uint16_t id) {
    return set(version_ == kIpfixVersion ? kTemplateSet : kV9TemplateSet,
               {id, 3, 8, 4, 12, 4, 2, 4});
  }
  // n records of that template: 10.0.0.i -> 10.0.1.i, i packets.
  Message& records(uint16_t id, int n) {
    std::initializer_list<uint16_t> none{};
    set(id, none);
    size_t at = b_.size() - 4;
    for (int i = 1; i <= n; ++i) {
      put16(0x0a00);
      put16(uint16_t(i));
      put16(0x0a00);
      put16(uint16_t(0x100 | i));
      put16(0);
      put16(uint16_t(i));
    }
    store_be16(b_.data() + at + 2, uint16_t(b_.size() - at));
    return *this;
  }
  std::vector<uint8_t> bytes() {
    if (version_ == kIpfixVersion) store_be16(b_.data() + 2, uint16_t(b_.size()));
    return b_;
  }

 private:
  void put16(uint16_t w) {
    b_.push_back(uint8_t(w >> 8));
    b_.push_back(uint8_t(w));
  }
  int version_;
  std::vector<uint8_t> b_;
};

struct Collected {
  Decoder dec;
  Arena arena;
  std::vector<FlowRecord> out;
  Status decode(Message m) { return dec.decode(m.bytes(), out, arena); }
};

TEST(DecoderSequence, GapsAreLossLateMessagesFillThemRestartsAreNot) {
  Collected r;
  ASSERT_TRUE(r.decode(Message(0).flow_template(256).records(256, 3)).ok());
  ASSERT_TRUE(r.decode(Message(3).records(256, 2)).ok());
  EXPECT_EQ(r.dec.stats().lost_records, 0u);
  // Records 5..8 go missing for now; 9.. arrives.
  ASSERT_TRUE(r.decode(Message(9).records(256, 1)).ok());
  EXPECT_EQ(r.dec.stats().lost_records, 4u);
  // 5..6 come late: they were not lost after all, and the next number stays at 10.
  ASSERT_TRUE(r.decode(Message(5).records(256, 2)).ok());
  EXPECT_EQ(r.dec.stats().lost_records, 2u);
  EXPECT_EQ(r.dec.stats().reordered, 1u);
  ASSERT_TRUE(r.decode(Message(10).records(256, 1)).ok());
  EXPECT_EQ(r.dec.stats().lost_records, 2u);
  // The exporter restarts: far back is no loss of 4 billion records.
  ASSERT_TRUE(r.decode(Message(4'000'000'000u).records(256, 1)).ok());
  EXPECT_EQ(r.dec.stats().restarts, 1u);
  EXPECT_EQ(r.dec.stats().lost_records, 2u);
  EXPECT_EQ(r.out.size(), 10u);
}

TEST(DecoderSequence, SetsWithoutTemplateLeaveNoFalseLoss) {
  Collected r;
  // Data before its template: held, then decoded when the template comes.
  ASSERT_TRUE(r.decode(Message(0).records(256, 4)).ok());
  EXPECT_EQ(r.dec.stats().held_sets, 1u);
  EXPECT_TRUE(r.out.empty());
  ASSERT_TRUE(r.decode(Message(4).flow_template(256).records(256, 1)).ok());
  EXPECT_EQ(r.out.size(), 5u);
  EXPECT_EQ(r.dec.stats().late_records, 4u);
  EXPECT_EQ(r.dec.stats().lost_records, 0u);
  EXPECT_EQ(r.dec.stats().unreadable_records, 0u);
  // Data of a template that never comes expires after held_seconds of export time.
  ASSERT_TRUE(r.decode(Message(5, 1'700'000'000).records(300, 2)).ok());
  ASSERT_TRUE(r.decode(Message(7, 1'700'000'100).records(256, 1)).ok());
  EXPECT_EQ(r.dec.stats().missing_template, 1u);
  EXPECT_EQ(r.dec.stats().lost_records, 0u);
  EXPECT_EQ(r.dec.stats().unreadable_records, 2u);
}

TEST(DecoderSequence, NetflowNineCountsPackets) {
  Collected r;
  ASSERT_TRUE(r.decode(Message(0, 1'700'000'000, 1, kV9Version).flow_template(256)).ok());
  ASSERT_TRUE(r.decode(Message(1, 1'700'000'000, 1, kV9Version).records(256, 5)).ok());
  ASSERT_TRUE(r.decode(Message(4, 1'700'000'000, 1, kV9Version).records(256, 5)).ok());
  EXPECT_EQ(r.dec.stats().lost_messages, 2u);
  ASSERT_TRUE(r.decode(Message(2, 1'700'000'000, 1, kV9Version).records(256, 5)).ok());
  EXPECT_EQ(r.dec.stats().lost_messages, 1u);
  // Another source id keeps its own numbers.
  ASSERT_TRUE(r.decode(Message(77, 1'700'000'000, 2, kV9Version).flow_template(256)).ok());
  EXPECT_EQ(r.dec.stats().lost_messages, 1u);
  EXPECT_EQ(r.out.size(), 15u);
}

TEST(DecoderTemplates, WithdrawalsKeepTheRestOfTheSetAligned) {
  Collected r;
  // An options template (id 257: scope observationDomainId, option systemInitTime) and a
  // template, then one options template set that withdraws 257 and defines 258.
  ASSERT_TRUE(
      r.decode(Message(0).set(kOptionsTemplateSet, {257, 2, 1, 149, 4, 160, 8}).flow_template(256))
          .ok());
  ASSERT_TRUE(
      r.decode(Message(0).set(kOptionsTemplateSet, {257, 0, 258, 2, 1, 149, 4, 160, 8})).ok());
  EXPECT_EQ(r.dec.stats().malformed, 0u);
  EXPECT_EQ(r.dec.stats().withdrawn, 1u);
  EXPECT_EQ(r.dec.stats().templates, 3u);
  // "Withdraw all templates" (id 2, count 0) leaves the options template.
  ASSERT_TRUE(r.decode(Message(0).set(kTemplateSet, {kTemplateSet, 0})).ok());
  ASSERT_TRUE(r.decode(Message(0).records(256, 1)).ok());
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.dec.stats().held_sets, 1u);
  auto saved = r.dec.save_templates();
  ASSERT_EQ(saved.size(), 1u);  // 258 only
}

TEST(DecoderTemplates, SavedTemplatesDecodeAfterARestart) {
  Collected a;
  ASSERT_TRUE(a.decode(Message(0).flow_template(256).flow_template(300)).ok());
  ASSERT_TRUE(a.decode(Message(0, 1'700'000'000, 9, kV9Version).flow_template(400)).ok());
  auto saved = a.dec.save_templates();
  ASSERT_EQ(saved.size(), 3u);
  Collected b;
  for (const auto& m : saved) b.dec.load_templates(m);
  EXPECT_EQ(b.dec.stats().templates, 3u);
  ASSERT_TRUE(b.decode(Message(50).records(300, 2)).ok());
  ASSERT_TRUE(b.decode(Message(7, 1'700'000'000, 9, kV9Version).records(400, 3)).ok());
  ASSERT_EQ(b.out.size(), 5u);
  EXPECT_EQ(b.out[1].fwd.packets, 2u);
  EXPECT_EQ(b.out[1].src_ip, IpAddress::v4(0x0a000002));
  EXPECT_EQ(b.dec.stats().lost_records, 0u);  // a restarted collector has no idea of the past
}

TEST(DecoderTemplates, ATemplateNotAnnouncedWithinItsLifetimeExpires) {
  DecoderLimits limits;
  limits.template_lifetime_s = 1800;
  Decoder dec(kDefaultPen, limits);
  Arena arena;
  std::vector<FlowRecord> out;
  auto decode = [&](Message m) { return dec.decode(m.bytes(), out, arena); };
  ASSERT_TRUE(decode(Message(0, 1'700'000'000).flow_template(256).records(256, 1)).ok());
  // Announced again (the same bytes) after 20 minutes: it lives on.
  ASSERT_TRUE(decode(Message(1, 1'700'001'200).flow_template(256)).ok());
  ASSERT_TRUE(decode(Message(1, 1'700'002'900).records(256, 1)).ok());
  EXPECT_EQ(out.size(), 2u);
  // 31 minutes after that without a word: the data waits for the template again.
  ASSERT_TRUE(decode(Message(2, 1'700'003'100).records(256, 1)).ok());
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(dec.stats().templates_expired, 1u);
  EXPECT_EQ(dec.stats().held_sets, 1u);
  ASSERT_TRUE(decode(Message(3, 1'700'003'101).flow_template(256)).ok());
  EXPECT_EQ(out.size(), 3u);
}

TEST(DecoderLimits, TemplateAndDomainBudgetsAreCountedNotExceeded) {
  DecoderLimits limits;
  limits.template_fields = 7;
  limits.domains = 2;
  Decoder dec(kDefaultPen, limits);
  Arena arena;
  std::vector<FlowRecord> out;
  auto decode = [&](Message m) { return dec.decode(m.bytes(), out, arena); };
  ASSERT_TRUE(decode(Message(0).flow_template(256).flow_template(257).flow_template(258)).ok());
  EXPECT_EQ(dec.stats().templates, 2u);
  EXPECT_EQ(dec.stats().template_limit, 1u);
  // Sent again, a template costs nothing; replaced, it reuses its budget.
  ASSERT_TRUE(decode(Message(0).flow_template(256)).ok());
  EXPECT_EQ(dec.stats().templates, 2u);
  ASSERT_TRUE(decode(Message(0).set(kTemplateSet, {256, 2, 8, 4, 12, 4})).ok());
  EXPECT_EQ(dec.stats().templates, 3u);
  ASSERT_TRUE(decode(Message(0, 1, 2)).ok());
  EXPECT_FALSE(decode(Message(0, 1, 3)).ok());
  EXPECT_EQ(dec.stats().refused_domains, 1u);
  // Held data stays within its byte budget.
  DecoderLimits small;
  small.held_bytes = 64;
  Decoder d2(kDefaultPen, small);
  for (int i = 0; i < 5; ++i) {
    auto m = Message(uint32_t(i)).records(256, 2).bytes();
    ASSERT_TRUE(d2.decode(m, out, arena).ok());
  }
  EXPECT_EQ(d2.stats().held_sets, 2u);
  EXPECT_EQ(d2.stats().missing_template, 3u);
}

TEST(DecoderTimes, SysUpTimeWrapsToTheTimeNearestTheExport) {
  // v9: flowStartSysUpTime (22) and flowEndSysUpTime (21) 500 and 100 ms before the export, 1 s
  // after boot, and 49.7 days later just after the uptime counter wrapped (the flow began
  // before the wrap, ended after it).
  for (uint32_t uptime : {1000u, 400u}) {
    Collected r;
    uint32_t secs = 1'700'000'000;
    Message m(0, secs, 1, kV9Version);
    m.set(kV9TemplateSet, {256, 2, 22, 4, 21, 4});
    uint32_t first = uptime - 500, last = uptime - 100;
    m.set(256, {uint16_t(first >> 16), uint16_t(first), uint16_t(last >> 16), uint16_t(last)});
    std::vector<uint8_t> b = m.bytes();
    store_be32(b.data() + 4, uptime);
    ASSERT_TRUE(r.dec.decode(b, r.out, r.arena).ok());
    ASSERT_EQ(r.out.size(), 1u);
    EXPECT_EQ(r.out[0].fwd.first.ns, (int64_t(secs) * 1000 - 500) * 1'000'000) << uptime;
    EXPECT_EQ(r.out[0].fwd.last.ns, (int64_t(secs) * 1000 - 100) * 1'000'000) << uptime;
  }
}

TEST(DecoderTimes, DeltaMicrosecondsCountBackFromTheExport) {
  // flowStartDeltaMicroseconds (158) and flowEndDeltaMicroseconds (159): 1.5 s and 0.25 s.
  Collected r;
  Message m(0, 1'700'000'000);
  m.set(kTemplateSet, {256, 2, 158, 4, 159, 4});
  m.set(256, {0x0016, 0xe360, 0x0003, 0xd090});
  ASSERT_TRUE(r.decode(m).ok());
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out[0].fwd.first.ns, 1'700'000'000'000'000'000 - 1'500'000'000);
  EXPECT_EQ(r.out[0].fwd.last.ns, 1'700'000'000'000'000'000 - 250'000'000);
}

TEST(DecoderHostile, TimesBeyondWhatNanosecondsHoldAreRefused) {
  // What the fuzzer found: flowStartMilliseconds (152) and systemInitTimeMilliseconds (160) of
  // all ones overflowed the conversion to nanoseconds. Now they are bad fields, the rest stays.
  Collected r;
  Message m(0);
  m.set(kTemplateSet, {256, 3, 152, 8, 160, 8, 2, 4});
  m.set(256, {0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0, 7});
  ASSERT_TRUE(r.decode(m).ok());
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out[0].fwd.packets, 7u);
  EXPECT_FALSE(r.out[0].fwd.first.is_set());
  EXPECT_EQ(r.dec.stats().bad_fields, 2u);
  // v9's sysUpTime from a boot time far from the export stays as given rather than overflow.
  Collected v9;
  Message n(0, 4'000'000'000u, 1, kV9Version);
  n.set(kV9TemplateSet, {256, 1, 22, 4});
  n.set(256, {0xffff, 0xffff});
  ASSERT_TRUE(v9.decode(n).ok());
  EXPECT_EQ(v9.out.size(), 1u);
}

// The UDP payloads (Ethernet, IPv4) of a capture of exports.
std::vector<std::vector<uint8_t>> udp_payloads(const std::string& path) {
  std::vector<std::vector<uint8_t>> out;
  auto reader = capture::PcapFileReader::open(path, capture::FileIo::kMap);
  if (!reader.ok()) return out;
  std::vector<capture::RawPacket> batch(64);
  while (size_t n = (*reader)->read_batch(batch)) {
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* p = batch[i].data;
      size_t len = batch[i].caplen;
      if (len < 42 || load_be16(p + 12) != 0x0800 || p[23] != 17) continue;
      size_t ihl = size_t(p[14] & 15) * 4;
      size_t udp = 14 + ihl;
      if (len < udp + 8) continue;
      size_t end = std::min(len, udp + load_be16(p + udp + 4));
      out.emplace_back(p + udp + 8, p + end);
    }
  }
  return out;
}

// Cuts a message at `n` bytes and makes its lengths agree with the cut: the message length,
// and the length of the set the cut falls in (dropped when not even its header is left). The
// set parser, not the header check, then meets the short data.
std::vector<uint8_t> cut_consistently(const std::vector<uint8_t>& m, size_t n) {
  bool ipfix = load_be16(m.data()) == kIpfixVersion;
  size_t header = ipfix ? kIpfixHeader : kV9Header;
  std::vector<uint8_t> out(m.begin(), m.begin() + ptrdiff_t(n));
  size_t off = header;
  while (off + kSetHeader <= n) {
    size_t len = load_be16(m.data() + off + 2);
    if (len < kSetHeader) break;
    if (off + len > n) {
      store_be16(out.data() + off + 2, uint16_t(n - off));
      break;
    }
    off += len;
  }
  if (off + kSetHeader > n) out.resize(off);
  if (ipfix) store_be16(out.data() + 2, uint16_t(out.size()));
  return out;
}

TEST(DecoderHostile, ConsistentTruncationsOfRealExportsKeepWhatIsWhole) {
  std::string pcap = std::string(FLOWKIT_SHARED_DIR) + "/pcaps/generated/softflowd_exports.pcap";
  if (!std::filesystem::exists(pcap)) GTEST_SKIP() << pcap << " not found (../shared)";
  auto messages = udp_payloads(pcap);
  ASSERT_EQ(messages.size(), 15u);
  // The whole stream once, for the templates and the full count of each message.
  Decoder whole;
  Arena arena;
  std::vector<FlowRecord> out;
  std::vector<size_t> full;
  for (const auto& m : messages) {
    size_t before = out.size();
    ASSERT_TRUE(whole.decode(m, out, arena).ok());
    full.push_back(out.size() - before);
  }
  size_t cuts = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (load_be16(m.data()) == kV5Version) continue;  // v5: no sets
    size_t header = load_be16(m.data()) == kIpfixVersion ? kIpfixHeader : kV9Header;
    size_t last = 0;
    for (size_t n = header; n <= m.size(); ++n) {
      // A decoder that knows the templates, as a collector would.
      Decoder d = whole;
      std::vector<FlowRecord> got;
      auto cut = cut_consistently(m, n);
      d.decode(cut, got, arena);
      // Records never appear from nowhere, and a longer cut keeps at least as many.
      ASSERT_LE(got.size(), full[i]) << "message " << i << " cut at " << n;
      ASSERT_GE(got.size(), last) << "message " << i << " cut at " << n;
      last = got.size();
      ++cuts;
    }
    EXPECT_EQ(last, full[i]) << "message " << i;
  }
  EXPECT_GT(cuts, 10000u);
}

}  // namespace
}  // namespace flowkit::ipfix
