#include "packet/decoder.h"

#include <cstddef>
#include <cstring>

#include "core/byte_io.h"

namespace flowkit::packet {

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld1 = 0x9100;
constexpr uint16_t kEtherQinQOld2 = 0x9200;
constexpr uint16_t kEtherMpls = 0x8847;
constexpr uint16_t kEtherMplsMulticast = 0x8848;
constexpr uint16_t kEtherPppoeSession = 0x8864;
constexpr uint16_t kEtherTransparentBridging = 0x6558;
constexpr uint16_t kEtherErspan2 = 0x88be;
constexpr uint16_t kEtherErspan3 = 0x22eb;
constexpr uint16_t kEtherPpp = 0x880b;
constexpr uint16_t kEtherMacsec = 0x88e5;
constexpr uint16_t kEtherArista = 0xd28b;
constexpr uint16_t kEtherFabricPath = 0x8903;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoIpip = 4;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoDccp = 33;
constexpr uint8_t kProtoIpv6 = 41;
constexpr uint8_t kProtoGre = 47;
constexpr uint8_t kProtoEsp = 50;
constexpr uint8_t kProtoAh = 51;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoSctp = 132;
constexpr uint8_t kProtoUdpLite = 136;

constexpr uint16_t kPortVxlan = 4789;
constexpr uint16_t kPortVxlanLinux = 8472;
constexpr uint16_t kPortVxlanGpe = 4790;
constexpr uint16_t kPortGeneve = 6081;
constexpr uint16_t kPortGtpU = 2152;
constexpr uint16_t kPortTeredo = 3544;

// Tunnels inside tunnels are opened up to this depth; deeper ones stay closed (and counted as the
// flow of the last opened layer) so a crafted packet cannot make the decoder loop.
constexpr int kMaxTunnelDepth = 4;
constexpr int kMaxIpv6ExtHeaders = 16;
constexpr int kMaxVlanTags = 8;
constexpr int kMaxMplsLabels = 16;

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

class Decoder {
 public:
  Decoder(const uint8_t* data, uint32_t caplen, uint32_t wirelen, const DecodeOptions& options,
          PacketView& v)
      : p_(data), len_(caplen), wirelen_(wirelen), opt_(options), v_(v) {}

  void run(uint32_t linktype) {
    reset();
    if (!link(linktype) && v_.skip == SkipReason::kNone) v_.skip = SkipReason::kNotIp;
  }

  // Most frames are Ethernet, then IPv4 without options or fragmentation or IPv6 without
  // extension headers, then TCP or UDP. Those take one straight pass with few bounds checks; the
  // result is what run(1) gives, field for field (tests compare the two on every shared capture,
  // and the fuzz target on everything it makes). Returns false, having written nothing, for any
  // other frame.
  bool run_plain_ethernet() {
    constexpr uint32_t kIp = 14;
    if (len_ < kIp + 20) return false;
    const uint8_t* h = p_ + kIp;
    uint32_t total, l4;
    uint8_t proto;
    switch (load_be16(p_ + 12)) {
      case kEtherIpv4:
        total = load_be16(h + 2);
        if (h[0] != 0x45 || total < 20 || (load_be16(h + 6) & 0x3fff) != 0) return false;
        l4 = kIp + 20;
        proto = h[9];
        break;
      case kEtherIpv6:
        if (len_ < kIp + 40) return false;
        total = 40 + load_be16(h + 4);
        if (h[0] >> 4 != 6 || total == 40) return false;  // 0: a jumbogram or offload
        l4 = kIp + 40;
        proto = h[6];
        break;
      default:
        return false;
    }
    uint32_t end = kIp + total < len_ ? kIp + total : len_;  // ignore Ethernet padding
    const uint8_t* t = p_ + l4;
    uint32_t avail = end - l4;
    uint32_t l4_header;
    if (proto == kProtoTcp) {
      l4_header = (avail >= 20 ? t[12] >> 4 : 0) * 4u;
      if (l4_header < 20 || l4_header > avail) return false;
    } else if (proto == kProtoUdp) {
      l4_header = 8;
      if (avail < 8 || (opt_.decapsulate &&
                        (is_udp_tunnel_port(load_be16(t)) || is_udp_tunnel_port(load_be16(t + 2)))))
        return false;
    } else {
      return false;
    }
    reset();
    mac_at(6, 0);
    if (l4 == kIp + 20) {
      ipv4_fields(h, total);
    } else {
      ipv6_fields(h, total);
      v_.protocol = proto;
    }
    ports(l4);
    if (proto == kProtoTcp) v_.tcp_flags = t[13];
    v_.l4_offset = l4;
    payload(l4 + l4_header, end);
    return true;
  }

