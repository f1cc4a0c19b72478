#include "meter/pipeline.h"

#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/collecting_sink.h"
#include "packet/testing/frame_builder.h"

namespace flowkit::meter {
namespace {

using packet::testing::Frame;

using Collect = flowkit::testing::CollectingSink;

struct Packet {
  int64_t ts;
  std::vector<uint8_t> data;
};

// Hands out packets in batches of at most `max_batch` through one buffer that it overwrites on
// every call, so the data of an earlier batch really is gone. Warns once, halfway. With
// `stall_every`, every so many calls return nothing before the end (as a filtered file does).
class ScribblingSource final : public capture::PacketSource {
 public:
  ScribblingSource(const std::vector<Packet>& packets, size_t max_batch, size_t stall_every = 0)
      : packets_(packets),
        max_batch_(max_batch),
        stall_every_(stall_every),
        buffer_(max_batch * 2048) {}
  size_t read_batch(std::span<capture::RawPacket> out) override {
    std::memset(buffer_.data(), 0xee, buffer_.size());
    if (stall_every_ && ++calls_ % stall_every_ == 0) return 0;
    size_t n = 0, used = 0;
    while (n < out.size() && n < max_batch_ && pos_ < packets_.size()) {
      const Packet& p = packets_[pos_++];
      std::memcpy(buffer_.data() + used, p.data.data(), p.data.size());
      uint32_t len = uint32_t(p.data.size());
      out[n++] = {Timestamp{p.ts}, buffer_.data() + used, len, len, 1, 0};
      used += p.data.size();
    }
    stats_.packets += n;
    if (!warned_ && pos_ >= packets_.size() / 2) {
      warned_ = true;
      warnings_.push_back("halfway");
    }
    return n;
  }
  bool finished() const override { return pos_ == packets_.size(); }
  capture::SourceStats stats() const override { return stats_; }
  const std::vector<capture::InterfaceInfo>& interfaces() const override { return interfaces_; }
  std::vector<std::string> take_warnings() override { return std::move(warnings_); }

