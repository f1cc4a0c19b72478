#include "meter/meter.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <vector>

#include "core/field_registry.h"
#include "core/testing/collecting_sink.h"
#include "packet/testing/frame_builder.h"

namespace flowkit::meter {
namespace {

using packet::testing::Frame;

using Collect = flowkit::testing::CollectingSink;

constexpr int64_t kSec = 1'000'000'000;

// Feeds frames with their timestamps (seconds) through a meter and flushes it.
class Feed {
 public:
  explicit Feed(MeterOptions o = {}) : meter_(o, sink_) {}
  Feed& at(double t, std::vector<uint8_t> frame, uint32_t iface = 0) {
    frames_.push_back(std::move(frame));
    capture::RawPacket p;
    p.ts = Timestamp{int64_t(std::llround(t * 1e9))};
    p.data = frames_.back().data();
    p.caplen = p.wirelen = uint32_t(frames_.back().size());
    p.linktype = 1;
    p.interface = iface;
    meter_.process(std::span(&p, 1));
    return *this;
  }
  std::vector<FlowRecord>& done() {
    meter_.flush();
    return sink_.flows;
  }
  Meter& meter() { return meter_; }
  std::vector<FlowRecord>& so_far() { return sink_.flows; }

 private:
  Collect sink_;
  Meter meter_;
  std::deque<std::vector<uint8_t>> frames_;
};

std::vector<uint8_t> tcp(const char* s, const char* d, uint16_t sp, uint16_t dp, uint8_t flags,
                         size_t payload = 0) {
  return Frame().eth(0x0800).ipv4(6, s, d).tcp(sp, dp, flags).payload(payload).done();
}
std::vector<uint8_t> udp(const char* s, const char* d, uint16_t sp, uint16_t dp,
                         size_t payload = 0) {
  return Frame().eth(0x0800).ipv4(17, s, d).udp(sp, dp).payload(payload).done();
}

constexpr uint8_t F = 1, S = 2, R = 4, P = 8, A = 16;

std::vector<uint8_t> icmp(const char* s, const char* d, uint8_t type, uint8_t code) {
  return Frame().eth(0x0800).ipv4(1, s, d).bytes({type, code, 0, 0}).be32(1).done();
}

// --splt N keeps the first N packets of both directions, in order, and starts again with each
// record of an active timeout.
TEST(Meter, SpltKeepsTheFirstPackets) {
  MeterOptions o;
  o.splt = 3;
  o.active_timeout_ns = 10 * kSec;
  Feed run(o);
  run.at(1.0, tcp("10.0.0.2", "10.0.0.1", 5000, 80, S))
      .at(1.25, tcp("10.0.0.1", "10.0.0.2", 80, 5000, S | A))
      .at(1.5, tcp("10.0.0.2", "10.0.0.1", 5000, 80, A, 100))
      .at(2.0, tcp("10.0.0.2", "10.0.0.1", 5000, 80, A, 200))
      .at(12.0, tcp("10.0.0.1", "10.0.0.2", 80, 5000, A, 10));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 2u);
  ASSERT_EQ(flows[0].splt.size, 3u);
  EXPECT_EQ(flows[0].splt.items[0], (SpltPacket{40, 0, 0}));
  EXPECT_EQ(flows[0].splt.items[1], (SpltPacket{40, 1, 250'000}));
  EXPECT_EQ(flows[0].splt.items[2], (SpltPacket{140, 0, 250'000}));
  ASSERT_EQ(flows[1].splt.size, 1u);
  EXPECT_EQ(flows[1].splt.items[0], (SpltPacket{50, 1, 0}));
  EXPECT_EQ(Feed().at(1.0, tcp("10.0.0.2", "10.0.0.1", 5000, 80, S)).done()[0].splt.size, 0u);
}

TEST(Meter, BiflowTakesDirectionFromFirstPacket) {
  Feed run;
  run.at(1.0, tcp("10.0.0.2", "10.0.0.1", 5000, 80, S))
      .at(1.1, tcp("10.0.0.1", "10.0.0.2", 80, 5000, S | A))
      .at(1.2, tcp("10.0.0.2", "10.0.0.1", 5000, 80, A, 100));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 1u);
  const FlowRecord& r = flows[0];
  EXPECT_TRUE(r.biflow);
  EXPECT_EQ(r.src_ip.to_string(), "10.0.0.2");
  EXPECT_EQ(r.src_port, 5000);
  EXPECT_EQ(r.dst_port, 80);
  EXPECT_EQ(r.fwd.packets, 2u);
  EXPECT_EQ(r.fwd.bytes, 40u + 140);
  EXPECT_EQ(r.rev.packets, 1u);
  EXPECT_EQ(r.fwd.tcp_flags, S | A);
  EXPECT_EQ(r.rev.tcp_flags, S | A);
  EXPECT_EQ(r.fwd.first, Timestamp{1 * kSec});
  EXPECT_EQ(r.fwd.last, Timestamp{1'200'000'000});
  EXPECT_EQ(r.end_reason, EndReason::kForcedEnd);
  EXPECT_TRUE(r.fwd.has_mac);
}

TEST(Meter, InterfaceNameIsTheDevicesOwn) {
  Feed run;
  const capture::InterfaceInfo interfaces[] = {
      {"capture.pcapng#0", 1, false}, {"eth1", 1, true}, {"wlan0", 1, true}};
  run.meter().add_interfaces(std::span(interfaces).first(2));
  run.meter().add_interfaces(std::span(interfaces).subspan(2));
  EXPECT_EQ(run.meter().interface_count(), 3u);
  run.at(0, udp("1.1.1.1", "2.2.2.2", 1, 2), 0)
      .at(1, udp("2.2.2.2", "1.1.1.1", 2, 1), 2)  // the reply came in on another interface
      .at(2, udp("3.3.3.3", "4.4.4.4", 1, 2), 1)
      .at(3, udp("5.5.5.5", "6.6.6.6", 1, 2), 7);  // not announced: no name
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 3u);
  const FieldInfo& name = field_info(FieldId::kInterfaceName);
  EXPECT_FALSE(field_present(name, flows[0], Direction::kForward));  // a file's, not a device's
  EXPECT_EQ(flows[0].fwd.in_if, 0u);
  ASSERT_TRUE(field_present(name, flows[0], Direction::kReverse));
  EXPECT_EQ(flows[0].rev.interface_name, "wlan0");
  EXPECT_EQ(flows[0].rev.in_if, 2u);
  ASSERT_TRUE(field_present(name, flows[1], Direction::kForward));
  EXPECT_EQ(flows[1].fwd.interface_name, "eth1");
  EXPECT_FALSE(field_present(name, flows[2], Direction::kForward));
  EXPECT_EQ(flows[2].fwd.in_if, 7u);
}

TEST(Meter, UniflowSplitsDirections) {
  MeterOptions o;
  o.key.biflow = false;
  Feed run(o);
  run.at(1, udp("1.1.1.1", "2.2.2.2", 53, 53)).at(2, udp("2.2.2.2", "1.1.1.1", 53, 53));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_FALSE(flows[0].biflow);
  EXPECT_EQ(flows[0].src_ip.to_string(), "1.1.1.1");
  EXPECT_EQ(flows[1].src_ip.to_string(), "2.2.2.2");
}

TEST(Meter, IdleTimeoutIsStrictlyGreater) {
  MeterOptions o;
  o.idle_timeout_ns = 10 * kSec;
  Feed run(o);
  run.at(0, udp("1.1.1.1", "2.2.2.2", 1, 2))
      .at(10, udp("1.1.1.1", "2.2.2.2", 1, 2))     // exactly the timeout: same flow
      .at(20.5, udp("1.1.1.1", "2.2.2.2", 1, 2));  // more: a new flow
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].fwd.packets, 2u);
  EXPECT_EQ(flows[0].end_reason, EndReason::kIdleTimeout);
  EXPECT_EQ(flows[1].fwd.packets, 1u);
}

TEST(Meter, IdleFlowsAreReportedWithinABucketOfTheirDeadline) {
  MeterOptions o;
  o.idle_timeout_ns = 10 * kSec;
  Feed run(o);
  run.at(0, udp("1.1.1.1", "2.2.2.2", 1, 2)).at(4, udp("1.1.1.1", "2.2.2.2", 3, 4));
  run.meter().advance(Timestamp{9'900'000'000});
  EXPECT_EQ(run.so_far().size(), 0u);
  run.meter().advance(Timestamp{10'100'000'000});  // 10 s / 256 buckets: at most 40 ms late
  ASSERT_EQ(run.so_far().size(), 1u);
  EXPECT_EQ(run.so_far()[0].src_port, 1);
  // A jump far beyond the wheel's span reports everything at once.
  run.meter().advance(Timestamp{int64_t(86400) * kSec});
  EXPECT_EQ(run.so_far().size(), 2u);
  EXPECT_EQ(run.meter().active_flows(), 0u);
}

TEST(Meter, ActiveTimeoutRestartsKeepingOrientation) {
  MeterOptions o;
  o.active_timeout_ns = 3 * kSec;
  Feed run(o);
  for (int i = 0; i < 10; ++i) {
    run.at(i, udp("1.1.1.1", "2.2.2.2", 1, 2));
    run.at(i + 0.5, udp("2.2.2.2", "1.1.1.1", 2, 1));
  }
  auto& flows = run.done();
  ASSERT_GE(flows.size(), 3u);
  uint64_t packets = 0;
  for (size_t i = 0; i < flows.size(); ++i) {
    packets += flows[i].packets();
    EXPECT_EQ(flows[i].src_ip.to_string(), "1.1.1.1");
    EXPECT_EQ(flows[i].end_reason,
              i + 1 < flows.size() ? EndReason::kActiveTimeout : EndReason::kForcedEnd);
  }
  EXPECT_EQ(packets, 20u);
}

TEST(Meter, TcpEndWaitsForLastAckThenEnds) {
  MeterOptions o;
  o.tcp_end_timeout_ns = 2 * kSec;
  Feed run(o);
  run.at(0, tcp("1.1.1.1", "2.2.2.2", 1000, 80, S))
      .at(0.1, tcp("2.2.2.2", "1.1.1.1", 80, 1000, S | A))
      .at(0.2, tcp("1.1.1.1", "2.2.2.2", 1000, 80, F | A))
      .at(0.3, tcp("2.2.2.2", "1.1.1.1", 80, 1000, F | A))
      .at(0.4, tcp("1.1.1.1", "2.2.2.2", 1000, 80, A))
      .at(5, udp("9.9.9.9", "8.8.8.8", 1, 1));  // time passes
  ASSERT_EQ(run.so_far().size(), 1u);
  EXPECT_EQ(run.so_far()[0].end_reason, EndReason::kEndOfFlow);
  EXPECT_EQ(run.so_far()[0].packets(), 5u);
}

TEST(Meter, SynReusingPortsOfAClosedFlowStartsANewOne) {
  Feed run;
  run.at(0, tcp("1.1.1.1", "2.2.2.2", 1000, 80, S))
      .at(0.1, tcp("2.2.2.2", "1.1.1.1", 80, 1000, R | A))
      .at(0.2, tcp("1.1.1.1", "2.2.2.2", 1000, 80, S));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].end_reason, EndReason::kEndOfFlow);
  EXPECT_EQ(flows[0].packets(), 2u);
  EXPECT_EQ(flows[1].packets(), 1u);
}

TEST(Meter, FullCacheEvictsLeastRecentlyUsed) {
  MeterOptions o;
  o.max_flows = 2;
  Feed run(o);
  run.at(0, udp("1.1.1.1", "2.2.2.2", 1, 1))
      .at(1, udp("1.1.1.1", "2.2.2.2", 2, 2))
      .at(2, udp("1.1.1.1", "2.2.2.2", 1, 1))   // flow 1 becomes the most recent
      .at(3, udp("1.1.1.1", "2.2.2.2", 3, 3));  // evicts flow 2
  ASSERT_EQ(run.so_far().size(), 1u);
  EXPECT_EQ(run.so_far()[0].src_port, 2);
  EXPECT_EQ(run.so_far()[0].end_reason, EndReason::kLackOfResources);
  EXPECT_EQ(run.done().size(), 3u);
}

TEST(Meter, FragmentsBeforeTheirFirstAreAttributed) {
  Feed run;
  auto first =
      Frame().eth(0x0800).ipv4(17, "1.1.1.1", "2.2.2.2", 0x2000, 5).udp(7, 9).payload(1472).done();
  auto middle =
      Frame().eth(0x0800).ipv4(17, "1.1.1.1", "2.2.2.2", 0x2000 | 185, 5).payload(1480).done();
  auto last = Frame().eth(0x0800).ipv4(17, "1.1.1.1", "2.2.2.2", 370, 5).payload(100).done();
  run.at(0, last).at(0.001, middle).at(0.002, first);
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].src_port, 7);
  EXPECT_EQ(flows[0].fwd.packets, 3u);
  EXPECT_EQ(flows[0].fwd.bytes, 1500u + 1500 + 120);
  EXPECT_EQ(flows[0].fwd.first, Timestamp{0});
  EXPECT_EQ(run.meter().stats().fragments.held, 2u);
  EXPECT_EQ(run.meter().stats().fragments.orphaned, 0u);
}

// A large ping's later fragments carry no ICMP header: they join the flow of its type and code.
TEST(Meter, IcmpFragmentsJoinTheirTypesFlow) {
  Feed run;
  auto first = Frame()
                   .eth(0x0800)
                   .ipv4(1, "1.1.1.1", "2.2.2.2", 0x2000, 9)
                   .bytes({3, 3, 0, 0})
                   .be32(0)
                   .payload(1472)
                   .done();
  auto last = Frame().eth(0x0800).ipv4(1, "1.1.1.1", "2.2.2.2", 185, 9).payload(100).done();
  run.at(0, last).at(0.001, first).at(0.002, icmp("1.1.1.1", "2.2.2.2", 3, 1));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 2u);
  for (const FlowRecord& f : flows)
    EXPECT_EQ(f.fwd.packets, f.fwd.icmp_code == 3 ? 2u : 1u) << int(f.fwd.icmp_code);
  EXPECT_EQ(run.meter().stats().fragments.held, 1u);
}

TEST(Meter, OrphanFragmentsAreCountedWithoutPorts) {
  Feed run;
  auto later = Frame().eth(0x0800).ipv4(17, "1.1.1.1", "2.2.2.2", 185, 6).payload(80).done();
  auto overlap = Frame().eth(0x0800).ipv4(17, "1.1.1.1", "2.2.2.2", 186, 6).payload(80).done();
  run.at(0, later).at(0.1, overlap);
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].src_port, 0);
  EXPECT_EQ(flows[0].fwd.packets, 2u);
  EXPECT_EQ(run.meter().stats().fragments.orphaned, 2u);
  EXPECT_EQ(run.meter().stats().fragments.overlapping, 1u);
}

TEST(Meter, SamplingCountsOneInN) {
  MeterOptions o;
  o.sample = 4;
  Feed run(o);
  for (int i = 0; i < 16; ++i) run.at(i * 0.01, udp("1.1.1.1", "2.2.2.2", 1, 2));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].fwd.packets, 4u);
  EXPECT_EQ(flows[0].sampling_interval, 4u);
  EXPECT_EQ(run.meter().stats().not_sampled, 12u);
}