 private:
  // Every field from ip_version to mpls_label to its default, zero: a few wide stores.
  void reset() {
    static_assert(SkipReason::kNone == SkipReason{} && TunnelType::kNone == TunnelType{});
    constexpr size_t kFrom = offsetof(PacketView, ip_version);
    constexpr size_t kTo = offsetof(PacketView, mpls_label);
    std::memset(reinterpret_cast<uint8_t*>(&v_) + kFrom, 0, kTo - kFrom);
  }

  bool have(uint32_t off, uint32_t n) const { return off <= len_ && n <= len_ - off; }
  bool truncated() {
    v_.skip = SkipReason::kTruncated;
    return false;
  }
  bool bad_ip() {
    v_.skip = SkipReason::kBadIpHeader;
    return false;
  }

  // ---- link layers ---------------------------------------------------------------------------

  bool link(uint32_t linktype) {
    switch (linktype) {
      case 1:  // Ethernet
        return ethernet(0);
      case 0:      // BSD null: address family in the capturing host's byte order
      case 108: {  // OpenBSD loop: network byte order
        if (!have(0, 4)) return truncated();
        uint32_t fam = linktype == 108 ? load_be32(p_) : load_le32(p_);
        if (fam > 0xffff) fam = __builtin_bswap32(fam);
        if (fam == 2) return ip(4, 4);
        if (fam == 24 || fam == 28 || fam == 30 || fam == 10) return ip(4, 6);
        return false;
      }
      case 12:
      case 14:
      case 101:  // raw IP
        return ip(0, 0);
      case 228:
        return ip(0, 4);
      case 229:
        return ip(0, 6);
      case 113:  // Linux cooked v1
        if (!have(0, 16)) return truncated();
        sll_mac(load_be16(p_ + 2), load_be16(p_ + 4), 6);
        return ethertype(load_be16(p_ + 14), 16);
      case 276:  // Linux cooked v2
        if (!have(0, 20)) return truncated();
        sll_mac(load_be16(p_ + 8), p_[11], 12);
        return ethertype(load_be16(p_), 20);
      case 9:    // PPP
      case 50:   // PPP in HDLC framing
      case 204:  // PPP with direction pseudo-header
        return ppp(linktype == 204 ? 1 : 0);
      case 104:  // Cisco HDLC: address, control, ethertype
        if (!have(0, 4)) return truncated();
        return ethertype(load_be16(p_ + 2), 4);
      case 8:  // BSD/OS SLIP: 16-byte pseudo-header
        return ip(16, 0);
      case 100:  // ATM RFC 1483: LLC/SNAP
        return llc(0);
      case 6: {  // Token Ring: access control, frame control, addresses
        if (!have(0, 14)) return truncated();
        mac_at(8, 2);
        uint32_t off = 14;
        if (p_[8] & 0x80) {  // source-routed: a routing information field follows
          if (!have(14, 1)) return truncated();
          off += p_[14] & 0x1f;
        }
        return llc(off);
      }
      case 10:  // FDDI: frame control, addresses
        if (!have(0, 13)) return truncated();
        mac_at(7, 1);
        return llc(13);
      case 107:  // Frame Relay: Q.922 address, then NLPID
        return frame_relay();
      case 226: {  // Solaris ipnet: 24-byte header with the address family
        if (!have(0, 24)) return truncated();
        if (p_[1] == 2) return ip(24, 4);
        if (p_[1] == 26) return ip(24, 6);
        return false;
      }
      case 239:  // Linux NFLOG
        return nflog();
      case 178:  // Juniper Ethernet
        return juniper_ether();
      case 127: {  // radiotap + 802.11
        if (!have(0, 4)) return truncated();
        return ieee80211(load_le16(p_ + 2));
      }
      case 105:
        return ieee80211(0);
      default:
        v_.skip = SkipReason::kUnsupportedLinkType;
        return false;
    }
  }

  void mac_at(uint32_t src, uint32_t dst) {
    v_.has_mac = true;
    std::memcpy(v_.src_mac, p_ + src, 6);
    std::memcpy(v_.dst_mac, p_ + dst, 6);
  }