 private:
  const std::vector<Packet>& packets_;
  size_t max_batch_;
  size_t stall_every_;
  size_t calls_ = 0;
  std::vector<uint8_t> buffer_;
  size_t pos_ = 0;
  bool warned_ = false;
  capture::SourceStats stats_;
  std::vector<capture::InterfaceInfo> interfaces_;
  std::vector<std::string> warnings_;
};

// TCP, UDP and ICMP between many hosts, both directions, with fragments out of order, some in a
// VXLAN tunnel or under an MPLS label, spread over time so that idle timeouts end flows while
// others go on.
std::vector<Packet> traffic(size_t n) {
  std::vector<Packet> out;
  uint32_t x = 12345;
  auto next = [&x] { return x = x * 1103515245 + 12345, x >> 8; };
  for (size_t i = 0; i < n; ++i) {
    std::string a = "10.0." + std::to_string(next() % 40) + "." + std::to_string(next() % 250);
    std::string b = "192.168.1." + std::to_string(next() % 50);
    bool rev = next() % 2;
    const char* s = rev ? b.c_str() : a.c_str();
    const char* d = rev ? a.c_str() : b.c_str();
    uint16_t sp = rev ? 80 : 40000, dp = rev ? 40000 : 80;
    int64_t ts = int64_t(i) * 7'000'000;
    switch (next() % 8) {
      case 0:
        out.push_back({ts, Frame().eth(0x0800).ipv4(17, s, d).udp(sp, dp).payload(30).done()});
        break;
      case 1:
        out.push_back(
            {ts,
             Frame().eth(0x0800).ipv4(1, s, d).bytes({8, 0, 0, 0, 0, 1, 0, 1}).payload(20).done()});
        break;
      case 2: {  // a datagram in two fragments, the second first
        uint16_t id = uint16_t(next());
        out.push_back({ts, Frame().eth(0x0800).ipv4(17, s, d, 3, id).payload(40).done()});
        out.push_back(
            {ts + 1000,
             Frame().eth(0x0800).ipv4(17, s, d, 0x2000, id).udp(sp, dp).payload(16).done()});
        break;
      }
      case 3: {  // the tunnel's endpoints and id vary, so that a stale copy of them shows
        std::string outer = "192.0.2." + std::to_string(next() % 250);
        out.push_back({ts, Frame()
                               .eth(0x0800)
                               .ipv4(17, outer.c_str(), "198.51.100.1")
                               .udp(5000, 4789)
                               .bytes({8, 0, 0, 0})
                               .be32(next() << 8)
                               .eth(0x0800)
                               .ipv4(17, s, d)
                               .udp(sp, dp)
                               .payload(20)
                               .done()});
        break;
      }
      case 4:  // one MPLS label, bottom of stack, TTL 64
        out.push_back({ts, Frame()
                               .eth(0x8847)
                               .be32((next() % 0x100000) << 12 | 0x100 | 64)
                               .ipv4(6, s, d)
                               .tcp(sp, dp, 0x18)
                               .payload(next() % 900)
                               .done()});
        break;
      case 5: {  // a DNS query and its answer: dissected strings and lists cross the threads
        std::string host = "h" + std::to_string(next() % 500);
        uint16_t id = uint16_t(next()), port = uint16_t(1024 + next() % 60000);
        auto dns = [&](bool answer) {
          Frame f;
          f.eth(0x0800).ipv4(17, answer ? b.c_str() : a.c_str(), answer ? a.c_str() : b.c_str());
          f.udp(answer ? 53 : port, answer ? port : 53).be16(id).be16(answer ? 0x8180 : 0x0100);
          f.be16(1).be16(answer ? 1 : 0).be32(0);
          f.bytes({int(host.size())}).text(host).bytes({3}).text("lan").bytes({0}).be32(0x10001);
          if (answer) f.be16(0xc00c).be32(0x10001).be32(60).be16(4).bytes({10, 9, 8, 7});
          return f.done();
        };
        out.push_back({ts, dns(false)});
        out.push_back({ts + 500, dns(true)});
        break;
      }
      case 6: {  // an HTTP request in one segment
        std::string req = "GET /p" + std::to_string(next() % 100) + " HTTP/1.1\r\nHost: " + b +
                          "\r\nUser-Agent: t\r\n\r\n";
        out.push_back({ts, Frame()
                               .eth(0x0800)
                               .ipv4(6, a.c_str(), b.c_str())
                               .tcp(uint16_t(1024 + next() % 60000), 80, 0x18)
                               .text(req)
                               .done()});
        break;
      }
      default:
        out.push_back(
            {ts, Frame().eth(0x0800).ipv4(6, s, d).tcp(sp, dp, 0x18).payload(next() % 900).done()});
    }
  }
  return out;
}

// A sink that outlives the test: records view strings in its arena.
Collect& kept_sink() {
  static std::deque<Collect> sinks;
  return sinks.emplace_back();
}

std::vector<FlowRecord> one_thread(const std::vector<Packet>& packets, const MeterOptions& o) {
  Collect& sink = kept_sink();
  Meter m(o, sink);
  ScribblingSource src(packets, 100);
  std::vector<capture::RawPacket> batch(256);
  while (size_t n = src.read_batch(batch)) m.process(std::span(batch.data(), n));
  m.flush();
  return sink.flows;
}

// `keyed_batches`, when given, counts the batches that came keyed; with `slow`, the counting
// thread falls behind at the start, so that the reader thread keys batches.
std::vector<FlowRecord> two_threads(const std::vector<Packet>& packets, const MeterOptions& o,
                                    std::vector<std::string>* warnings = nullptr,
                                    size_t* keyed_batches = nullptr, bool slow = false,
                                    size_t stall_every = 0) {
  Collect& sink = kept_sink();
  Meter m(o, sink);
  ScribblingSource src(packets, 100, stall_every);
  {
    PreparedSource prepared(src, o);
    if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (;;) {
      const PreparedSource::Batch& b = prepared.next();
      if (keyed_batches && b.keyed) ++*keyed_batches;
      if (warnings) warnings->insert(warnings->end(), b.warnings.begin(), b.warnings.end());
      if (b.end) {
        EXPECT_TRUE(b.packets.empty());
        EXPECT_EQ(b.stats.packets, packets.size());
        break;
      }
      if (!b.packets.empty()) m.count(b.packets, b.keyed);
    }
  }
  m.flush();
  return sink.flows;
}

TEST(PreparedSource, GivesTheSameFlowsAsOneThread) {
  std::vector<Packet> packets = traffic(20000);
  MeterOptions o;
  o.idle_timeout_ns = 30'000'000'000;
  std::vector<std::string> warnings;
  std::vector<FlowRecord> a = one_thread(packets, o);
  std::vector<FlowRecord> b = two_threads(packets, o, &warnings);
  ASSERT_GT(a.size(), 1000u);
  size_t tunneled = 0, labeled = 0, named = 0, requested = 0;
  for (const FlowRecord& r : a) {
    tunneled += r.tunnel_type != TunnelType::kNone;
    labeled += r.fwd.mpls_depth > 0;
    named += r.dns_resp_rr.size == 1 && r.app.dns_query_name.ends_with(".lan");
    requested += r.app.http_method == "GET";
  }
  EXPECT_GT(tunneled, 100u);
  EXPECT_GT(labeled, 100u);
  // The source overwrites its buffer: the second thread dissects copies of these payloads.
  EXPECT_GT(named, 100u);
  EXPECT_GT(requested, 100u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(a[i] == b[i]) << "record " << i;
  EXPECT_EQ(warnings, std::vector<std::string>{"halfway"});
}

// The hash secret (which also seeds the fragment table's hash) only decides where the tables keep
// a flow or a datagram: the flows, and their order, stay the same.
TEST(PreparedSource, FlowsDoNotDependOnTheHashSecret) {
  std::vector<Packet> packets = traffic(20000);
  MeterOptions o;
  o.idle_timeout_ns = 30'000'000'000;
  o.key.hash_secret = HashSecret::from_seed(1);
  std::vector<FlowRecord> a = one_thread(packets, o);
  o.key.hash_secret = HashSecret::from_seed(2);
  std::vector<FlowRecord> b = one_thread(packets, o);
  o.key.hash_secret = HashSecret::from_seed(3);
  std::vector<FlowRecord> c = two_threads(packets, o);
  ASSERT_GT(a.size(), 1000u);
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(a == c);
}

TEST(PreparedSource, EmptyBatchesBeforeTheEndDoNotEndIt) {
  std::vector<Packet> packets = traffic(5000);
  MeterOptions o;
  std::vector<FlowRecord> a = one_thread(packets, o);
  std::vector<FlowRecord> b = two_threads(packets, o, nullptr, nullptr, false, 3);
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b);
}

TEST(PreparedSource, KeysMadeByEitherThreadGiveTheSameFlows) {
  std::vector<Packet> packets = traffic(20000);
  MeterOptions o;
  size_t keyed = 0;
  std::vector<FlowRecord> a = one_thread(packets, o);
  std::vector<FlowRecord> b = two_threads(packets, o, nullptr, &keyed, true);
  EXPECT_GT(keyed, 0u);  // the reader thread keyed some batches while this one slept
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(a[i] == b[i]) << "record " << i;
}

TEST(PreparedSource, SamplesLikeOneThread) {
  std::vector<Packet> packets = traffic(5000);
  MeterOptions o;
  o.sample = 3;
  o.key.biflow = false;
  std::vector<FlowRecord> a = one_thread(packets, o);
  std::vector<FlowRecord> b = two_threads(packets, o);
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b);
}

TEST(PreparedSource, StopsEarlyWithoutHanging) {
  std::vector<Packet> packets = traffic(50000);
  ScribblingSource src(packets, 100);
  MeterOptions o;
  for (int taken = 0; taken < 3; ++taken) {
    PreparedSource prepared(src, o);
    for (int i = 0; i < taken; ++i) EXPECT_FALSE(prepared.next().packets.empty());
  }  // each destructor stops a reader that may be waiting for a free slot
  EXPECT_FALSE(src.finished());
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// A reader slower than the counting thread (a cold disk, a pipe): the counting thread sleeps
// while it waits for batches instead of spinning its core away. Spinning through every wait,
// as it once did, it used as much CPU as the run took time.
TEST(PreparedSource, WaitingForASlowReaderCostsLittleCpu) {
  class SlowSource final : public capture::PacketSource {
   public:
    explicit SlowSource(const std::vector<Packet>& packets) : inner_(packets, 100) {}
    size_t read_batch(std::span<capture::RawPacket> out) override {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      return inner_.read_batch(out);
    }
    bool finished() const override { return inner_.finished(); }
    capture::SourceStats stats() const override { return inner_.stats(); }
    const std::vector<capture::InterfaceInfo>& interfaces() const override {
      return inner_.interfaces();
    }

   private:
    ScribblingSource inner_;
  };
  std::vector<Packet> packets = traffic(20000);  // 200 batches
  SlowSource src(packets);
  PreparedSource prepared(src, MeterOptions{});
  const double cpu0 = thread_cpu_seconds();
  const auto wall0 = std::chrono::steady_clock::now();
  size_t n = 0;
  for (const PreparedSource::Batch* b; !(b = &prepared.next())->end;) n += b->packets.size();
  const double cpu = thread_cpu_seconds() - cpu0;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  EXPECT_EQ(n, packets.size());
  EXPECT_LT(cpu, 0.25 * wall) << "cpu " << cpu << " s, wall " << wall << " s";
}

TEST(PreparedSource, EmptySourceEndsAtOnce) {
  std::vector<Packet> none;
  ScribblingSource src(none, 100);
  PreparedSource prepared(src, MeterOptions{});
  EXPECT_TRUE(prepared.next().end);
  EXPECT_TRUE(prepared.next().end);
  EXPECT_TRUE(prepared.next().packets.empty());
}

}  // namespace
}  // namespace flowkit::meter
