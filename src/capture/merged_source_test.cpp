#include "capture/merged_source.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "capture/capture_test_util.h"
#include "capture/libpcap_file_reader.h"
#include "capture/pcap_file_reader.h"

namespace flowkit::capture {
namespace {

using namespace test;

// Hands out a fixed list of packets in batches of at most max_batch through one buffer that it
// scribbles over on every call, so that data of earlier batches really are invalid. Returns
// nothing (without being finished) every `stall_every`-th call, like a live source.
class ScribblingSource final : public PacketSource {
 public:
  ScribblingSource(std::vector<Packet> packets, size_t max_batch, std::string name,
                   int stall_every = 0)
      : packets_(std::move(packets)), max_batch_(max_batch), stall_every_(stall_every) {
    size_t longest = 1;
    for (const Packet& p : packets_) longest = std::max(longest, p.data.size());
    buffer_.resize(longest * max_batch_);
    interfaces_.push_back({std::move(name), kLinkEthernet});
  }
  size_t read_batch(std::span<RawPacket> out) override {
    std::memset(buffer_.data(), 0xee, buffer_.size());
    if (stall_every_ && ++calls_ % stall_every_ == 0) return 0;
    size_t n = 0, used = 0;
    while (n < out.size() && n < max_batch_ && pos_ < packets_.size()) {
      const Packet& p = packets_[pos_++];
      std::memcpy(buffer_.data() + used, p.data.data(), p.data.size());
      out[n++] = {Timestamp{p.ts}, buffer_.data() + used, p.caplen, p.wirelen, p.linktype, 0};
      used += p.data.size();
    }
    return n;
  }
  bool finished() const override { return pos_ == packets_.size(); }
  std::vector<std::string> take_warnings() override {
    return pos_ == packets_.size() && !warned_ ? (warned_ = true, std::vector<std::string>{"w"})
                                               : std::vector<std::string>{};
  }
  const std::vector<InterfaceInfo>& interfaces() const override { return interfaces_; }
  SourceStats stats() const override {
    SourceStats s;
    s.packets = pos_;
    s.bytes_read = pos_;
    s.bytes_total = packets_.size();
    s.bad_records = 1;
    return s;
  }