  void sll_mac(uint16_t arphrd, uint16_t addrlen, uint32_t addr_off) {
    // Cooked captures keep only the sender's link address; record it when it is a MAC.
    if (arphrd == 1 && addrlen == 6 && have(addr_off, 6)) {
      v_.has_mac = true;
      std::memcpy(v_.src_mac, p_ + addr_off, 6);
      std::memset(v_.dst_mac, 0, 6);
    }
  }

  bool ppp(uint32_t off) {
    if (!have(off, 2)) return truncated();
    if (p_[off] == 0xff && p_[off + 1] == 0x03) off += 2;
    if (!have(off, 1)) return truncated();
    uint16_t proto;
    if (p_[off] & 1) {  // protocol field compressed to one byte
      proto = p_[off];
      off += 1;
    } else {
      if (!have(off, 2)) return truncated();
      proto = load_be16(p_ + off);
      off += 2;
    }
    switch (proto) {
      case 0x21:
        return ip(off, 4);
      case 0x57:
        return ip(off, 6);
      case 0x281:
      case 0x283:
        return mpls(off);
      default:
        return false;
    }
  }

  bool frame_relay() {
    if (!have(0, 4)) return truncated();
    uint32_t off = 2;
    if (p_[off] != 0x03) return ethertype(load_be16(p_ + off), off + 2);  // Cisco encapsulation
    ++off;
    if (p_[off] == 0) ++off;  // optional padding
    if (!have(off, 1)) return truncated();
    switch (p_[off]) {
      case 0xcc:
        return ip(off + 1, 4);
      case 0x8e:
        return ip(off + 1, 6);
      case 0x80:
        return snap(off + 1);
      default:
        return false;
    }
  }

  bool nflog() {
    if (!have(0, 4)) return truncated();
    int version = p_[0] == 2 ? 4 : (p_[0] == 10 ? 6 : 0);
    if (!version) return false;
    // Type-length-value attributes (host byte order, 4-byte aligned); type 9 is the packet.
    for (uint32_t off = 4; have(off, 4);) {
      uint32_t tlv_len = load_le16(p_ + off), type = load_le16(p_ + off + 2);
      if (tlv_len < 4) return false;
      if (type == 9) return ip(off + 4, version);
      off += (tlv_len + 3) & ~3u;
    }
    return truncated();
  }

  bool juniper_ether() {
    if (!have(0, 4)) return truncated();
    if (p_[0] != 'M' || p_[1] != 'G' || p_[2] != 'C') return false;
    uint8_t flags = p_[3];
    uint32_t off = 4;
    if (flags & 0x80) {  // extension TLVs
      if (!have(off, 2)) return truncated();
      off += 2 + load_be16(p_ + off);
    }
    if (flags & 0x02) return ip(off + 4, 0);  // layer 2 stripped: a 4-byte cookie, then IP
    return ethernet(off);
  }

  bool ieee80211(uint32_t off) {
    if (!have(off, 24)) return truncated();
    const uint8_t* h = p_ + off;
    uint16_t fc = load_le16(h);
    if (((fc >> 2) & 3) != 2) return false;  // management or control frame
    uint8_t subtype = (fc >> 4) & 0xf;
    if (subtype & 0x4) return false;  // null data: no payload
    bool to_ds = fc & 0x100, from_ds = fc & 0x200;
    uint32_t hdr = (to_ds && from_ds) ? 30 : 24;
    if (subtype & 0x8) hdr += 2;                     // QoS control
    if ((subtype & 0x8) && (fc & 0x8000)) hdr += 4;  // HT control
    if (!have(off, hdr)) return truncated();
    const uint8_t* da = h + 4;
    const uint8_t* sa = h + 10;
    if (to_ds && !from_ds) da = h + 16;
    if (from_ds && !to_ds) sa = h + 16;
    if (to_ds && from_ds) {
      da = h + 16;
      sa = h + 24;
    }
    v_.has_mac = true;
    std::memcpy(v_.src_mac, sa, 6);
    std::memcpy(v_.dst_mac, da, 6);
    if (fc & 0x4000) {
      v_.skip = SkipReason::kEncrypted;
      return false;
    }
    return llc(off + hdr);
  }

  bool llc(uint32_t off) {
    if (!have(off, 3)) return truncated();
    if (p_[off] == 0xaa && p_[off + 1] == 0xaa && p_[off + 2] == 0x03) return snap(off + 3);
    return false;  // plain 802.2 (STP, NetBIOS...): never IP
  }

  bool snap(uint32_t off) {  // OUI (3) + ethertype (2)
    if (!have(off, 5)) return truncated();
    return ethertype(load_be16(p_ + off + 3), off + 5);
  }