TEST(Meter, KeyModes) {
  for (auto [mode, expected] :
       {std::pair{KeyMode::kFull, 3u}, {KeyMode::kProto, 2u}, {KeyMode::kIp, 1u}}) {
    MeterOptions o;
    o.key.mode = mode;
    Feed run(o);
    run.at(0, udp("1.1.1.1", "2.2.2.2", 1, 2))
        .at(1, udp("1.1.1.1", "2.2.2.2", 3, 4))
        .at(2, tcp("1.1.1.1", "2.2.2.2", 1, 2, S));
    EXPECT_EQ(run.done().size(), expected);
  }
}

TEST(Meter, IcmpTypePerDirectionInOneFlow) {
  Feed run;
  run.at(0, Frame().eth(0x0800).ipv4(1, "1.1.1.1", "2.2.2.2").bytes({8, 0, 0, 0}).be32(1).done())
      .at(0.1,
          Frame().eth(0x0800).ipv4(1, "2.2.2.2", "1.1.1.1").bytes({0, 0, 0, 0}).be32(1).done());
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].fwd.icmp_type, 8);
  EXPECT_EQ(flows[0].rev.icmp_type, 0);
  EXPECT_EQ(flows[0].rev.packets, 1u);
}

// ICMP keyed as NetFlow/IPFIX meters key it: request and reply share a biflow, other messages
// are flows of their own per type, code and direction.
TEST(Meter, IcmpKeyedByTypeAndCode) {
  Feed run;
  run.at(0, icmp("1.1.1.1", "2.2.2.2", 8, 0))      // echo request
      .at(0.1, icmp("2.2.2.2", "1.1.1.1", 0, 0))   // its reply: the same flow
      .at(0.2, icmp("1.1.1.1", "2.2.2.2", 13, 0))  // timestamp request
      .at(0.3, icmp("2.2.2.2", "1.1.1.1", 14, 0))  // its reply
      .at(0.4, icmp("1.1.1.1", "2.2.2.2", 3, 1))   // host unreachable, one way
      .at(0.5, icmp("2.2.2.2", "1.1.1.1", 3, 1))   // ... the other way: another flow
      .at(0.6, icmp("1.1.1.1", "2.2.2.2", 3, 3))   // port unreachable: another code
      .at(0.7, icmp("1.1.1.1", "2.2.2.2", 3, 1));  // the first unreachable again
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 5u);
  std::map<std::pair<int, int>, const FlowRecord*> by_type;
  for (const FlowRecord& f : flows) by_type[{f.fwd.icmp_type, f.fwd.icmp_code}] = &f;
  EXPECT_EQ(by_type.at({8, 0})->rev.icmp_type, 0);
  EXPECT_EQ(by_type.at({8, 0})->rev.packets, 1u);
  EXPECT_EQ(by_type.at({13, 0})->rev.icmp_type, 14);
  EXPECT_EQ(by_type.at({3, 3})->fwd.packets, 1u);
  size_t unreachable = 0;
  for (const FlowRecord& f : flows) {
    if (f.fwd.icmp_type != 3 || f.fwd.icmp_code != 1) continue;
    ++unreachable;
    EXPECT_FALSE(f.biflow && f.rev.packets) << "directions stay apart";
    EXPECT_EQ(f.fwd.packets, f.src_ip == *IpAddress::parse("1.1.1.1") ? 2u : 1u);
  }
  EXPECT_EQ(unreachable, 2u);
}