 private:
  std::vector<Packet> packets_;
  size_t max_batch_;
  int stall_every_;
  int calls_ = 0;
  size_t pos_ = 0;
  bool warned_ = false;
  std::vector<uint8_t> buffer_;
  std::vector<InterfaceInfo> interfaces_;
};

// What a merge must produce: the inputs one after the other, stably sorted by time (ties keep
// the lower input first), with each input's interfaces shifted by the ones before it.
std::vector<Packet> oracle(const std::vector<std::vector<Packet>>& inputs,
                           const std::vector<uint32_t>& interface_offsets) {
  std::vector<Packet> all;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (Packet p : inputs[i]) {
      p.interface += interface_offsets[i];
      all.push_back(std::move(p));
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const Packet& a, const Packet& b) { return a.ts < b.ts; });
  return all;
}

std::vector<Packet> random_packets(std::mt19937& rng, size_t count) {
  std::vector<Packet> out;
  int64_t ts = int64_t(rng() % 50);
  for (size_t i = 0; i < count; ++i) {
    ts += rng() % 3 == 0 ? 0 : int64_t(rng() % 20);  // plenty of ties
    Packet p;
    p.ts = ts;
    p.data = payload(1 + rng() % 90, uint8_t(rng()));
    p.caplen = uint32_t(p.data.size());
    p.wirelen = p.caplen + 4;
    p.linktype = kLinkEthernet;
    out.push_back(std::move(p));
  }
  return out;
}

std::unique_ptr<PacketSource> open_or_die(const std::string& path, FileIo io = FileIo::kMap) {
  auto r = PcapFileReader::open(path, io);
  EXPECT_TRUE(r.ok()) << path << ": " << (r.ok() ? "" : r.status().message());
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(MergedSource, RandomInputsMergeInTimeOrderWithDataIntact) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE(round);
    const size_t k = 1 + rng() % 6;
    std::vector<std::vector<Packet>> inputs;
    std::vector<std::unique_ptr<PacketSource>> sources;
    std::vector<uint32_t> offsets;
    for (size_t i = 0; i < k; ++i) {
      inputs.push_back(random_packets(rng, rng() % 400));
      offsets.push_back(uint32_t(i));
      if (rng() % 2) {
        // A stable input: a pcap file held in memory.
        PcapWriter w(false, true);
        for (const Packet& p : inputs.back()) w.packet(p.ts, p.data, p.wirelen);
        auto r = PcapFileReader::from_bytes(w.bytes(), "in" + std::to_string(i));
        sources.push_back(std::move(r).value());
      } else {
        sources.push_back(std::make_unique<ScribblingSource>(
            inputs.back(), 1 + rng() % 300, "in" + std::to_string(i), int(rng() % 3) * 2));
      }
    }
    MergedSource merged(std::move(sources));
    const ReadAll r = read_all(merged, 1 + rng() % 500, true, 1000);
    const std::vector<Packet> expected = oracle(inputs, offsets);
    ASSERT_EQ(r.packets.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(r.packets[i], expected[i]) << i;
    EXPECT_TRUE(merged.finished());
    EXPECT_EQ(r.interfaces.size(), k);
    EXPECT_EQ(r.stats.packets, expected.size());
  }
}

// Splits a real capture into two files (alternate packets, one classic pcap, one pcapng):
// merging them gives the capture back (up to the order of packets of equal time, which a merge
// cannot know: they come lower input first).
TEST(MergedSource, MergesTwoFilesBackIntoOne) {
  SKIP_WITHOUT_PCAPS();
  const std::string original = pcap_path("ndpi-4.2/instagram.pcap");
  auto whole = PcapFileReader::open(original);
  ASSERT_TRUE(whole.ok());
  const ReadAll all = read_all(**whole);
  ASSERT_TRUE(std::is_sorted(all.packets.begin(), all.packets.end(),
                             [](const Packet& a, const Packet& b) { return a.ts < b.ts; }));
  PcapWriter a(false, false);
  NgWriter b(true);
  b.idb(kLinkEthernet, 0, "b0");
  std::vector<std::vector<Packet>> halves(2);
  for (size_t i = 0; i < all.packets.size(); ++i) {
    const Packet& p = all.packets[i];
    if (i % 2 == 0) {
      a.packet(p.ts, p.data, p.wirelen);
    } else {
      b.epb(0, uint64_t(p.ts / 1000), p.data, p.wirelen);
    }
    halves[i % 2].push_back(p);
  }
  TempDir dir;
  write_file(dir.file("a.pcap"), a.bytes());
  write_file(dir.file("b.pcapng"), b.bytes());
  for (FileIo io : {FileIo::kMap, FileIo::kRead}) {
    std::vector<std::unique_ptr<PacketSource>> inputs;
    inputs.push_back(open_or_die(dir.file("a.pcap"), io));
    inputs.push_back(open_or_die(dir.file("b.pcapng"), io));
    MergedSource merged(std::move(inputs));
    EXPECT_EQ(merged.stable_data(), io == FileIo::kMap);
    const ReadAll r = read_all(merged, 100);
    const std::vector<Packet> expected = oracle(halves, {0, 1});
    ASSERT_EQ(r.packets.size(), all.packets.size());
    for (size_t i = 0; i < r.packets.size(); ++i) {
      ASSERT_EQ(r.packets[i].ts, all.packets[i].ts) << i;
      ASSERT_EQ(r.packets[i], expected[i]) << i;
    }
    ASSERT_EQ(r.interfaces.size(), 2u);
    EXPECT_EQ(r.interfaces[0].name, dir.file("a.pcap"));
    EXPECT_EQ(r.interfaces[1].name, "b0");
    EXPECT_EQ(r.stats.bytes_total, a.bytes().size() + b.bytes().size());
    EXPECT_EQ(r.stats.bytes_read, r.stats.bytes_total);
  }
}

TEST(MergedSource, TiesGoToTheLowerInput) {
  SKIP_WITHOUT_PCAPS();
  const std::string path = pcap_path("dpkt-1.9.8/http.pcap");
  const ReadAll single = read_all(*open_or_die(path));
  std::vector<std::unique_ptr<PacketSource>> inputs;
  inputs.push_back(open_or_die(path));
  inputs.push_back(open_or_die(path));
  MergedSource merged(std::move(inputs));
  const ReadAll r = read_all(merged);
  EXPECT_EQ(r.packets, oracle({single.packets, single.packets}, {0, 1}));
  ASSERT_EQ(r.packets.size(), 86u);
  EXPECT_EQ(r.packets[0].interface, 0u);
  EXPECT_EQ(r.packets[1].interface, 1u);
}

TEST(MergedSource, InterfacesAreNumberedInputByInput) {
  SKIP_WITHOUT_PCAPS();
  const std::string many = pcap_path("wireshark-4.0.17/many_interfaces.pcapng.1");
  // Three sections: two interfaces known at open, three more defined later.
  const std::string sections = pcap_path("gopacket-1.1.19-pcapng/le/test202.pcapng");
  const std::string classic = pcap_path("dpkt-1.9.8/http.pcap");
  const std::vector<std::string> paths = {many, sections, classic};
  std::vector<ReadAll> alone;
  for (const std::string& p : paths) alone.push_back(read_all(*open_or_die(p)));
  // Global number of each input's interfaces: those known at open, input by input, then the
  // late ones in the order the merge meets them.
  const std::vector<std::vector<uint32_t>> global = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {11, 12, 14, 15, 16}, {13}};
  std::vector<std::unique_ptr<PacketSource>> inputs;
  for (const std::string& p : paths) inputs.push_back(open_or_die(p));
  MergedSource merged(std::move(inputs));
  EXPECT_EQ(merged.interfaces().size(), 11u + 2u + 1u);
  const ReadAll r = read_all(merged);
  ASSERT_EQ(r.interfaces.size(), 11u + 5u + 1u);
  std::vector<std::vector<Packet>> expected(3);
  for (size_t in = 0; in < 3; ++in) {
    for (size_t k = 0; k < global[in].size(); ++k) {
      EXPECT_EQ(r.interfaces[global[in][k]].name, alone[in].interfaces[k].name);
      EXPECT_EQ(r.interfaces[global[in][k]].linktype, alone[in].interfaces[k].linktype);
    }
    for (Packet p : alone[in].packets) {
      p.interface = global[in][p.interface];
      expected[in].push_back(p);
    }
  }
  // Each input keeps its own order (many_interfaces.pcapng.1 is not in time order itself).
  std::vector<std::vector<Packet>> split(3);
  for (const Packet& p : r.packets) {
    for (size_t in = 0; in < 3; ++in) {
      if (std::count(global[in].begin(), global[in].end(), p.interface)) split[in].push_back(p);
    }
  }
  for (size_t in = 0; in < 3; ++in) EXPECT_EQ(split[in], expected[in]) << "input " << in;
}

