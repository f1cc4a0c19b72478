#include "gen/replicator.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/byte_io.h"
#include "gen/checksum.h"

namespace flowkit::gen {
namespace {

uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Leading bits of an IPv4 address that stay fixed so that its class survives the rewrite;
// 32 = leave the address alone.
int v4_fixed_bits(const uint8_t* a) {
  const uint8_t o0 = a[0], o1 = a[1];
  if (o0 == 0 || o0 >= 224) return 32;            // this-network, multicast, class E and broadcast
  if (o0 == 10 || o0 == 127) return 8;            // private, loopback
  if (o0 == 100 && (o1 & 0xc0) == 64) return 10;  // 100.64/10 shared (CGNAT)
  if (o0 == 172 && (o1 & 0xf0) == 16) return 12;  // 172.16/12
  if (o0 == 192 && o1 == 168) return 16;
  if (o0 == 169 && o1 == 254) return 16;          // link-local
  if (o0 == 198 && (o1 & 0xfe) == 18) return 15;  // 198.18/15 benchmarking
  // Documentation and protocol-assignment /24s, and the public /24s beside them.
  if ((o0 == 192 && o1 == 0) || (o0 == 198 && o1 == 51) || (o0 == 203 && o1 == 0)) return 24;
  // Public addresses whose /8 also holds a special range keep their /16 so as not to land in it.
  if (o0 == 100 || o0 == 169 || o0 == 172 || o0 == 192 || o0 == 198) return 16;
  return 8;
}

constexpr int kMaxDepth = 4;  // nested tunnels followed

bool rewrite_ip(uint8_t* p, size_t n, const AddressMap& map, int depth);
bool rewrite_ethernet(uint8_t* f, size_t n, const AddressMap& map, int depth);

// Rewrites the packet a tunnel carries in `payload`; `sum_at` (or null) is a checksum over the
// payload (outer UDP, GRE) to adjust for what changed.
void rewrite_inner(uint8_t* inner, size_t n, bool ethernet, uint8_t* payload, size_t payload_len,
                   uint8_t* sum_at, const AddressMap& map, int depth) {
  if (depth >= kMaxDepth || n == 0) return;
  uint16_t old_check = sum_at ? load_be16(sum_at) : 0;
  bool checked = sum_at && old_check != 0;
  uint32_t before = checked ? ones_sum(payload, payload_len) : 0;
  if (ethernet) {
    rewrite_ethernet(inner, n, map, depth + 1);
  } else {
    rewrite_ip(inner, n, map, depth + 1);
  }
  if (checked) {
    uint16_t c = checksum_update(old_check, before, ones_sum(payload, payload_len));
    store_be16(sum_at, c ? c : 0xffff);
  }
}

// Follows IP-in-IP, GRE, VXLAN, Teredo and GTP-U into the packet they carry.
void rewrite_tunnel(uint8_t proto, uint8_t* l4, size_t n, uint8_t* udp_check, const AddressMap& map,
                    int depth) {
  if (proto == 4 || proto == 41) {
    rewrite_ip(l4, n, map, depth + 1);
  } else if (proto == 47 && n >= 4) {
    uint16_t flags = load_be16(l4), type = load_be16(l4 + 2);
    if (flags & 0x4007) return;  // routing present or not version 0
    size_t hl = 4 + (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
    if (hl > n) return;
    uint8_t* sum_at = flags & 0x8000 ? l4 + 4 : nullptr;
    if (type == 0x0800 || type == 0x86dd || type == 0x6558) {
      rewrite_inner(l4 + hl, n - hl, type == 0x6558, l4, n, sum_at, map, depth);
    }
  } else if (proto == 17 && n > 8) {
    uint16_t sport = load_be16(l4), dport = load_be16(l4 + 2);
    uint8_t* pl = l4 + 8;
    size_t len = n - 8;
    auto either = [&](uint16_t port) { return sport == port || dport == port; };
    if (either(4789) && len > 8 && (pl[0] & 0x08)) {  // VXLAN with a valid VNI
      rewrite_inner(pl + 8, len - 8, true, l4, n, udp_check, map, depth);
    } else if (either(3544)) {  // Teredo; an origin indication may come first
      size_t skip = len >= 8 && pl[0] == 0 && pl[1] == 0 ? 8 : 0;
      if (len > skip && (pl[skip] >> 4) == 6)
        rewrite_inner(pl + skip, len - skip, false, l4, n, udp_check, map, depth);
    } else if (either(2152) && len >= 8 && (pl[0] >> 5) == 1 && pl[1] == 0xff) {  // GTP-U
      size_t hl = 8;
      if (pl[0] & 0x07) {
        hl = 12;
        uint8_t next = pl[0] & 0x04 ? pl[11] : 0;
        while (next && hl < len) {  // extension headers, 4-byte units
          size_t units = pl[hl];
          if (!units || hl + units * 4 > len) return;
          hl += units * 4;
          next = pl[hl - 1];
        }
      }
      if (hl < len) rewrite_inner(pl + hl, len - hl, false, l4, n, udp_check, map, depth);
    }
  }
}

bool rewrite_ipv4(uint8_t* p, size_t n, const AddressMap& map, int depth) {
  if (n < 20 || (p[0] >> 4) != 4) return false;
  size_t ihl = size_t(p[0] & 15) * 4;
  size_t total = load_be16(p + 2);
  if (total >= ihl && total < n) n = total;  // ignore Ethernet padding
  uint8_t old[8];
  std::memcpy(old, p + 12, 8);
  map.map_v4(p + 12);
  map.map_v4(p + 16);
  const bool changed = std::memcmp(old, p + 12, 8) != 0;
  if (changed) store_be16(p + 10, checksum_replace(load_be16(p + 10), old, p + 12, 8));
  if (ihl < 20 || ihl > n || (load_be16(p + 6) & 0x1fff)) return true;  // later fragments
  const uint8_t proto = p[9];
  uint8_t* l4 = p + ihl;
  size_t l4_len = n - ihl;
  uint8_t* check = nullptr;
  if ((proto == 6 && l4_len >= 18) || (proto == 17 && l4_len >= 8)) {
    check = l4 + (proto == 6 ? 16 : 6);
    if (proto == 17 && load_be16(check) == 0) {
      check = nullptr;  // UDP without checksum
    } else if (changed) {
      uint16_t c = checksum_replace(load_be16(check), old, p + 12, 8);
      store_be16(check, proto == 17 && c == 0 ? 0xffff : c);
    }
  }
  rewrite_tunnel(proto, l4, l4_len, check, map, depth);
  return true;
}

bool rewrite_ipv6(uint8_t* p, size_t n, const AddressMap& map, int depth) {
  if (n < 40 || (p[0] >> 4) != 6) return false;
  size_t total = 40 + size_t(load_be16(p + 4));
  if (total < n) n = total;
  uint8_t old[32];
  std::memcpy(old, p + 8, 32);
  map.map_v6(p + 8);
  map.map_v6(p + 24);
  const bool changed = std::memcmp(old, p + 8, 32) != 0;
  uint8_t nh = p[6];
  size_t off = 40;
  for (int i = 0; i < 8; ++i) {
    if (nh == 0 || nh == 60) {  // hop-by-hop, destination options
      if (off + 2 > n) return true;
      nh = p[off];
      off += (size_t(p[off + 1]) + 1) * 8;
    } else if (nh == 44) {  // fragment
      if (off + 8 > n || (load_be16(p + off + 2) & 0xfff8)) return true;
      nh = p[off];
      off += 8;
    } else if (nh == 51) {  // AH
      if (off + 2 > n) return true;
      nh = p[off];
      off += (size_t(p[off + 1]) + 2) * 4;
    } else {
      // A routing header puts the final destination in the pseudo-header: leave it be.
      if (nh == 43) return true;
      break;
    }
  }
  if (off > n) return true;
  uint8_t* l4 = p + off;
  size_t l4_len = n - off;
  uint8_t* check = nullptr;
  size_t at = nh == 6 ? 16 : nh == 17 ? 6 : nh == 58 ? 2 : 0;
  if (at && l4_len >= at + 2) {
    check = l4 + at;
    if (nh == 17 && load_be16(check) == 0) {
      check = nullptr;
    } else if (changed) {
      uint16_t c = checksum_replace(load_be16(check), old, p + 8, 32);
      store_be16(check, nh == 17 && c == 0 ? 0xffff : c);
    }
  }
  rewrite_tunnel(nh, l4, l4_len, nh == 17 ? check : nullptr, map, depth);
  return true;
}

bool rewrite_ip(uint8_t* p, size_t n, const AddressMap& map, int depth) {
  if (n < 1) return false;
  if ((p[0] >> 4) == 4) return rewrite_ipv4(p, n, map, depth);
  if ((p[0] >> 4) == 6) return rewrite_ipv6(p, n, map, depth);
  return false;
}

bool rewrite_ethernet(uint8_t* f, size_t n, const AddressMap& map, int depth) {
  if (n < 14) return false;
  map.map_mac(f);
  map.map_mac(f + 6);
  uint16_t type = load_be16(f + 12);
  size_t off = 14;
  for (int i = 0; i < 4 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); ++i) {
    if (off + 4 > n) return false;
    type = load_be16(f + off + 2);
    off += 4;
  }
  if (type == 0x8847 || type == 0x8848) {  // MPLS: IP follows the bottom of the stack
    for (;;) {
      if (off + 4 > n) return false;
      bool bottom = f[off + 2] & 1;
      off += 4;
      if (bottom) break;
    }
    if (off >= n) return false;
    type = (f[off] >> 4) == 4 ? 0x0800 : (f[off] >> 4) == 6 ? 0x86dd : 0;
  } else if (type == 0x8864) {  // PPPoE session
    if (off + 8 > n) return false;
    uint16_t ppp = load_be16(f + off + 6);
    off += 8;
    type = ppp == 0x0021 ? 0x0800 : ppp == 0x0057 ? 0x86dd : 0;
  }
  if (type == 0x0800) return rewrite_ipv4(f + off, n - off, map, depth);
  if (type == 0x86dd) return rewrite_ipv6(f + off, n - off, map, depth);
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Address rewriting

AddressMap::AddressMap(uint64_t seed, uint32_t copy) : copy_(copy) {
  uint64_t a = mix64(seed ^ mix64(copy + 1)), b = mix64(a), c = mix64(b);
  key4_ = uint32_t(a);
  // Rotating the low octet by the copy number makes the copies of one address distinct.
  shift4_ = uint8_t(copy == 0 ? 0 : 1 + (copy - 1) % 253);
  std::memcpy(key6_, &b, 8);
  std::memcpy(key6_ + 8, &c, 8);
  // The copy number in every rewritten stretch keeps copies of one IPv6 address distinct.
  store_be16(key6_ + 6, uint16_t(copy));
  store_be16(key6_ + 14, uint16_t(copy));
  key_mac_[0] = uint8_t(a >> 40);
  key_mac_[1] = uint8_t(copy >> 8);
  key_mac_[2] = uint8_t(copy);
}

void AddressMap::map_v4(uint8_t* addr) const {
  if (copy_ == 0) return;
  int fixed = v4_fixed_bits(addr);
  if (fixed >= 32) return;
  uint32_t v = load_be32(addr);
  uint32_t middle = (~0u >> fixed) & ~0xffu;
  v ^= key4_ & middle;
  uint32_t low = v & 0xff;
  if (low != 0 && low != 255) low = 1 + (low - 1 + shift4_) % 254;
  store_be32(addr, (v & ~0xffu) | low);
}

void AddressMap::map_v6(uint8_t* a) const {
  if (copy_ == 0 || a[0] == 0xff) return;  // multicast
  bool zero80 = true;
  for (int i = 0; i < 10; ++i) zero80 &= a[i] == 0;
  // Unspecified, loopback, IPv4-compatible and IPv4-mapped addresses.
  if (zero80 && ((a[10] == 0 && a[11] == 0) || (a[10] == 0xff && a[11] == 0xff))) return;
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {  // link-local: new interface id
    for (int i = 8; i < 16; ++i) a[i] ^= key6_[i];
    return;
  }
  // Keep the /16 (/32 for 2001::/16 and 2002::/16: Teredo, documentation, 6to4); change the
  // rest of the routing prefix, so hosts of one /64 stay together.
  int from = a[0] == 0x20 && (a[1] == 0x01 || a[1] == 0x02) ? 4 : 2;
  for (int i = from; i < 8; ++i) a[i] ^= key6_[i];
}

void AddressMap::map_mac(uint8_t* mac) const {
  if (copy_ == 0 || (mac[0] & 1)) return;  // group addresses stay
  if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0) return;
  mac[3] ^= key_mac_[0];
  mac[4] ^= key_mac_[1];
  mac[5] ^= key_mac_[2];
}

bool rewrite_frame(uint8_t* f, size_t n, const AddressMap& map) {
  return rewrite_ethernet(f, n, map, 0);
}

// ---------------------------------------------------------------------------------------------
// Loading and merging

namespace {

constexpr uint32_t kMaxCaplen = 262144;

struct Record {
  int64_t ts;
  uint64_t offset;
  uint32_t caplen, wirelen;
};

struct Input {
  std::string path;
  std::vector<uint8_t> data;  // Ethernet frames back to back
  std::vector<Record> records;
};

enum class Framing { kEthernet, kRaw, kNull, kSll, kSll2, kUnsupported };

Framing framing_of(int dlt) {
  switch (dlt) {
    case DLT_EN10MB:
      return Framing::kEthernet;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
      return Framing::kRaw;
    case DLT_NULL:
    case DLT_LOOP:
      return Framing::kNull;
    case DLT_LINUX_SLL:
      return Framing::kSll;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
      return Framing::kSll2;
#endif
    default:
      return Framing::kUnsupported;
  }
}

// A stable locally administered unicast MAC for an IP address, for inputs without Ethernet.
void mac_for(const uint8_t* addr, size_t len, uint8_t* mac) {
  uint64_t h = 0;
  for (size_t i = 0; i < len; ++i) h = mix64(h ^ addr[i]);
  mac[0] = 0x02;
  for (int i = 1; i < 6; ++i) mac[i] = uint8_t(h >> (8 * i));
}

// Re-frames a packet as Ethernet onto out, setting *grown to the bytes the frame gained over
// the input packet (so that wirelen can follow). False when the packet carries no IP or
// Ethernet-typed payload.
bool reframe(Framing fr, const uint8_t* p, uint32_t caplen, std::vector<uint8_t>& out, int* grown) {
  *grown = 0;
  size_t hdr = 0;
  uint16_t type = 0;
  const uint8_t* src_mac = nullptr;
  switch (fr) {
    case Framing::kEthernet:
      out.insert(out.end(), p, p + caplen);
      return true;
    case Framing::kRaw:
      hdr = 0;
      break;
    case Framing::kNull:
      hdr = 4;
      break;
    case Framing::kSll:
      if (caplen < 16) return false;
      hdr = 16;
      type = load_be16(p + 14);
      if (load_be16(p + 4) == 6) src_mac = p + 6;
      break;
    case Framing::kSll2:
      if (caplen < 20) return false;
      hdr = 20;
      type = load_be16(p);
      if (p[11] == 6) src_mac = p + 12;
      break;
    case Framing::kUnsupported:
      return false;
  }
  if (caplen <= hdr) return false;
  const uint8_t* ip = p + hdr;
  size_t len = caplen - hdr;
  if (type == 0) {
    type = (ip[0] >> 4) == 4 ? 0x0800 : (ip[0] >> 4) == 6 ? 0x86dd : 0;
  } else if (type < 0x0600) {
    return false;  // 802.2 LLC and other non-Ethernet-typed payloads
  }
  if (type == 0) return false;
  uint8_t eth[14];
  std::memset(eth, 0, 12);
  if (type == 0x0800 && len >= 20) {
    mac_for(ip + 16, 4, eth);
    mac_for(ip + 12, 4, eth + 6);
  } else if (type == 0x86dd && len >= 40) {
    mac_for(ip + 24, 16, eth);
    mac_for(ip + 8, 16, eth + 6);
  }
  if (src_mac) std::memcpy(eth + 6, src_mac, 6);
  store_be16(eth + 12, type);
  out.insert(out.end(), eth, eth + 14);
  out.insert(out.end(), ip, ip + len);
  *grown = 14 - int(hdr);
  return true;
}

}  // namespace

struct Replicator::Impl {
  ReplicateOptions opt;
  ReplicateStats stats;
  std::vector<Input> inputs;
  std::vector<AddressMap> maps;
  struct Stream {
    uint32_t input, copy;
    int64_t offset;  // added to every timestamp
    size_t next = 0;
  };
  std::vector<Stream> streams;
  struct Head {
    int64_t t;
    uint32_t stream;
    bool operator<(const Head& o) const { return t != o.t ? t < o.t : stream < o.stream; }
  };
  std::vector<Head> heap;
  uint64_t total = 0;

