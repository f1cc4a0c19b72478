// TrafficGenerator: a synthetic but protocol-correct capture for demos, tests and benchmarks.
// Thousands of clients talk to hundreds of servers in many concurrent sessions (TCP with
// handshakes and teardowns, HTTP, TLS 1.3, DNS, ICMP echo, fragmented UDP), over IPv4 and IPv6,
// some behind 802.1Q/QinQ tags, with valid checksums everywhere. Sessions are interleaved by an
// event queue, so packets come out in time order.
//
// Deterministic: the same options (seed included) give byte-identical packets on every run.
// Packets are built in the caller's buffer; nothing is allocated per packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/timestamp.h"
#include "gen/pcap_writer.h"

namespace flowkit::gen {

enum class SessionKind : uint8_t {
  kTcp,       // generic request/response TCP on assorted ports
  kHttp,      // HTTP/1.1 on port 80, keep-alive, GET and POST
  kTls,       // TLS 1.3 on 443: ClientHello with SNI/ALPN, ServerHello, application data
  kDns,       // one A/AAAA/HTTPS query and its response over UDP 53
  kDnsLarge,  // a TXT query whose response is IP-fragmented (sometimes fragments reordered)
  kIcmp,      // ping: ICMP or ICMPv6 echo requests and replies
  kCount
};
constexpr size_t kSessionKinds = size_t(SessionKind::kCount);
std::string_view session_kind_name(SessionKind kind);

// 2024-01-15T09:00:00Z: a Monday morning.
constexpr Timestamp kDefaultStart = Timestamp::from_seconds(1705309200);

struct GeneratorOptions {
  uint64_t seed = 1;
  uint64_t packets = 100000;  // stop after this many packets; 0 = no packet limit
  uint64_t bytes = 0;         // stop once this many frame bytes are out; 0 = no byte limit
  uint32_t hosts = 0;         // client hosts; 0 = packets / 200 (64..20000)
  uint32_t servers = 0;       // server hosts; 0 = hosts / 8 (16..4000)
  Timestamp start = kDefaultStart;
  // Share of sessions over IPv6; that share + 0.2 of the clients (and + 0.3 of the servers) are
  // dual-stack. 0 = IPv4 only.
  double ipv6_share = 0.2;
  // Share of client /27 subnets (one VLAN each) behind an 802.1Q tag; a tenth of the tagged
  // ones, from the second on, are QinQ (802.1ad outer tag).
  double vlan_share = 0.1;
  double sessions_per_second = 2000;
  // Relative weights of new sessions, indexed by SessionKind.
  std::array<double, kSessionKinds> weights = {4, 3, 10, 70, 1.5, 2.5};
};

struct GeneratorStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;                              // frame bytes (what a pcap record holds)
  std::array<uint64_t, kSessionKinds> sessions{};  // started, by kind
  uint64_t ipv6_packets = 0;
  uint64_t vlan_packets = 0;
  uint64_t fragments = 0;            // IPv4 and IPv6 fragments
  uint64_t reordered_datagrams = 0;  // fragmented datagrams sent last fragment first
};

struct PacketMeta {
  Timestamp ts;
  uint32_t length = 0;  // frame bytes written
};

class TrafficGenerator {
 public:
  // 1500-byte IP MTU + Ethernet header + two VLAN tags, rounded up.
  static constexpr size_t kMaxFrameSize = 1536;

  // Fails on options out of range (shares outside [0, 1], no positive weight, no target).
  static Result<std::unique_ptr<TrafficGenerator>> create(const GeneratorOptions& options);
  ~TrafficGenerator();
  TrafficGenerator(const TrafficGenerator&) = delete;
  TrafficGenerator& operator=(const TrafficGenerator&) = delete;

  // Builds the next packet (timestamps never decrease) into frame, which must have room for
  // kMaxFrameSize bytes. Returns false once the packet or byte target is reached.
  bool next(uint8_t* frame, PacketMeta* meta);

  const GeneratorStats& stats() const;
  const GeneratorOptions& options() const;

 private:
  struct Impl;
  explicit TrafficGenerator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Generates to a pcap file ("-" = standard output).
Result<GeneratorStats> write_generated_pcap(const GeneratorOptions& options,
                                            const std::string& path,
                                            const PcapWriterOptions& writer_options = {},
                                            const ProgressFn& progress = {});

}  // namespace flowkit::gen
