// PacketView: what one decode pass learns about a packet, as a small POD. The decoder fills it
// from the captured bytes without copying payload; the meter keys and counts flows from it.
#pragma once

#include <cstdint>

#include "core/flow_record.h"

namespace flowkit::packet {

// Why a packet did not make it into a flow. Order matters only for the summary.
enum class SkipReason : uint8_t {
  kNone = 0,
  kNotIp,                // ARP, LLDP, STP, PPPoE discovery, 802.11 management/control...
  kEncrypted,            // 802.11 protected frames, encrypted MACsec: no IP header to read
  kUnsupportedLinkType,  // a link layer the decoder does not know
  kTruncated,            // the capture ended before the IP header did
  kBadIpHeader,          // version, header length or total length that cannot be right
  kCount
};
inline constexpr const char* kSkipReasonNames[] = {
    "none",      "not IP",       "encrypted (802.11, MACsec)", "unsupported link type",
    "truncated", "bad IP header"};

struct PacketView {
  // The addresses: each is valid only as a field below says (ip_version, has_mac), so the decoder
  // leaves them alone when a packet has none.
  uint8_t src[16];     // innermost IP header, the one that keys the flow; IPv4 as IPv4-mapped IPv6
  uint8_t dst[16];     // (like IpAddress)
  uint8_t src_mac[6];  // outermost frame
  uint8_t dst_mac[6];

  // Everything from here to mpls_label is zero until the decoder finds it (one memset per
  // packet). Innermost IP header.
  uint8_t ip_version = 0;
  uint8_t protocol = 0;  // transport protocol after extension headers (ESP: 50)
  uint8_t tos = 0;
  uint8_t ttl = 0;
  uint32_t flow_label = 0;
  uint32_t ip_bytes = 0;  // IPv4 total length; IPv6 40 + payload length
  uint16_t src_port = 0;  // 0 unless has_ports
  uint16_t dst_port = 0;
  bool has_ports = false;  // TCP/UDP/SCTP header read
  uint8_t tcp_flags = 0;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;

  // Fragments: non-first fragments carry no transport header; the meter looks their ports up.
  bool is_fragment = false;
  bool first_fragment = false;  // offset 0
  bool more_fragments = false;
  uint16_t frag_offset = 0;  // bytes
  uint32_t frag_id = 0;      // IPv4 identification or IPv6 fragment header id
  uint32_t frag_len = 0;     // fragment payload bytes

  // Layer 2 of the outermost frame.
  bool has_mac = false;
  uint8_t vlan_depth = 0;
  uint16_t vlan_id = 0, vlan_id_inner = 0;
  uint8_t mpls_depth = 0;

  // Outermost tunnel, when the flow is keyed by an inner packet.
  TunnelType tunnel = TunnelType::kNone;
  uint32_t tunnel_id = 0;
  uint32_t outer_ip_bytes = 0;

  // Transport header and payload within the captured bytes (for dissectors).
  uint32_t l4_offset = 0;  // TCP/UDP header, when payload_offset is set
  uint32_t payload_offset = 0;
  uint32_t payload_len = 0;

  SkipReason skip = SkipReason::kNone;
  bool l4_truncated = false;  // IP header fine, transport header cut off by the snap length

  // What few packets have, last, so that a copy of the view can leave it out (see
  // has_rare_fields()). Valid only as mpls_depth and tunnel say.
  uint32_t mpls_label[3];  // label << 4 | traffic class << 1 | bottom of stack
  uint8_t outer_src[16];   // outermost tunnel
  uint8_t outer_dst[16];

  bool has_rare_fields() const { return mpls_depth != 0 || tunnel != TunnelType::kNone; }
};

}  // namespace flowkit::packet