TEST(Meter, IcmpByAddressesForFlowRecorder) {
  MeterOptions o;
  o.key.icmp_type_code = false;
  Feed run(o);
  run.at(0, icmp("1.1.1.1", "2.2.2.2", 8, 0))
      .at(0.1, icmp("2.2.2.2", "1.1.1.1", 0, 0))
      .at(0.2, icmp("1.1.1.1", "2.2.2.2", 3, 1));
  EXPECT_EQ(run.done().size(), 1u);
}

TEST(Meter, StatisticsArePopulationMoments) {
  Feed run;
  run.at(0, udp("1.1.1.1", "2.2.2.2", 1, 2, 0))     // 28 bytes
      .at(1, udp("1.1.1.1", "2.2.2.2", 1, 2, 72))   // 100
      .at(3, udp("2.2.2.2", "1.1.1.1", 2, 1, 22));  // 50
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 1u);
  const FlowRecord& r = flows[0];
  ASSERT_TRUE(r.has_stats);
  EXPECT_DOUBLE_EQ(r.fwd.pkt_size.min, 28);
  EXPECT_DOUBLE_EQ(r.fwd.pkt_size.max, 100);
  EXPECT_DOUBLE_EQ(r.fwd.pkt_size.mean, 64);
  EXPECT_DOUBLE_EQ(r.fwd.pkt_size.stddev, 36);
  EXPECT_DOUBLE_EQ(r.fwd.piat.mean, 1);
  EXPECT_DOUBLE_EQ(r.rev.piat.mean, 0);
  EXPECT_DOUBLE_EQ(r.piat.min, 1);
  EXPECT_DOUBLE_EQ(r.piat.max, 2);
  EXPECT_DOUBLE_EQ(r.piat.mean, 1.5);
  EXPECT_DOUBLE_EQ(r.piat.stddev, 0.5);
  EXPECT_NEAR(r.pkt_size.mean, 178.0 / 3, 1e-12);
}

