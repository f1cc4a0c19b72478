// Test helpers for src/gen: read pcaps with libpcap and decode frames with code that shares
// nothing with the generator, so that tests check the generator against an independent view.
#pragma once

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace flowkit::gen::testing {

// A file name in gtest's temporary directory, this process's own.
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "flowkit_gen_test_" + std::to_string(getpid()) + "_" + name;
}

inline std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

struct CapturedPacket {
  int64_t ts_ns = 0;
  uint32_t wirelen = 0;
  std::vector<uint8_t> data;
};

// All packets of a capture (nanosecond timestamps); error set and empty result on failure.
inline std::vector<CapturedPacket> read_pcap(const std::string& path, std::string* error,
                                             int* linktype = nullptr) {
  std::vector<CapturedPacket> out;
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    *error = err;
    return out;
  }
  if (linktype) *linktype = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
    CapturedPacket c;
    c.ts_ns = int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;
    c.wirelen = h->len;
    c.data.assign(d, d + h->caplen);
    out.push_back(std::move(c));
  }
  if (rc == -1) *error = pcap_geterr(p);
  pcap_close(p);
  return out;
}

inline uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// RFC 1071 the slow, obvious way: 16-bit big-endian words into a 32-bit sum.
inline uint32_t naive_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1] << 8);
  return sum;
}
inline uint16_t naive_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}
// True when data including its checksum field sums to 0xffff.
inline bool sums_to_ones(const uint8_t* p, size_t n, uint32_t initial = 0) {
  return naive_fold(naive_sum(p, n, initial)) == 0xffff;
}
// Pseudo-header sum (RFC 768/793 for IPv4, RFC 8200 section 8.1 for IPv6).
inline uint32_t naive_pseudo(int version, const uint8_t* src, const uint8_t* dst, uint8_t proto,
                             uint32_t len) {
  size_t alen = version == 4 ? 4 : 16;
  uint32_t s = naive_sum(src, alen) + naive_sum(dst, alen) + proto;
  s += len >> 16;
  s += len & 0xffff;
  return s;
}

struct Decoded {
  int vlan_tags = 0;
  uint16_t vlan = 0;
  int version = 0;  // 0: not IP
  const uint8_t* ip = nullptr;
  size_t ip_header_len = 0;  // IPv4 header, or IPv6 header plus a fragment header
  size_t ip_total = 0;       // bytes of this IP packet (from its length field)
  uint8_t src[16] = {}, dst[16] = {};
  uint8_t proto = 0;  // upper-layer protocol (after a fragment header)
  bool fragment = false;
  bool more_fragments = false;
  uint32_t frag_offset = 0;  // bytes
  uint32_t frag_id = 0;
  const uint8_t* l4 = nullptr;  // upper-layer bytes of this packet
  size_t l4_len = 0;
};

// Ethernet, up to two VLAN tags, IPv4 or IPv6 with at most a fragment header.
inline bool decode(const uint8_t* f, size_t n, Decoded* d) {
  if (n < 14) return false;
  uint16_t type = be16(f + 12);
  size_t off = 14;
  while (type == 0x8100 || type == 0x88a8) {
    if (off + 4 > n) return false;
    d->vlan = be16(f + off) & 0x0fff;
    type = be16(f + off + 2);
    off += 4;
    ++d->vlan_tags;
  }
  const uint8_t* ip = f + off;
  size_t left = n - off;
  d->ip = ip;
  if (type == 0x0800) {
    if (left < 20 || ip[0] >> 4 != 4) return false;
    d->version = 4;
    d->ip_header_len = size_t(ip[0] & 15) * 4;
    d->ip_total = be16(ip + 2);
    if (d->ip_total > left || d->ip_header_len < 20) return false;
    std::memcpy(d->src, ip + 12, 4);
    std::memcpy(d->dst, ip + 16, 4);
    d->proto = ip[9];
    uint16_t frag = be16(ip + 6);
    d->more_fragments = frag & 0x2000;
    d->frag_offset = uint32_t(frag & 0x1fff) * 8;
    d->fragment = d->more_fragments || d->frag_offset;
    d->frag_id = be16(ip + 4);
  } else if (type == 0x86dd) {
    if (left < 40 || ip[0] >> 4 != 6) return false;
    d->version = 6;
    d->ip_total = 40 + size_t(be16(ip + 4));
    if (d->ip_total > left) return false;
    std::memcpy(d->src, ip + 8, 16);
    std::memcpy(d->dst, ip + 24, 16);
    d->proto = ip[6];
    d->ip_header_len = 40;
    if (d->proto == 44) {
      if (d->ip_total < 48) return false;
      const uint8_t* fh = ip + 40;
      d->proto = fh[0];
      d->frag_offset = be16(fh + 2) & 0xfff8;
      d->more_fragments = fh[3] & 1;
      d->fragment = true;
      d->frag_id = be32(fh + 4);
      d->ip_header_len = 48;
    }
  } else {
    return false;
  }
  d->l4 = ip + d->ip_header_len;
  d->l4_len = d->ip_total - d->ip_header_len;
  return true;
}

}  // namespace flowkit::gen::testing