  bool ethernet(uint32_t off) {
    if (!have(off, 14)) return truncated();
    v_.has_mac = true;
    std::memcpy(v_.dst_mac, p_ + off, 6);
    std::memcpy(v_.src_mac, p_ + off + 6, 6);
    uint16_t type = load_be16(p_ + off + 12);
    if (type < 0x0600) return llc(off + 14);  // 802.3 length field
    return ethertype(type, off + 14);
  }

  bool ethertype(uint16_t type, uint32_t off) {
    for (int tags = 0;; ++tags) {
      switch (type) {
        case kEtherIpv4:
          return ip(off, 4);
        case kEtherIpv6:
          return ip(off, 6);
        case kEtherVlan:
        case kEtherQinQ:
        case kEtherQinQOld1:
        case kEtherQinQOld2: {
          if (tags >= kMaxVlanTags) return false;
          if (!have(off, 4)) return truncated();
          uint16_t vid = load_be16(p_ + off) & 0x0fff;
          if (vlan_reset_) {  // tags of an inner frame replace the outer ones
            v_.vlan_depth = 0;
            vlan_reset_ = false;
          }
          if (v_.vlan_depth == 0)
            v_.vlan_id = vid;
          else if (v_.vlan_depth == 1)
            v_.vlan_id_inner = vid;
          if (v_.vlan_depth < 2) ++v_.vlan_depth;
          type = load_be16(p_ + off + 2);
          off += 4;
          if (type < 0x0600) return llc(off);
          continue;
        }
        case kEtherMpls:
        case kEtherMplsMulticast:
          return mpls(off);
        case kEtherPppoeSession:
          if (!have(off, 6)) return truncated();
          return ppp(off + 6);
        case kEtherMacsec: {
          if (!have(off, 6)) return truncated();
          uint8_t tci = p_[off];
          if (tci & 0x0c) {  // encrypted or changed text: no readable payload
            v_.skip = SkipReason::kEncrypted;
            return false;
          }
          off += (tci & 0x20) ? 14 : 6;  // SecTAG, with the SCI when it is present
          if (!have(off, 2)) return truncated();
          type = load_be16(p_ + off);
          off += 2;
          continue;
        }
        case kEtherFabricPath:  // Cisco FabricPath: FTag/TTL, then the original frame
          if (!have(off, 2)) return truncated();
          return ethernet_payload(off + 2);
        case kEtherArista: {  // vendor timestamp between the addresses and the real type
          if (!have(off, 4)) return truncated();
          uint16_t version = load_be16(p_ + off + 2);
          off += 4 + ((version & 0x00f0) == 0x20 ? 6 : 8);  // 48- or 64-bit time
          if (!have(off, 2)) return truncated();
          type = load_be16(p_ + off);
          off += 2;
          continue;
        }
        default:
          return false;
      }
    }
  }

  bool mpls(uint32_t off) {
    for (int n = 0; n < kMaxMplsLabels; ++n) {
      if (!have(off, 4)) return truncated();
      uint32_t lse = load_be32(p_ + off);
      if (v_.mpls_depth < 3) v_.mpls_label[v_.mpls_depth] = lse >> 8;  // IPFIX's 3-byte form
      if (v_.mpls_depth < 255) ++v_.mpls_depth;
      off += 4;
      if (lse & 0x100) {  // bottom of stack: the payload type is not signalled, so sniff it
        if (!have(off, 1)) return truncated();
        switch (p_[off] >> 4) {
          case 4:
            return ip(off, 4);
          case 6:
            return ip(off, 6);
          case 0:
            return ethernet_payload(off + 4);  // pseudowire with control word
          default:
            return ethernet_payload(off);
        }
      }
    }
    return false;
  }

  // An Ethernet frame carried inside something else (pseudowire, tunnel).
  bool ethernet_payload(uint32_t off) {
    vlan_reset_ = v_.vlan_depth > 0;
    return ethernet(off);
  }

  // ---- IP ------------------------------------------------------------------------------------

  // version: 4 or 6 when the layer below says which, 0 to read it from the header.
  bool ip(uint32_t off, int version) {
    if (!have(off, 1)) return truncated();
    int actual = p_[off] >> 4;
    if (version == 0) version = actual;
    if (version != actual || (version != 4 && version != 6)) return bad_ip();
    return version == 4 ? ipv4(off) : ipv6(off);
  }