TEST(Meter, FlushEmitsInStartOrder) {
  Feed run;
  run.at(0, udp("5.5.5.5", "6.6.6.6", 1, 2))
      .at(1, udp("1.1.1.1", "2.2.2.2", 1, 2))
      .at(2, udp("5.5.5.5", "6.6.6.6", 1, 2));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].src_ip.to_string(), "5.5.5.5");
  EXPECT_EQ(flows[1].src_ip.to_string(), "1.1.1.1");
}

TEST(Meter, TunnelIdentityIsKept) {
  Feed run;
  auto vx = [](const char* in_src, const char* in_dst, const char* out_src, const char* out_dst) {
    return Frame()
        .eth(0x0800)
        .ipv4(17, out_src, out_dst)
        .udp(5000, 4789)
        .bytes({8, 0, 0, 0})
        .be32(42u << 8)
        .eth(0x0800)
        .ipv4(1, in_src, in_dst)
        .bytes({8, 0, 0, 0})
        .done();
  };
  run.at(0, vx("10.0.0.1", "10.0.0.2", "192.0.2.1", "192.0.2.2"))
      .at(1, vx("10.0.0.2", "10.0.0.1", "192.0.2.2", "192.0.2.1"));
  auto& flows = run.done();
  ASSERT_EQ(flows.size(), 1u);
  const FlowRecord& r = flows[0];
  EXPECT_EQ(r.tunnel_type, TunnelType::kVxlan);
  EXPECT_EQ(r.tunnel_id, 42u);
  EXPECT_EQ(r.outer_src_ip.to_string(), "192.0.2.1");
  EXPECT_EQ(r.fwd.bytes, 24u);
  EXPECT_EQ(r.fwd.bytes_outer, 24u + 50);
  EXPECT_EQ(r.rev.bytes_outer, 24u + 50);
}