  Status load(const std::string& path);
  void sift_down(size_t i);
};

Status Replicator::Impl::load(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    std::string why = err;  // libpcap often starts its message with the path
    if (why.starts_with(path + ": ")) why.erase(0, path.size() + 2);
    return Status::error("cannot read " + path + ": " + why);
  }
  int dlt = pcap_datalink(p);
  Framing fr = framing_of(dlt);
  if (fr == Framing::kUnsupported) {
    const char* name = pcap_datalink_val_to_name(dlt);
    stats.notes.push_back(path + ": skipped, link type " + (name ? name : "?") + " (" +
                          std::to_string(dlt) + ") is not supported");
    pcap_close(p);
    return {};
  }
  Input in;
  in.path = path;
  pcap_pkthdr* h;
  const u_char* data;
  int rc;
  uint64_t skipped = 0;
  int64_t prev_raw = 0, prev = 0, shrink = 0;
  const int64_t max_gap = int64_t(opt.max_gap_seconds * 1e9);
  while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
    uint32_t caplen = std::min(h->caplen, kMaxCaplen - 64);
    uint64_t at = in.data.size();
    int grown;
    if (!reframe(fr, data, caplen, in.data, &grown)) {
      ++skipped;
      continue;
    }
    int64_t raw = int64_t(h->ts.tv_sec) * 1'000'000'000 + int64_t(h->ts.tv_usec);
    if (in.records.empty()) {
      prev_raw = raw;
      prev = raw;
    }
    // Shrink long idle gaps; never let time run backwards inside one input.
    if (max_gap > 0 && raw - prev_raw > max_gap) shrink += raw - prev_raw - max_gap;
    prev_raw = raw;
    int64_t ts = std::max(raw - shrink, prev);
    prev = ts;
    uint32_t len = uint32_t(in.data.size() - at);
    int64_t wire = int64_t(h->len) + grown;
    in.records.push_back({ts, at, len, uint32_t(std::max<int64_t>(wire, len))});
  }
  if (rc == -1) {
    stats.notes.push_back(path + ": read error after " + std::to_string(in.records.size()) +
                          " packets: " + pcap_geterr(p));
  }
  pcap_close(p);
  if (skipped) {
    stats.notes.push_back(path + ": skipped " + std::to_string(skipped) +
                          " packets without an IP or Ethernet-typed payload");
  }
  if (in.records.empty()) {
    stats.notes.push_back(path + ": no usable packets");
    return {};
  }
  stats.input_packets += in.records.size();
  ++stats.inputs_used;
  inputs.push_back(std::move(in));
  return {};
}

