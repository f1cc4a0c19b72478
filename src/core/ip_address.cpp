#include "core/ip_address.h"

#include <arpa/inet.h>

#include <array>
#include <cstdio>
#include <cstring>

namespace flowkit {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = 0;
  uint8_t out[16];
  if (inet_pton(AF_INET, buf, out) == 1) return v4(out);
  if (inet_pton(AF_INET6, buf, out) == 1) return v6(out);
  return std::nullopt;
}

namespace {

// Each byte's digits and a dot, padded to 4 characters, and how many of them count: a quad is
// four copies of 4 bytes (writing one character past its end, which format's buffer has).
struct Octet {
  char text[4];
  uint8_t size;
};
constexpr std::array<Octet, 256> kOctets = [] {
  std::array<Octet, 256> t{};
  for (unsigned v = 0; v < 256; ++v) {
    Octet& o = t[v];
    if (v >= 100) o.text[o.size++] = char('0' + v / 100);
    if (v >= 10) o.text[o.size++] = char('0' + v / 10 % 10);
    o.text[o.size++] = char('0' + v % 10);
    o.text[o.size++] = '.';
  }
  return t;
}();

char* put_dotted_quad(char* p, const uint8_t* b) {
  for (int i = 0; i < 4; ++i) {
    const Octet& o = kOctets[b[i]];
    std::memcpy(p, o.text, 4);
    p += o.size;
  }
  return p - 1;
}

}  // namespace

// The text inet_ntop gives (RFC 5952: the longest run of two or more zero groups is "::", the
// first of equal runs; IPv4-compatible and -mapped addresses end in a dotted quad), written
// here because the C library's goes through sprintf for every group.
size_t IpAddress::format(char* buf) const {
  if (is_v4()) return size_t(put_dotted_quad(buf, &b_[12]) - buf);
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = uint16_t(b_[2 * i] << 8 | b_[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i]) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && !w[j]) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best = -1;
  static const char kHex[] = "0123456789abcdef";
  char* p = buf;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      *p++ = ':';
      if (i + best_len == 8) *p++ = ':';
      i += best_len - 1;
      continue;
    }
    if (i) *p++ = ':';
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
      p = put_dotted_quad(p, &b_[12]);
      break;
    }
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nibble = w[i] >> shift & 15;
      if (nibble || started || shift == 0) *p++ = kHex[nibble], started = true;
    }
  }
  *p = 0;
  return size_t(p - buf);
}

std::string IpAddress::to_string() const {
  char buf[48];
  return std::string(buf, format(buf));
}

std::string MacAddress::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return buf;
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
  MacAddress m;
  if (text.size() != 17) return std::nullopt;
  for (int i = 0; i < 6; ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-'))
      return std::nullopt;
    m.b[i] = uint8_t(hi << 4 | lo);
  }
  return m;
}

}  // namespace flowkit