// A QinQ packet needs the flow's extension but has no MPLS labels: its record must not take the
// labels a packet decoded before it left in the decoder's view.
TEST(Meter, QinQWithoutLabelsHasNoLabels) {
  Feed run;
  run.at(0, Frame()
                .eth(0x8847)
                .be32(1234u << 12 | 0x100 | 64)
                .ipv4(6, "10.0.0.1", "10.0.0.2")
                .tcp(1, 2, 0x18)
                .done())
      .at(1, Frame()
                 .eth(0x88a8)
                 .vlan(10, 0x8100)
                 .vlan(20, 0x0800)
                 .ipv4(6, "10.0.0.3", "10.0.0.4")
                 .tcp(3, 4, 0x18)
                 .done());
  auto& r = run.done();
  ASSERT_EQ(r.size(), 2u);
  const FlowRecord& labeled = r[0].src_ip.to_string() == "10.0.0.1" ? r[0] : r[1];
  const FlowRecord& qinq = &labeled == &r[0] ? r[1] : r[0];
  EXPECT_EQ(labeled.fwd.mpls_depth, 1);
  EXPECT_EQ(labeled.fwd.mpls_label[0] >> 4, 1234u);
  EXPECT_EQ(qinq.fwd.vlan_depth, 2);
  EXPECT_EQ(qinq.fwd.vlan_id_inner, 20);
  EXPECT_EQ(qinq.fwd.mpls_depth, 0);
  EXPECT_EQ(qinq.fwd.mpls_label, (std::array<uint32_t, 3>{}));
}