TEST(MergedSource, LateInterfacesAreAppended) {
  NgWriter a;
  a.idb(kLinkEthernet, 0, "eth0");
  a.epb(0, 1, payload(10, 1)).epb(0, 5, payload(10, 2));
  a.idb(kLinkRaw, 0, "tun0");  // defined after packets: unknown when the merge starts
  a.epb(1, 6, payload(10, 3));
  PcapWriter b(false, false);
  b.packet(2000, payload(10, 4)).packet(3000, payload(10, 5));
  for (int run = 0; run < 2; ++run) {  // deterministic
    std::vector<std::unique_ptr<PacketSource>> inputs;
    inputs.push_back(PcapFileReader::from_bytes(a.bytes(), "a").value());
    inputs.push_back(PcapFileReader::from_bytes(b.bytes(), "b.pcap").value());
    MergedSource merged(std::move(inputs));
    ASSERT_EQ(merged.interfaces().size(), 2u);
    const ReadAll r = read_all(merged);
    std::vector<std::string> names;
    for (const InterfaceInfo& i : r.interfaces) names.push_back(i.name);
    EXPECT_EQ(names, (std::vector<std::string>{"eth0", "b.pcap", "tun0"}));
    std::vector<std::pair<int64_t, uint32_t>> got;
    for (const Packet& p : r.packets) got.emplace_back(p.ts, p.interface);
    EXPECT_EQ(got, (std::vector<std::pair<int64_t, uint32_t>>{
                       {1000, 0}, {2000, 1}, {3000, 1}, {5000, 0}, {6000, 2}}));
    EXPECT_EQ(r.packets[4].linktype, kLinkRaw);
  }
}

