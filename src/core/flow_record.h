// FlowRecord: the one flow model every stage speaks. A meter or a collector fills it; stores,
// exporters and writers read it. Biflows follow RFC 5103: `fwd` is the direction of the packet
// that opened the flow, `rev` the other; a uniflow leaves `rev` empty. Which fields exist, and
// how each maps to IPFIX, NetFlow, nfdump, CSV/JSON and ClickHouse, is in field_registry.h.
//
// Strings and lists are views into an arena that the batch of records owns (core/arena.h): a
// record is valid as long as the batch it came in, and a sink that keeps records copies them
// (copy_record in core/arena.h).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/ip_address.h"
#include "core/timestamp.h"

namespace flowkit {

enum class Direction : uint8_t { kForward = 0, kReverse = 1 };

// IPFIX flowEndReason (IANA element 136) values.
enum class EndReason : uint8_t {
  kUnknown = 0,
  kIdleTimeout = 1,
  kActiveTimeout = 2,
  kEndOfFlow = 3,        // TCP FIN in both directions, or RST; a new WireGuard handshake
  kForcedEnd = 4,        // end of input, Ctrl-C/SIGTERM
  kLackOfResources = 5,  // evicted from a full flow cache
};
inline constexpr std::string_view kEndReasonNames[] = {"unknown", "idle",   "active",
                                                       "end",     "forced", "lack-of-resources"};

enum class TunnelType : uint8_t {
  kNone = 0,
  kGre = 1,
  kVxlan = 2,
  kGeneve = 3,
  kIpInIp = 4,
  kGtpU = 5,
  kTeredo = 6,
};
inline constexpr std::string_view kTunnelTypeNames[] = {"none", "gre",  "vxlan", "geneve",
                                                        "ipip", "gtpu", "teredo"};

// Min, max, mean and population standard deviation of a series (flowRecorder's statistics).
struct SummaryStats {
  double min = 0, max = 0, mean = 0, stddev = 0;
  friend bool operator==(const SummaryStats&, const SummaryStats&) = default;
};

// A list value in a record: `size` items of type T in the batch's arena.
template <class T>
struct List {
  const T* items = nullptr;
  uint32_t size = 0;

  std::span<const T> span() const { return {items, size}; }
  friend bool operator==(const List& a, const List& b) {
    if (a.size != b.size) return false;
    for (uint32_t i = 0; i < a.size; ++i)
      if (!(a.items[i] == b.items[i])) return false;
    return true;
  }
};

struct FieldInfo;
// A list without its item type, as the registry hands it around: items are laid out as the
// field's item struct (FieldInfo::item_size bytes each). Equality compares item by item.
struct ListRef {
  const void* items = nullptr;
  uint32_t size = 0;
  const FieldInfo* field = nullptr;  // the list field (for its item layout); set by get()
  friend bool operator==(const ListRef& a, const ListRef& b);
};

// One resource record of a DNS response (FlowTest's dns_resp_rr).
struct DnsAnswer {
  std::string_view name;
  uint16_t type = 0;
  uint16_t rr_class = 0;
  uint32_t ttl = 0;
  std::string_view data;  // the record's data as text (an address, a name)
  friend bool operator==(const DnsAnswer&, const DnsAnswer&) = default;
};

// One of a flow's first packets (SPLT: sequence of packet lengths and times).
struct SpltPacket {
  uint16_t size = 0;      // IP bytes
  uint8_t direction = 0;  // 0 forward, 1 reverse
  uint32_t iat_us = 0;    // microseconds since the flow's previous packet (0 for the first)
  friend bool operator==(const SpltPacket&, const SpltPacket&) = default;
};

// What payload dissectors learn about a flow (src/dissect; fields.def says what each means).
// Every field has a presence bit of its own.
struct AppRecord {
  uint16_t dns_id = 0, dns_query_type = 0, dns_query_class = 0;
  uint8_t dns_rcode = 0;
  uint16_t http_method_id = 0;
  uint16_t http_status_code = 0;
  uint16_t tls_client_version = 0, tls_server_version = 0, tls_cipher_suite = 0;
  uint16_t tcp_syn_size = 0;
  uint32_t tcp_rtt_server = 0, tcp_rtt_client = 0;  // microseconds
  uint8_t ovpn_conf_level = 0, wg_conf_level = 0;
  uint32_t wg_src_peer = 0, wg_dst_peer = 0;
  uint32_t quic_version = 0;
  uint64_t tls_not_before = 0, tls_not_after = 0;  // seconds since 1970
  std::string_view dns_query_name;
  std::string_view http_host, http_url, http_method, http_agent, http_content_type, http_referer;
  std::string_view tls_sni, tls_alpn, tls_ja3, tls_ja3s, tls_ja4;
  std::string_view tls_subject_cn, tls_issuer_cn, tls_public_key_alg;
  std::string_view app_label, app_category;
  std::string_view traffic_direction, src_host, dst_host;
  std::string_view src_country, dst_country, src_as_org, dst_as_org;