TEST(Meter, ManyFlowsSurviveIndexGrowthAndErasure) {
  MeterOptions o;
  o.idle_timeout_ns = kSec;
  o.stats = false;
  Collect sink;
  Meter m(o, sink);
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < 20000; ++i) {
    auto f = udp("10.0.0.1", "10.0.0.2", uint16_t(i), 53);
    capture::RawPacket p;
    p.ts = Timestamp{int64_t(i) * 1'000'000};  // 1 ms apart: ~1000 flows live at a time
    p.data = f.data();
    p.caplen = p.wirelen = uint32_t(f.size());
    p.linktype = 1;
    m.process(std::span(&p, 1));
    // The same flow again: must be found, not duplicated.
    m.process(std::span(&p, 1));
  }
  m.flush();
  ASSERT_EQ(sink.flows.size(), 20000u);
  for (const FlowRecord& r : sink.flows) EXPECT_EQ(r.fwd.packets, 2u);
  EXPECT_LT(m.stats().peak_flows, 1100u);
}

// Under an address-space limit the flow table reserves what the system grants and, once that is
// full, ends the least recently used flows: every packet is still counted, nothing crashes.
TEST(Meter, KeepsCountingWhenMemoryRunsOut) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "an address-space limit does not mix with a sanitizer's shadow memory";
#else
  struct CountSink : FlowSink {
    void write(std::span<const FlowRecord> records) override {
      for (const FlowRecord& r : records) {
        packets += r.fwd.packets + r.rev.packets;
        if (r.end_reason == EndReason::kLackOfResources) ++evicted;
      }
      flows += records.size();
    }
    uint64_t flows = 0, packets = 0, evicted = 0;
  } sink;
  std::vector<uint8_t> frame = udp("10.0.0.1", "10.0.0.2", 1, 53);
  capture::RawPacket p;
  p.data = frame.data();
  p.caplen = p.wirelen = uint32_t(frame.size());
  p.linktype = 1;
  constexpr uint64_t kFlows = 1'500'000;

  long pages = 0;
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  ASSERT_NE(statm, nullptr);
  ASSERT_EQ(std::fscanf(statm, "%ld", &pages), 1);
  std::fclose(statm);
  struct Limit {  // restores the limit however the test ends
    explicit Limit(rlim_t bytes) {
      getrlimit(RLIMIT_AS, &old);
      rlimit l = old;
      l.rlim_cur = bytes;
      ok = setrlimit(RLIMIT_AS, &l) == 0;
    }
    ~Limit() { setrlimit(RLIMIT_AS, &old); }
    rlimit old;
    bool ok;
  };
  Limit limit(rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)) + (rlim_t(256) << 20));
  ASSERT_TRUE(limit.ok);
  MeterStats stats;
  {
    MeterOptions o;
    o.stats = false;
    o.max_flows = 10'000'000;  // 1.9 GB of slots: the limit allows an eighth
    Meter m(o, sink);
    for (uint64_t i = 0; i < kFlows; ++i) {
      frame[14 + 13] = uint8_t(i >> 16);  // source address 10.x.y.z
      frame[14 + 14] = uint8_t(i >> 8);
      frame[14 + 15] = uint8_t(i);
      p.ts = Timestamp{int64_t(i) * 1000};
      m.process(std::span(&p, 1));
    }
    m.flush();
    stats = m.stats();
  }
  EXPECT_EQ(stats.no_memory, 0u);
  EXPECT_EQ(stats.decoded, kFlows);
  EXPECT_EQ(sink.flows, kFlows);
  EXPECT_EQ(sink.packets, kFlows);
  EXPECT_GT(sink.evicted, 0u);
  EXPECT_LT(stats.peak_flows, kFlows);
