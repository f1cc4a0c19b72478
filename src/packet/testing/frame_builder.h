// Frame: builds packets header by header for tests (decoder, meter, fuzz seeds). IP and UDP
// lengths are patched by done(). Test-only; not part of the library.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ip_address.h"

namespace flowkit::packet::testing {

class Frame {
 public:
  Frame& bytes(std::initializer_list<int> b) {
    for (int x : b) d_.push_back(uint8_t(x));
    return *this;
  }
  Frame& be16(uint16_t v) { return bytes({v >> 8, v & 0xff}); }
  Frame& be32(uint32_t v) { return be16(uint16_t(v >> 16)).be16(uint16_t(v)); }
  Frame& zeros(size_t n) {
    d_.insert(d_.end(), n, 0);
    return *this;
  }
  Frame& eth(uint16_t type) {
    bytes({0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01});
    return be16(type);
  }
  Frame& vlan(uint16_t vid, uint16_t next) { return be16(vid).be16(next); }
  Frame& ipv4(uint8_t proto, const char* src = "10.0.0.1", const char* dst = "10.0.0.2",
              uint16_t frag = 0, uint16_t id = 7) {
    ip_starts_.push_back({d_.size(), 4});
    bytes({0x45, 0x10}).be16(0).be16(id).be16(frag).bytes({64, proto}).be16(0);
    addr4(src);
    addr4(dst);
    return *this;
  }
  Frame& ipv6(uint8_t next, const char* src = "2001:db8::1", const char* dst = "2001:db8::2") {
    ip_starts_.push_back({d_.size(), 6});
    be32(0x60000000 | 0x12345).be16(0).bytes({next, 57});
    addr6(src);
    addr6(dst);
    return *this;
  }
  Frame& tcp(uint16_t sport, uint16_t dport, uint8_t flags) {
    be16(sport).be16(dport).be32(1).be32(0).bytes({0x50, flags}).be16(1024).be32(0);
    return *this;
  }
  Frame& udp(uint16_t sport, uint16_t dport) {
    udp_starts_.push_back(d_.size());
    return be16(sport).be16(dport).be16(0).be16(0);
  }
  Frame& payload(size_t n) { return zeros(n); }
  Frame& text(std::string_view s) {
    d_.insert(d_.end(), s.begin(), s.end());
    return *this;
  }
  // Patches every IP total/payload length and UDP length to the end of the frame.
  std::vector<uint8_t> done() {
    for (auto [off, v] : ip_starts_) {
      size_t len = d_.size() - off;
      if (v == 4)
        put16(off + 2, uint16_t(len));
      else
        put16(off + 4, uint16_t(len - 40));
    }
    for (size_t off : udp_starts_) put16(off + 4, uint16_t(d_.size() - off));
    return d_;
  }

 private:
  void addr4(const char* s) {
    auto a = IpAddress::parse(s);
    d_.insert(d_.end(), a->v4_bytes(), a->v4_bytes() + 4);
  }
  void addr6(const char* s) {
    auto a = IpAddress::parse(s);
    d_.insert(d_.end(), a->bytes(), a->bytes() + 16);
  }
  void put16(size_t off, uint16_t v) {
    d_[off] = uint8_t(v >> 8);
    d_[off + 1] = uint8_t(v);
  }
  std::vector<uint8_t> d_;
  std::vector<std::pair<size_t, int>> ip_starts_;
  std::vector<size_t> udp_starts_;
};

}  // namespace flowkit::packet::testing