void Replicator::Impl::sift_down(size_t i) {
  size_t n = heap.size();
  Head e = heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap[c + 1] < heap[c]) ++c;
    if (!(heap[c] < e)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = e;
}

Replicator::Replicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Replicator::~Replicator() = default;

Result<std::unique_ptr<Replicator>> Replicator::open(const ReplicateOptions& options) {
  if (options.inputs.empty()) return Status::invalid_argument("no input captures to replicate");
  if (options.copies == 0) return Status::invalid_argument("copies must be at least 1");
  if (options.copies > 65535) return Status::invalid_argument("copies must be at most 65535");
  if (!(options.spread_seconds >= 0))
    return Status::invalid_argument("spread must not be negative");
  if (!(options.max_gap_seconds >= 0))
    return Status::invalid_argument("max gap must not be negative");
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  for (const std::string& path : options.inputs) {
    Status st = impl->load(path);
    if (!st.ok()) return st;
  }
  if (impl->inputs.empty()) {
    std::string why = "no usable packets in the inputs";
    for (const std::string& n : impl->stats.notes) why += "\n  " + n;
    return Status::error(why);
  }
  std::mt19937_64 rng(options.seed);
  const double spread_ns = options.spread_seconds * 1e9;
  for (uint32_t k = 0; k < options.copies; ++k) impl->maps.emplace_back(options.seed, k);
  for (uint32_t i = 0; i < impl->inputs.size(); ++i) {
    const Input& in = impl->inputs[i];
    for (uint32_t k = 0; k < options.copies; ++k) {
      double u = double(rng() >> 11) * 0x1p-53;
      int64_t offset = options.start.ns - in.records[0].ts + int64_t(u * spread_ns);
      uint32_t id = uint32_t(impl->streams.size());
      impl->streams.push_back({i, k, offset, 0});
      impl->heap.push_back({in.records[0].ts + offset, id});
      impl->total += in.records.size();
    }
  }
  std::make_heap(impl->heap.begin(), impl->heap.end(),
                 [](const Impl::Head& a, const Impl::Head& b) { return b < a; });
  return std::unique_ptr<Replicator>(new Replicator(std::move(impl)));
}

