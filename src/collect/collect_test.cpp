// The collector's parts on loopback and in memory: listen addresses, the packet queue, UDP and
// TCP receivers, sessions per exporter (eviction, TCP session ends, saved templates).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "collect/collector.h"
#include "collect/listen_address.h"
#include "collect/packet_queue.h"
#include "collect/receiver.h"
#include "core/byte_io.h"
#include "core/testing/collecting_sink.h"
#include "core/testing/temp_dir.h"
#include "ipfix/encoder.h"
#include "ipfix/wire_format.h"

namespace flowkit::collect {
namespace {

TEST(ListenAddress, TakesThePortsAndAddressesNfcapdUsersType) {
  auto a = parse_listen("9995");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->tcp);
  EXPECT_TRUE(a->any);
  EXPECT_EQ(a->port, 9995);
  auto b = parse_listen("127.0.0.1:2055");
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->any);
  EXPECT_EQ(b->addr.ss_family, AF_INET);
  auto c = parse_listen("ipfix+tcp://[::1]:4740");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->tcp);
  EXPECT_EQ(c->addr.ss_family, AF_INET6);
  EXPECT_EQ(c->port, 4740);
  auto d = parse_listen("ipfix+tcp://");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 4739);
  EXPECT_TRUE(d->any);
  EXPECT_FALSE(parse_listen("70000").ok());
  EXPECT_FALSE(parse_listen("sctp://:4739").ok());
  EXPECT_FALSE(parse_listen("[::1:4739").ok());
}

TEST(PacketQueue, BlocksCarryDatagramsAndTheQueueIsBounded) {
  PacketQueue q(0);  // the least: 4 blocks
  auto b = q.get_block();
  ASSERT_TRUE(b);
  Origin from{IpAddress::v4(0x7f000001), 5000, 2, false, false};
  std::vector<uint8_t> big(60000, 0xab), small{1, 2, 3};
  size_t n = 0;
  while (b->append(from, 42, n % 2 ? std::span<const uint8_t>(small) : big)) ++n;
  EXPECT_EQ(n, 34u);  // 17 of each fit in 1 MiB
  std::vector<size_t> sizes;
  b->for_each([&](const Datagram& d) {
    EXPECT_EQ(d.from, from);
    EXPECT_EQ(d.received_ns, 42);
    sizes.push_back(d.bytes.size());
    if (d.bytes.size() == 3) {
      EXPECT_EQ(d.bytes[2], 3);
    }
  });
  ASSERT_EQ(sizes.size(), n);
  q.push(std::move(b));
  std::vector<std::unique_ptr<PacketBlock>> held;
  while (auto more = q.get_block()) held.push_back(std::move(more));
  EXPECT_EQ(held.size(), 3u);  // the fourth is queued
  auto got = q.pop(std::chrono::milliseconds(0));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->count(), n);
  q.recycle(std::move(got));
  EXPECT_TRUE(q.get_block());
  EXPECT_FALSE(q.pop(std::chrono::milliseconds(0)));
}