TEST(MergedSource, OneInputIsPassedThrough) {
  SKIP_WITHOUT_PCAPS();
  const std::string path = pcap_path("gopacket-1.1.19-pcapng/be/test202.pcapng");
  const ReadAll direct = read_all(*open_or_die(path));
  std::vector<std::unique_ptr<PacketSource>> inputs;
  inputs.push_back(open_or_die(path));
  const PacketSource* input = inputs[0].get();
  MergedSource merged(std::move(inputs));
  EXPECT_EQ(&merged.interfaces(), &input->interfaces());
  EXPECT_TRUE(merged.stable_data());
  const ReadAll r = read_all(merged);
  EXPECT_EQ(r.packets, direct.packets);
  EXPECT_EQ(r.stats.bytes_read, direct.stats.bytes_read);
  EXPECT_EQ(r.stats.packets, direct.packets.size());
}

TEST(MergedSource, StatsAndWarningsAddUp) {
  std::mt19937 rng(5);
  std::vector<std::unique_ptr<PacketSource>> inputs;
  inputs.push_back(std::make_unique<ScribblingSource>(random_packets(rng, 10), 3, "x"));
  inputs.push_back(std::make_unique<ScribblingSource>(random_packets(rng, 20), 3, "y"));
  MergedSource merged(std::move(inputs));
  EXPECT_FALSE(merged.stable_data());
  const ReadAll r = read_all(merged, 4);
  EXPECT_EQ(r.packets.size(), 30u);
  EXPECT_EQ(r.stats.packets, 30u);
  EXPECT_EQ(r.stats.bytes_total, 30u);
  EXPECT_EQ(r.stats.bytes_read, 30u);
  EXPECT_EQ(r.stats.bad_records, 2u);
  EXPECT_EQ(r.warnings, (std::vector<std::string>{"w", "w"}));
}

TEST(MergedSource, OpenCaptureFiles) {
  SKIP_WITHOUT_PCAPS();
  const std::string a = pcap_path("dpkt-1.9.8/http.pcap");
  const std::string b = pcap_path("dpkt-1.9.8/dns_icmp.pcap");
  auto one = open_capture_files({a});
  ASSERT_TRUE(one.ok());
  EXPECT_NE(dynamic_cast<PcapFileReader*>(one->get()), nullptr);
  auto two = open_capture_files({a, b});
  ASSERT_TRUE(two.ok());
  EXPECT_NE(dynamic_cast<MergedSource*>(two->get()), nullptr);
  EXPECT_EQ(read_all(**two).packets.size(), 43u + 32u);
  auto mapped = open_capture_files({a, b}, FileReaderKind::kFlowkitMapped);
  ASSERT_TRUE(mapped.ok());
  EXPECT_TRUE((*mapped)->stable_data());
  EXPECT_FALSE((*two)->stable_data());
  auto lib = open_capture_files({a, b}, FileReaderKind::kLibpcap);
  ASSERT_TRUE(lib.ok());
  const ReadAll via_libpcap = read_all(**lib);
  EXPECT_EQ(via_libpcap.packets.size(), 43u + 32u);
  EXPECT_EQ(via_libpcap.interfaces.size(), 2u);
  auto missing = open_capture_files({a, "/nonexistent/x.pcap"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/x.pcap"), std::string::npos);
}

}  // namespace
}  // namespace flowkit::capture