#endif
}

TEST(FlowKey, HashSecretIsDrawnOncePerProcess) {
  const HashSecret& s = HashSecret::of_process();
  EXPECT_EQ(&s, &HashSecret::of_process());
  EXPECT_EQ(std::memcmp(KeyOptions{}.hash_secret.w, s.w, sizeof s.w), 0);
  FlowKey k{};
  k.protocol = 6;
  HashSecret one = HashSecret::from_seed(1), two = HashSecret::from_seed(2);
  EXPECT_EQ(hash_key(k, one), hash_key(k, HashSecret::from_seed(1)));
  EXPECT_NE(hash_key(k, one), hash_key(k, two));
}

// The flow table finds a flow by the hash's low bits and tells flows apart by its low 32: over
// keys that differ in a few bits only, as real flows do, both must spread like random numbers.
TEST(FlowKey, HashSpreadsSimilarKeys) {
  constexpr size_t kBuckets = 1 << 16, kKeys = 1 << 20;
  for (uint64_t seed : {0ull, 1ull, 0x123456789abcdefull}) {
    HashSecret secret = HashSecret::from_seed(seed);
    std::vector<uint32_t> buckets(kBuckets);
    std::vector<uint32_t> low32;
    low32.reserve(kKeys);
    for (uint32_t i = 0; i < kKeys; ++i) {
      FlowKey k{};
      k.addr[0][10] = k.addr[0][11] = k.addr[1][10] = k.addr[1][11] = 0xff;  // IPv4-mapped
      k.addr[0][12] = 10;
      k.addr[0][15] = uint8_t(i % 7);  // a few hosts...
      k.addr[1][12] = 192;
      k.addr[1][15] = uint8_t(i >> 16);  // ...to a few servers
      k.port[0] = uint16_t(i);           // over many ports
      k.port[1] = uint16_t(i % 3 == 0 ? 443 : 53);
      k.protocol = i % 3 == 0 ? 6 : 17;
      k.ip_version = 4;
      uint64_t h = hash_key(k, secret);
      ++buckets[h & (kBuckets - 1)];
      low32.push_back(uint32_t(h));
    }
    // Chi-square over 65,535 degrees of freedom: mean 65,535, standard deviation 362.
    double expected = double(kKeys) / kBuckets, chi2 = 0;
    for (uint32_t n : buckets) chi2 += (n - expected) * (n - expected) / expected;
    EXPECT_LT(chi2, 65535 + 6 * 362) << "seed " << seed;
    EXPECT_GT(chi2, 65535 - 6 * 362) << "seed " << seed;
    // Collisions of 32-bit values among 2^20 random ones: about 128.
    std::sort(low32.begin(), low32.end());
    size_t same = 0;
    for (size_t i = 1; i < low32.size(); ++i) same += low32[i] == low32[i - 1];
    EXPECT_LT(same, 256u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace flowkit::meter
