#include "core/ip_address.h"

#include <arpa/inet.h>

#include <cstdio>

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

size_t IpAddress::format(char* buf) const {
  if (is_v4()) {
    int n = std::snprintf(buf, 16, "%u.%u.%u.%u", b_[12], b_[13], b_[14], b_[15]);
    return n > 0 ? size_t(n) : 0;
  }
  if (!inet_ntop(AF_INET6, b_.data(), buf, 46)) return 0;
  return std::strlen(buf);
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