  // Bytes on the wire from `off` to the end of the frame, for headers whose length says 0 (TSO).
  uint32_t wire_rest(uint32_t off) const { return wirelen_ > off ? wirelen_ - off : 0; }

  bool ipv4(uint32_t off) {
    if (!have(off, 20)) return truncated();
    const uint8_t* h = p_ + off;
    uint32_t ihl = (h[0] & 0x0f) * 4u;
    uint32_t total = load_be16(h + 2);
    if (total == 0) total = wire_rest(off);  // segmentation offload: length left to the NIC
    if (ihl < 20 || total < ihl) return bad_ip();
    ipv4_fields(h, total);
    uint16_t frag = load_be16(h + 6);
    uint32_t frag_offset = (frag & 0x1fffu) * 8;
    bool mf = frag & 0x2000;
    uint32_t end = off + total < len_ ? off + total : len_;  // ignore Ethernet padding
    if (mf || frag_offset) {
      v_.is_fragment = true;
      v_.first_fragment = frag_offset == 0;
      v_.more_fragments = mf;
      v_.frag_offset = uint16_t(frag_offset > 0xffff ? 0xffff : frag_offset);
      v_.frag_id = load_be16(h + 4);
      v_.frag_len = total - ihl;
      if (frag_offset) return true;  // no transport header in this fragment
    }
    if (!have(off, ihl)) return l4_cut();  // options cut by the snap length
    return transport(v_.protocol, off + ihl, end);
  }

  // What an IPv4 header `h` with total length `total` tells about the flow's packet.
  void ipv4_fields(const uint8_t* h, uint32_t total) {
    v_.ip_version = 4;
    std::memcpy(v_.src, kV4MappedPrefix, 12);
    std::memcpy(v_.src + 12, h + 12, 4);
    std::memcpy(v_.dst, kV4MappedPrefix, 12);
    std::memcpy(v_.dst + 12, h + 16, 4);
    v_.tos = h[1];
    v_.ttl = h[8];
    v_.flow_label = 0;
    v_.ip_bytes = total;
    v_.protocol = h[9];
  }

  // What an IPv6 header `h` tells about the flow's packet, but for its transport protocol.
  void ipv6_fields(const uint8_t* h, uint32_t ip_bytes) {
    uint32_t w = load_be32(h);
    v_.ip_version = 6;
    std::memcpy(v_.src, h + 8, 16);
    std::memcpy(v_.dst, h + 24, 16);
    v_.tos = uint8_t(w >> 20);
    v_.flow_label = w & 0xfffff;
    v_.ttl = h[7];
    v_.ip_bytes = ip_bytes;
  }

  bool ipv6(uint32_t off) {
    if (!have(off, 40)) return truncated();
    const uint8_t* h = p_ + off;
    uint32_t plen = load_be16(h + 4);
    // A zero payload length means a jumbogram or segmentation offload: count what was on the wire.
    ipv6_fields(h, plen ? 40 + plen : (wire_rest(off) > 40 ? wire_rest(off) : 40));
    uint32_t end = off + v_.ip_bytes < len_ ? off + v_.ip_bytes : len_;
    uint8_t next = h[6];
    uint32_t cur = off + 40;
    for (int n = 0; n < kMaxIpv6ExtHeaders; ++n) {
      switch (next) {
        case 0:    // hop-by-hop options
        case 43:   // routing
        case 60:   // destination options
        case 135:  // mobility
        case 139:  // HIP
        case 140:  // shim6
        {
          if (!have(cur, 2) || cur + 2 > end) return ext_truncated(next);
          uint32_t hl = (p_[cur + 1] + 1u) * 8;
          next = p_[cur];
          cur += hl;
          continue;
        }
        case kProtoAh: {
          if (!have(cur, 2) || cur + 2 > end) return ext_truncated(next);
          uint32_t hl = (p_[cur + 1] + 2u) * 4;
          next = p_[cur];
          cur += hl;
          continue;
        }
        case 44: {  // fragment
          if (!have(cur, 8) || cur + 8 > end) return ext_truncated(next);
          uint16_t offlg = load_be16(p_ + cur + 2);
          uint32_t frag_offset = offlg & 0xfff8u;
          bool mf = offlg & 1;
          uint32_t id = load_be32(p_ + cur + 4);
          next = p_[cur];
          cur += 8;
          if (frag_offset == 0 && !mf) continue;  // atomic fragment (RFC 6946): a whole packet
          v_.is_fragment = true;
          v_.first_fragment = frag_offset == 0;
          v_.more_fragments = mf;
          v_.frag_offset = uint16_t(frag_offset);
          v_.frag_id = id;
          v_.frag_len = off + v_.ip_bytes > cur ? off + v_.ip_bytes - cur : 0;
          if (frag_offset) {
            v_.protocol = next;
            return true;
          }
          continue;
        }
        default:
          v_.protocol = next;
          return transport(next, cur, end);
      }
    }
    v_.protocol = next;  // absurdly long chain: stop here, keep the packet
    return true;
  }