bool Replicator::peek(ReplicaPacket* meta) {
  Impl& r = *impl_;
  if (r.heap.empty()) return false;
  const Impl::Stream& s = r.streams[r.heap[0].stream];
  const Record& rec = r.inputs[s.input].records[s.next];
  meta->ts = Timestamp{r.heap[0].t};
  meta->caplen = rec.caplen;
  meta->wirelen = rec.wirelen;
  return true;
}

void Replicator::take(uint8_t* out) {
  Impl& r = *impl_;
  Impl::Stream& s = r.streams[r.heap[0].stream];
  const Input& in = r.inputs[s.input];
  const Record& rec = in.records[s.next];
  std::memcpy(out, in.data.data() + rec.offset, rec.caplen);
  if (!rewrite_frame(out, rec.caplen, r.maps[s.copy])) ++r.stats.not_rewritten;
  ++r.stats.packets;
  r.stats.bytes += rec.caplen;
  if (++s.next < in.records.size()) {
    r.heap[0].t = in.records[s.next].ts + s.offset;
  } else {
    r.heap[0] = r.heap.back();
    r.heap.pop_back();
  }
  if (!r.heap.empty()) r.sift_down(0);
}

uint64_t Replicator::total_packets() const {
  return impl_->total;
}
const ReplicateStats& Replicator::stats() const {
  return impl_->stats;
}

Result<ReplicateStats> write_replicated_pcap(const ReplicateOptions& options,
                                             const std::string& path,
                                             const PcapWriterOptions& writer_options,
                                             const ProgressFn& progress) {
  auto rep = Replicator::open(options);
  if (!rep.ok()) return rep.status();
  auto writer = PcapWriter::open(path, writer_options);
  if (!writer.ok()) return writer.status();
  Replicator& r = **rep;
  Status st = write_all(**writer, r.total_packets(), progress, [&r](PcapWriter& w) {
    ReplicaPacket meta;
    if (!r.peek(&meta)) return false;
    r.take(w.reserve(meta.caplen));
    w.commit(meta.ts, meta.caplen, meta.wirelen);
    return true;
  });
  if (!st.ok()) return st;
  return r.stats();
}

}  // namespace flowkit::gen
