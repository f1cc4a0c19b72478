// FlowKey: the fields that tell flows apart, laid out for one memcmp and one hash. In biflow mode
// the two endpoints are put in a canonical order so both directions of a conversation map to the
// same key; `reversed` says whether the packet's source was moved to endpoint 1.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/flow_record.h"
#include "packet/packet_view.h"

namespace flowkit::meter {

// softflowd's -T: which header fields make up the key.
enum class KeyMode : uint8_t {
  kFull,   // addresses, protocol, ports
  kProto,  // addresses and protocol
  kIp,     // addresses only
};

// The secret words of hash_key(). Traffic crafted so that its flows collide in the flow table
// would make every lookup walk a long run of entries; without the secret, nobody can craft it.
// Flows never depend on it, only where the table keeps them.
struct HashSecret {
  uint64_t w[6];
  static HashSecret from_seed(uint64_t seed);
  // Drawn at random once per process; from the environment's FLOWKIT_HASH_SEED when it is set,
  // so that instruction counts repeat from run to run (bench/meter_instructions.sh).
  static const HashSecret& of_process();
};

struct KeyOptions {
  KeyMode mode = KeyMode::kFull;
  bool biflow = true;
  bool vlan = false;        // outer VLAN id joins the key
  bool flow_label = false;  // IPv6 flow label joins the key (0 = unset)
  // ICMP and ICMPv6 keyed by type and code (with kFull), as NetFlow/IPFIX meters key them: a
  // request and its reply (echo, timestamp, information, address mask; ICMPv6 echo and node
  // information) share a biflow, other messages are flows of their own per type, code and
  // direction. False: by addresses alone (flowRecorder's keying).
  bool icmp_type_code = true;
  // Every thread that hashes keys for one meter must use the same secret: copies of the options do.
  HashSecret hash_secret = HashSecret::of_process();
};

struct FlowKey {
  uint8_t addr[2][16];
  uint16_t port[2];
  uint8_t protocol;
  uint8_t ip_version;
  uint16_t vlan;
  uint32_t flow_label;

  bool operator==(const FlowKey& o) const {
    // Word by word, straight from both keys: a fixed-size memcmp becomes a library call on the
    // hottest path, and copying the keys into local arrays first made the compiler spill them.
    const uint8_t* a = reinterpret_cast<const uint8_t*>(this);
    const uint8_t* b = reinterpret_cast<const uint8_t*>(&o);
    auto diff64 = [&](size_t at) {
      uint64_t x, y;
      std::memcpy(&x, a + at, 8);
      std::memcpy(&y, b + at, 8);
      return x ^ y;
    };
    uint32_t x, y;
    std::memcpy(&x, a + 40, 4);
    std::memcpy(&y, b + 40, 4);
    return (diff64(0) | diff64(8) | diff64(16) | diff64(24) | diff64(32) | (x ^ y)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 44, "FlowKey must have no padding: it is hashed and compared raw");

// An address as a number that orders like memcmp() of its bytes, without the library call.
inline unsigned __int128 address_order(const uint8_t* a) {
  uint64_t hi, lo;
  std::memcpy(&hi, a, 8);
  std::memcpy(&lo, a + 8, 8);
  return (unsigned __int128)__builtin_bswap64(hi) << 64 | __builtin_bswap64(lo);
}

// For ICMP's request/reply pairs, the request's type (for a request or a reply); -1 for the
// other messages.
inline int icmp_request_type(uint8_t protocol, uint8_t type) {
  if (protocol == 1) {
    switch (type) {
      case 8:
      case 0:
        return 8;  // echo
      case 13:
      case 14:
        return 13;  // timestamp
      case 15:
      case 16:
        return 15;  // information
      case 17:
      case 18:
        return 17;  // address mask
      default:
        return -1;
    }
  }
  switch (type) {
    case 128:
    case 129:
      return 128;  // echo
    case 139:
    case 140:
      return 139;  // node information
    default:
      return -1;
  }
}

// Builds the key of a packet; returns true when the packet's source became endpoint 1.
inline bool make_key(const packet::PacketView& v, const KeyOptions& o, FlowKey& k) {
  bool with_ports = o.mode == KeyMode::kFull;
  uint16_t sport = with_ports ? v.src_port : 0;
  uint16_t dport = with_ports ? v.dst_port : 0;
  bool canonical = o.biflow;
  if (with_ports && o.icmp_type_code && is_icmp(v.protocol)) {
    int request = o.biflow ? icmp_request_type(v.protocol, v.icmp_type) : -1;
    if (request >= 0) {
      // Both directions name the pair the same way, whichever end sent the packet.
      sport = dport = uint16_t(request << 8 | v.icmp_code);
    } else {
      // Its own flow per type, code and direction: the endpoints keep their order.
      sport = 0;
      dport = uint16_t(v.icmp_type << 8 | v.icmp_code);
      canonical = false;
    }
  }
  bool swap = false;
  if (canonical) {
    unsigned __int128 s = address_order(v.src), d = address_order(v.dst);
    swap = s > d || (s == d && sport > dport);
  }
  std::memcpy(k.addr[swap ? 1 : 0], v.src, 16);
  std::memcpy(k.addr[swap ? 0 : 1], v.dst, 16);
  k.port[swap ? 1 : 0] = sport;
  k.port[swap ? 0 : 1] = dport;
  k.protocol = o.mode == KeyMode::kIp ? 0 : v.protocol;
  k.ip_version = v.ip_version;
  k.vlan = o.vlan && v.vlan_depth ? v.vlan_id : 0;
  k.flow_label = o.flow_label ? v.flow_label : 0;
  return swap;
}

// The key's words, each mixed with a secret word, pairwise multiplied to 128 bits and folded (the
// mixing step of wyhash and XXH3). Cheaper than XXH3 for the key's fixed 44 bytes: four
// multiplications, no length dispatch.
inline uint64_t hash_key(const FlowKey& k, const HashSecret& s) {
  auto mix = [](uint64_t a, uint64_t b) {
    unsigned __int128 p = (unsigned __int128)a * b;
    return uint64_t(p) ^ uint64_t(p >> 64);
  };
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&k);
  uint64_t w[5];
  uint32_t last;
  std::memcpy(w, p, 40);
  std::memcpy(&last, p + 40, 4);
  uint64_t a = mix(w[0] ^ s.w[0], w[1] ^ s.w[1]);
  uint64_t b = mix(w[2] ^ s.w[2], w[3] ^ s.w[3]);
  uint64_t c = mix(w[4] ^ s.w[4], last ^ a);
  return mix(b ^ s.w[5], c);
}

}  // namespace flowkit::meter