  // An IPv6 extension header ran past the captured bytes: keep the packet under the last
  // protocol number we know.
  bool ext_truncated(uint8_t next) {
    v_.protocol = next;
    v_.l4_truncated = true;
    return true;
  }

  // ---- transport -----------------------------------------------------------------------------

  bool transport(uint8_t proto, uint32_t off, uint32_t end) {
    if (proto == kProtoAh && v_.ip_version == 4) {  // IPv4 AH: the flow is what it protects
      if (off + 2 > end) return l4_cut();
      uint32_t hl = (p_[off + 1] + 2u) * 4;
      proto = p_[off];
      v_.protocol = proto;
      off += hl;
    }
    uint32_t avail = end > off ? end - off : 0;
    switch (proto) {
      case kProtoTcp: {
        if (avail < 4) return l4_cut();
        ports(off);
        if (avail < 14) return l4_cut();
        v_.tcp_flags = p_[off + 13];
        uint32_t hl = (p_[off + 12] >> 4) * 4u;
        v_.l4_offset = off;
        if (hl >= 20 && hl <= avail) payload(off + hl, end);
        return true;
      }
      case kProtoUdp:
      case kProtoUdpLite: {
        if (avail < 4) return l4_cut();
        ports(off);
        if (avail < 8) return l4_cut();
        v_.l4_offset = off;
        payload(off + 8, end);
        if (opt_.decapsulate && proto == kProtoUdp && !v_.is_fragment) udp_tunnel(off, end);
        return true;
      }
      case kProtoSctp:
      case kProtoDccp:
        if (avail < 4) return l4_cut();
        ports(off);
        return true;
      case kProtoIcmp:
      case kProtoIcmpv6:
        if (avail < 2) return l4_cut();
        v_.icmp_type = p_[off];
        v_.icmp_code = p_[off + 1];
        if (avail >= 8) payload(off + 8, end);
        return true;
      case kProtoGre:
        if (opt_.decapsulate && !v_.is_fragment) gre(off, end);
        return true;
      case kProtoIpip:
      case kProtoIpv6:
        if (opt_.decapsulate && !v_.is_fragment)
          tunnel(TunnelType::kIpInIp, 0, off, proto == kProtoIpip ? Inner::kIpv4 : Inner::kIpv6);
        return true;
      case kProtoEsp:
      default:
        return true;
    }
  }

  bool l4_cut() {
    v_.l4_truncated = true;
    return true;
  }

  void ports(uint32_t off) {
    v_.src_port = load_be16(p_ + off);
    v_.dst_port = load_be16(p_ + off + 2);
    v_.has_ports = true;
  }

  void payload(uint32_t off, uint32_t end) {
    v_.payload_offset = off;
    v_.payload_len = end > off ? end - off : 0;
  }

  // ---- tunnels -------------------------------------------------------------------------------

  enum class Inner { kEthernet, kIpv4, kIpv6, kIpAny, kPpp };

  // Decodes the inner packet at `off`. When it is a valid IP packet, it becomes the flow's packet
  // and the outer header is remembered as the tunnel; otherwise the outer packet stands.
  void tunnel(TunnelType type, uint32_t id, uint32_t off, Inner inner) {
    if (depth_ >= kMaxTunnelDepth) return;
    PacketView saved = v_;
    bool vlan_reset_saved = vlan_reset_;
    if (v_.tunnel == TunnelType::kNone) {  // the outermost tunnel names the flow's tunnel
      v_.tunnel = type;
      v_.tunnel_id = id;
      std::memcpy(v_.outer_src, v_.src, 16);
      std::memcpy(v_.outer_dst, v_.dst, 16);
      v_.outer_ip_bytes = v_.ip_bytes;
    }
    // The inner packet's own fields start blank.
    v_.is_fragment = v_.first_fragment = v_.more_fragments = false;
    v_.has_ports = false;
    v_.src_port = v_.dst_port = 0;
    v_.tcp_flags = v_.icmp_type = v_.icmp_code = 0;
    v_.l4_offset = v_.payload_offset = v_.payload_len = 0;
    v_.l4_truncated = false;
    ++depth_;
    bool ok;
    switch (inner) {
      case Inner::kEthernet:
        ok = ethernet_payload(off);
        break;
      case Inner::kIpv4:
        ok = ip(off, 4);
        break;
      case Inner::kIpv6:
        ok = ip(off, 6);
        break;
      case Inner::kPpp:
        ok = ppp(off);
        break;
      default:
        ok = ip(off, 0);
        break;
    }
    --depth_;
    if (!ok || v_.skip != SkipReason::kNone || v_.ip_version == 0) {
      v_ = saved;
      vlan_reset_ = vlan_reset_saved;
    }
  }