// IPFIX messages of `flows` flows as flowkit's encoder writes them.
std::vector<std::vector<uint8_t>> ipfix_messages(int flows, uint32_t domain = 1) {
  ipfix::EncoderOptions o;
  o.observation_domain = domain;
  std::vector<std::vector<uint8_t>> out;
  auto enc = ipfix::make_encoder(
      o, Timestamp::from_seconds(1'699'000'000),
      [&](std::span<const uint8_t> m) { out.emplace_back(m.begin(), m.end()); }, nullptr);
  for (int i = 0; i < flows; ++i) {
    FlowRecord r;
    r.ip_version = 4;
    r.protocol = 17;
    r.src_ip = IpAddress::v4(0x0a000000u + uint32_t(i));
    r.dst_ip = IpAddress::v4(0x0a010000u + uint32_t(i));
    r.src_port = uint16_t(1000 + i);
    r.dst_port = 53;
    r.fwd.packets = uint64_t(i + 1);
    r.fwd.bytes = uint64_t(100 * (i + 1));
    r.fwd.first = Timestamp::from_seconds(1'700'000'000);
    r.fwd.last = Timestamp::from_seconds(1'700'000'001);
    enc->add(r, Timestamp::from_seconds(1'700'000'002));
  }
  enc->flush(Timestamp::from_seconds(1'700'000'002));
  return out;
}

TEST(Collector, SessionsPerExporterAreBoundedAndTemplatesSurviveARestart) {
  auto messages = ipfix_messages(50);
  ASSERT_GE(messages.size(), 1u);
  testing::TempDir dir;
  std::string path = dir.file("templates");
  testing::CollectingSink sink;
  CollectorOptions o;
  o.max_exporters = 2;
  {
    Collector c(o, sink);
    for (uint16_t port : {1000, 1001, 1002}) {
      Origin from{IpAddress::v4(0x7f000001), port, 0, false, false};
      for (const auto& m : messages) c.receive({from, port * 10, m});
    }
    c.flush();
    EXPECT_EQ(sink.flows.size(), 150u);
    EXPECT_EQ(c.exporters().size(), 2u);  // 1000 made room for 1002
    EXPECT_EQ(c.evicted(), 1u);
    EXPECT_EQ(c.totals().decoder.records, 150u);
    EXPECT_EQ(sink.flows[0].exporter_ip, IpAddress::v4(0x7f000001));
    EXPECT_TRUE(c.templates_changed());
    ASSERT_TRUE(c.save_templates(path).ok());
    EXPECT_FALSE(c.templates_changed());
  }
  // A new collector with the saved templates decodes data sets at once: the messages with
  // their template sets cut out.
  std::vector<std::vector<uint8_t>> data_only;
  for (const auto& m : messages) {
    std::vector<uint8_t> d(m.begin(), m.begin() + ipfix::kIpfixHeader);
    for (size_t off = ipfix::kIpfixHeader; off + 4 <= m.size();) {
      size_t len = load_be16(m.data() + off + 2);
      if (load_be16(m.data() + off) >= ipfix::kFirstTemplateId)
        d.insert(d.end(), m.begin() + ptrdiff_t(off), m.begin() + ptrdiff_t(off + len));
      off += len;
    }
    store_be16(d.data() + 2, uint16_t(d.size()));
    data_only.push_back(std::move(d));
  }
  testing::CollectingSink after;
  Collector c2(o, after);
  ASSERT_TRUE(c2.load_templates(path).ok());
  for (const auto& m : data_only)
    c2.receive({{IpAddress::v4(0x7f000001), 1002, 0, false, false}, 1, m});
  c2.flush();
  EXPECT_EQ(c2.totals().decoder.held_sets, 0u);
  EXPECT_EQ(after.flows.size(), 50u);
  EXPECT_TRUE(c2.load_templates(dir.file("none")).ok());  // a first start
}

TEST(Collector, ATcpSessionsTemplatesEndWithIt) {
  auto messages = ipfix_messages(5);
  testing::CollectingSink sink;
  Collector c({}, sink);
  Origin tcp{IpAddress::v4(0x7f000001), 40000, 0, true, false};
  for (const auto& m : messages) c.receive({tcp, 1, m});
  Origin end = tcp;
  end.end = true;
  c.receive({end, 2, {}});
  EXPECT_EQ(c.exporters().size(), 0u);
  EXPECT_EQ(c.totals().decoder.records, 5u);
}

TEST(Collector, RenormalizeScalesCountersBySampling) {
  // A NetFlow v5 packet of one flow, 1 in 100 packets sampled (header bits 0-13).
  std::vector<uint8_t> m(24 + 48, 0);
  store_be16(m.data(), 5);
  store_be16(m.data() + 2, 1);
  store_be32(m.data() + 8, 1'700'000'000);
  store_be16(m.data() + 22, 100);
  store_be32(m.data() + 24 + 16, 3);    // packets
  store_be32(m.data() + 24 + 20, 400);  // bytes
  m[24 + 38] = 17;
  for (bool renormalize : {false, true}) {
    testing::CollectingSink sink;
    CollectorOptions o;
    o.renormalize = renormalize;
    Collector c(o, sink);
    c.receive({{IpAddress::v4(0x7f000001), 9, 0, false, false}, 1, m});
    c.flush();
    ASSERT_EQ(sink.flows.size(), 1u);
    EXPECT_EQ(sink.flows[0].sampling_interval, 100u);
    EXPECT_EQ(sink.flows[0].fwd.packets, renormalize ? 300u : 3u);
    EXPECT_EQ(sink.flows[0].fwd.bytes, renormalize ? 40000u : 400u);
  }
}

// A socket sending to 127.0.0.1:port.
struct Sender {
  explicit Sender(int type) : fd(::socket(AF_INET, type, 0)) {}
  ~Sender() { ::close(fd); }
  bool connect(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  int fd;
};

uint16_t free_port(int type) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Pops blocks until `n` datagrams came or a second passed.
std::vector<std::vector<uint8_t>> drain(PacketQueue& q, size_t n, std::vector<Origin>* from) {
  std::vector<std::vector<uint8_t>> got;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (got.size() < n && std::chrono::steady_clock::now() < until) {
    auto b = q.pop(std::chrono::milliseconds(50));
    if (!b) continue;
    b->for_each([&](const Datagram& d) {
      got.emplace_back(d.bytes.begin(), d.bytes.end());
      if (from) from->push_back(d.from);
    });
    q.recycle(std::move(b));
  }
  return got;
}

TEST(Receiver, UdpDatagramsArriveWhole) {
  uint16_t port = free_port(SOCK_DGRAM);
  auto where = parse_listen("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(where.ok());
  auto r = open_receiver(*where, 3, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  PacketQueue q(size_t(8) << 20);
  (*r)->start(q);
  Sender s(SOCK_DGRAM);
  ASSERT_TRUE(s.connect(port));
  for (int i = 0; i < 100; ++i) {
    std::vector<uint8_t> m(size_t(20 + i), uint8_t(i));
    ASSERT_EQ(::send(s.fd, m.data(), m.size(), 0), ssize_t(m.size()));
  }
  std::vector<Origin> from;
  auto got = drain(q, 100, &from);
  (*r)->stop();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(got[size_t(i)].size(), size_t(20 + i));
    EXPECT_EQ(got[size_t(i)].back(), uint8_t(i));
  }
  EXPECT_EQ(from[0].source, 3);
  EXPECT_EQ(from[0].address, IpAddress::v4(0x7f000001));
  EXPECT_EQ((*r)->stats().datagrams, 100u);
  EXPECT_EQ((*r)->stats().queue_drops, 0u);
  // The port is taken now: a second listener says so.
  auto again = open_receiver(*where, 0, {});
  auto twice = open_receiver(*where, 0, {});
  EXPECT_FALSE(twice.ok() && again.ok());
}

TEST(Receiver, TcpStreamsAreCutIntoMessagesAndALyingOneEndsTheConnection) {
  uint16_t port = free_port(SOCK_STREAM);
  auto where = parse_listen("ipfix+tcp://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(where.ok());
  auto r = open_receiver(*where, 0, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  PacketQueue q(size_t(8) << 20);
  (*r)->start(q);
  auto messages = ipfix_messages(200);
  std::vector<uint8_t> stream;
  for (const auto& m : messages) stream.insert(stream.end(), m.begin(), m.end());
  {
    Sender s(SOCK_STREAM);
    ASSERT_TRUE(s.connect(port));
    // In pieces that cut messages and headers.
    for (size_t off = 0; off < stream.size(); off += 7) {
      size_t n = std::min<size_t>(7, stream.size() - off);
      ASSERT_EQ(::send(s.fd, stream.data() + off, n, 0), ssize_t(n));
    }
  }
  std::vector<Origin> from;
  auto got = drain(q, messages.size() + 1, &from);
  ASSERT_EQ(got.size(), messages.size() + 1);
  for (size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(got[i], messages[i]);
  EXPECT_TRUE(from.back().end);
  EXPECT_TRUE(from.front().stream);
  {
    Sender s(SOCK_STREAM);
    ASSERT_TRUE(s.connect(port));
    uint8_t lie[8] = {0, 10, 0, 3, 0, 0, 0, 0};  // length 3: shorter than a header
    ::send(s.fd, lie, sizeof lie, 0);
    from.clear();
    auto cut = drain(q, 1, &from);
    ASSERT_EQ(cut.size(), 1u);
    EXPECT_TRUE(from[0].end);
  }
  (*r)->stop();
  EXPECT_EQ((*r)->stats().bad_streams, 1u);
  EXPECT_EQ((*r)->stats().connections, 2u);
}

}  // namespace
}  // namespace flowkit::collect