  friend bool operator==(const AppRecord&, const AppRecord&) = default;
};

struct DirectionRecord {
  uint64_t packets = 0;
  uint64_t bytes = 0;        // IP total length (IPv6: 40 + payload length), inner packet
  uint64_t bytes_outer = 0;  // outermost IP length when the packets came through a tunnel
  Timestamp first, last;
  uint32_t flow_label = 0;   // IPv6 flow label of the first packet
  uint32_t in_if = 0;        // input interface of the first packet
  uint32_t out_if = 0;       // output interface (a router's)
  uint8_t tcp_flags = 0;     // OR of all packets
  uint8_t tos = 0, ttl = 0;  // of the first packet
  uint8_t ttl_min = 0, ttl_max = 0;
  uint8_t icmp_type = 0, icmp_code = 0;  // of the first packet
  bool has_mac = false;
  MacAddress src_mac, dst_mac;
  uint8_t vlan_depth = 0;  // 0 none, 1 single tag, 2 QinQ
  uint16_t vlan_id = 0, vlan_id_inner = 0;
  uint8_t mpls_depth = 0;                // labels seen (only the top three are kept)
  std::array<uint32_t, 3> mpls_label{};  // top of stack first, as IPFIX's 3-byte label
                                         // stack section: label << 4 | TC << 1 | S
  SummaryStats pkt_size;                 // bytes per packet
  SummaryStats piat;                     // packet inter-arrival time, seconds
  std::string_view interface_name;       // of in_if
  // What the dissectors (src/dissect) saw in this direction.
  uint64_t tcp_options = 0;  // option kinds, ipfixprobe's bitmap (fields.def)
  uint16_t tcp_mss = 0, tcp_init_win = 0;
  uint8_t tcp_win_scale = 0;
  uint32_t tcp_retransmitted = 0, tcp_out_of_order = 0, tcp_zero_windows = 0;
  uint16_t dns_flags = 0;
  std::string_view banner;  // SSH identification string
  uint32_t present = 0;     // bits of this direction's kSet fields (registry)

  friend bool operator==(const DirectionRecord&, const DirectionRecord&) = default;
};

// ICMP or ICMPv6: flows keyed and shown by type and code rather than ports.
inline bool is_icmp(uint8_t protocol) {
  return protocol == 1 || protocol == 58;
}

struct FlowRecord {
  IpAddress src_ip, dst_ip;  // forward direction's source and destination
  uint16_t src_port = 0, dst_port = 0;
  uint8_t protocol = 0;
  uint8_t ip_version = 0;
  EndReason end_reason = EndReason::kUnknown;
  bool biflow = false;             // rev is meaningful
  bool has_stats = false;          // pkt_size/piat statistics were computed
  uint32_t sampling_interval = 1;  // 1-in-N packet sampling; 1 = every packet
  TunnelType tunnel_type = TunnelType::kNone;
  uint32_t tunnel_id = 0;  // VXLAN/Geneve VNI, GRE key, GTP-U TEID
  IpAddress outer_src_ip, outer_dst_ip;
  DirectionRecord fwd, rev;
  SummaryStats pkt_size, piat;  // both directions together

  // What routers send (kSet fields: present only when an exporter gave them).
  IpAddress exporter_ip;
  uint32_t observation_domain = 0;
  uint8_t flow_direction = 0;  // 0 ingress, 1 egress
  uint8_t src_mask = 0, dst_mask = 0;
  uint8_t sampling_algorithm = 0;
  uint8_t forwarding_status = 0;
  uint32_t src_as = 0, dst_as = 0;
  IpAddress next_hop, bgp_next_hop;
  IpAddress post_nat_src_ip, post_nat_dst_ip;
  uint16_t post_nat_src_port = 0, post_nat_dst_port = 0;
  uint64_t flows = 0;  // flows an aggregated record sums (registry: absent, 1, otherwise)

  List<DnsAnswer> dns_resp_rr;
  List<SpltPacket> splt;
  AppRecord app;

  uint64_t present = 0;  // bits of the flow's kSet fields (registry)

  DirectionRecord& dir(Direction d) { return d == Direction::kForward ? fwd : rev; }
  const DirectionRecord& dir(Direction d) const { return d == Direction::kForward ? fwd : rev; }
  uint64_t packets() const { return fwd.packets + rev.packets; }
  // The destination port as NetFlow and nfdump hold it: ICMP's type * 256 + code.
  uint32_t nfdump_dst_port() const {
    return is_icmp(protocol) ? uint32_t(fwd.icmp_type) << 8 | fwd.icmp_code : dst_port;
  }
  uint64_t bytes() const { return fwd.bytes + rev.bytes; }
  // Earliest and latest packet of either direction.
  Timestamp first() const {
    if (!fwd.packets) return rev.first;
    return rev.packets && rev.first < fwd.first ? rev.first : fwd.first;
  }
  Timestamp last() const {
    if (!fwd.packets) return rev.last;
    return rev.packets && rev.last > fwd.last ? rev.last : fwd.last;
  }

  friend bool operator==(const FlowRecord&, const FlowRecord&) = default;
};

}  // namespace flowkit