  void gre(uint32_t off, uint32_t end) {
    if (off + 4 > end) return;
    uint16_t flags = load_be16(p_ + off);
    uint16_t proto = load_be16(p_ + off + 2);
    uint32_t cur = off + 4;
    uint32_t key = 0;
    int version = flags & 7;
    bool c = flags & 0x8000, r = flags & 0x4000, k = flags & 0x2000, s = flags & 0x1000;
    if (version == 0) {
      if (c || r) cur += 4;  // checksum + offset
      if (k) {
        if (cur + 4 > end) return;
        key = load_be32(p_ + cur);
        cur += 4;
      }
      if (s) cur += 4;
      if (r) {  // RFC 1701 source route entries, ended by a NULL entry
        for (int n = 0;; ++n) {
          if (n > 64 || cur + 4 > end) return;
          uint16_t af = load_be16(p_ + cur);
          uint8_t sre_len = p_[cur + 3];
          cur += 4 + sre_len;
          if (af == 0 && sre_len == 0) break;
        }
      }
    } else if (version == 1) {  // PPTP enhanced GRE: key holds payload length and call id
      if (!k || proto != kEtherPpp) return;
      if (cur + 4 > end) return;
      key = load_be16(p_ + cur + 2);
      cur += 4;
      if (s) cur += 4;
      if (flags & 0x0080) cur += 4;  // acknowledgment number
    } else {
      return;
    }
    if (cur >= end) return;
    switch (proto) {
      case kEtherIpv4:
        tunnel(TunnelType::kGre, key, cur, Inner::kIpv4);
        break;
      case kEtherIpv6:
        tunnel(TunnelType::kGre, key, cur, Inner::kIpv6);
        break;
      case kEtherTransparentBridging:
        tunnel(TunnelType::kGre, key, cur, Inner::kEthernet);
        break;
      case kEtherPpp:
        tunnel(TunnelType::kGre, key, cur, Inner::kPpp);
        break;
      case kEtherMpls:
      case kEtherMplsMulticast:
        gre_mpls(key, cur);
        break;
      case kEtherErspan2:  // type II has an 8-byte header; type I (no sequence) has none
        tunnel(TunnelType::kGre, key, s ? cur + 8 : cur, Inner::kEthernet);
        break;
      case kEtherErspan3: {
        if (cur + 12 > end) return;
        bool optional = p_[cur + 11] & 0x01;
        tunnel(TunnelType::kGre, key, cur + 12 + (optional ? 8 : 0), Inner::kEthernet);
        break;
      }
      default:
        break;
    }
  }

  void gre_mpls(uint32_t key, uint32_t off) {
    // MPLS labels inside a tunnel belong to the inner packet; decode them like a tunnel payload.
    if (depth_ >= kMaxTunnelDepth) return;
    PacketView saved = v_;
    if (v_.tunnel == TunnelType::kNone) {
      v_.tunnel = TunnelType::kGre;
      v_.tunnel_id = key;
      std::memcpy(v_.outer_src, v_.src, 16);
      std::memcpy(v_.outer_dst, v_.dst, 16);
      v_.outer_ip_bytes = v_.ip_bytes;
    }
    v_.has_ports = false;
    v_.src_port = v_.dst_port = 0;
    v_.tcp_flags = v_.icmp_type = v_.icmp_code = 0;
    ++depth_;
    bool ok = mpls(off);
    --depth_;
    if (!ok || v_.skip != SkipReason::kNone) v_ = saved;
  }

  static bool is_udp_tunnel_port(uint16_t port) {
    return port == kPortVxlan || port == kPortVxlanLinux || port == kPortVxlanGpe ||
           port == kPortGeneve || port == kPortGtpU || port == kPortTeredo;
  }

  void udp_tunnel(uint32_t off, uint32_t end) {
    uint16_t sport = v_.src_port, dport = v_.dst_port;
    uint32_t udp_len = load_be16(p_ + off + 4);
    uint32_t pl = off + 8;
    if (pl + 8 > end) return;
    const uint8_t* h = p_ + pl;
    if (dport == kPortVxlan || dport == kPortVxlanLinux) {
      if (!(h[0] & 0x08)) return;  // VNI not valid
      tunnel(TunnelType::kVxlan, load_be24(h + 4), pl + 8, Inner::kEthernet);
    } else if (dport == kPortVxlanGpe) {
      Inner inner;
      switch (h[3]) {
        case 1:
          inner = Inner::kIpv4;
          break;
        case 2:
          inner = Inner::kIpv6;
          break;
        case 3:
          inner = Inner::kEthernet;
          break;
        default:
          return;
      }
      tunnel(TunnelType::kVxlan, load_be24(h + 4), pl + 8, inner);
    } else if (dport == kPortGeneve) {
      if (h[0] >> 6) return;  // unknown version
      uint32_t inner_off = pl + 8 + (h[0] & 0x3f) * 4u;
      uint16_t type = load_be16(h + 2);
      Inner inner;
      if (type == kEtherTransparentBridging)
        inner = Inner::kEthernet;
      else if (type == kEtherIpv4)
        inner = Inner::kIpv4;
      else if (type == kEtherIpv6)
        inner = Inner::kIpv6;
      else
        return;
      tunnel(TunnelType::kGeneve, load_be24(h + 4), inner_off, inner);
    } else if (dport == kPortGtpU || sport == kPortGtpU) {
      gtpu(pl, end);
    } else if (dport == kPortTeredo || sport == kPortTeredo) {
      teredo(pl, end, udp_len >= 8 ? off + udp_len : end);
    }
  }

  void gtpu(uint32_t off, uint32_t end) {
    const uint8_t* h = p_ + off;
    if ((h[0] >> 5) != 1 || !(h[0] & 0x10) || h[1] != 0xff) return;  // GTPv1, G-PDU only
    uint32_t teid = load_be32(h + 4);
    uint32_t cur = off + 8;
    if (h[0] & 0x07) {  // sequence number, N-PDU number or extension headers present
      if (cur + 4 > end) return;
      uint8_t next_ext = p_[cur + 3];
      cur += 4;
      for (int n = 0; next_ext != 0; ++n) {
        if (n > 16 || cur + 1 > end) return;
        uint32_t ext_len = p_[cur] * 4u;
        if (ext_len == 0 || cur + ext_len > end) return;
        next_ext = p_[cur + ext_len - 1];
        cur += ext_len;
      }
    }
    tunnel(TunnelType::kGtpU, teid, cur, Inner::kIpAny);
  }

  void teredo(uint32_t off, uint32_t end, uint32_t udp_end) {
    uint32_t cur = off;
    for (int n = 0; n < 2; ++n) {
      if (cur + 2 > end) return;
      uint16_t indicator = load_be16(p_ + cur);
      if (indicator == 0x0001) {  // authentication header
        if (cur + 4 > end) return;
        cur += 4 + p_[cur + 2] + p_[cur + 3] + 9;
      } else if (indicator == 0x0000) {  // origin indication
        cur += 8;
      } else {
        break;
      }
    }
    // Teredo has no magic number: require an IPv6 header whose length fills the datagram.
    if (cur + 40 > end || (p_[cur] >> 4) != 6) return;
    if (cur + 40 + load_be16(p_ + cur + 4) != udp_end) return;
    tunnel(TunnelType::kTeredo, 0, cur, Inner::kIpv6);
  }

  const uint8_t* p_;
  uint32_t len_;
  uint32_t wirelen_;
  const DecodeOptions& opt_;
  PacketView& v_;
  int depth_ = 0;
  bool vlan_reset_ = false;
};

}  // namespace

void decode(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint32_t linktype,
            const DecodeOptions& options, PacketView& out) {
  Decoder d(data, caplen, wirelen < caplen ? caplen : wirelen, options, out);
  if (linktype != 1 || !d.run_plain_ethernet()) d.run(linktype);
}

void decode_general(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint32_t linktype,
                    const DecodeOptions& options, PacketView& out) {
  Decoder(data, caplen, wirelen < caplen ? caplen : wirelen, options, out).run(linktype);
}

}  // namespace flowkit::packet
