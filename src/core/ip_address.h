// IpAddress: an IPv4 or IPv6 address in 16 bytes. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d)
// so that both families compare, hash and order with one memcmp.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace flowkit {

class IpAddress {
 public:
  IpAddress() = default;

  static IpAddress v4(const uint8_t* four_bytes) {
    IpAddress a;
    a.b_[10] = 0xff;
    a.b_[11] = 0xff;
    std::memcpy(&a.b_[12], four_bytes, 4);
    return a;
  }
  static IpAddress v4(uint32_t host_order) {
    uint8_t b[4] = {uint8_t(host_order >> 24), uint8_t(host_order >> 16), uint8_t(host_order >> 8),
                    uint8_t(host_order)};
    return v4(b);
  }
  static IpAddress v6(const uint8_t* sixteen_bytes) {
    IpAddress a;
    std::memcpy(a.b_.data(), sixteen_bytes, 16);
    return a;
  }
  // Accepts dotted IPv4 and any RFC 4291 IPv6 text form.
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(b_.data(), kPrefix, 12) == 0;
  }
  bool is_unspecified() const { return *this == IpAddress(); }
  const uint8_t* bytes() const { return b_.data(); }
  uint8_t* bytes() { return b_.data(); }
  const uint8_t* v4_bytes() const { return b_.data() + 12; }
  uint32_t v4_host_order() const {
    return uint32_t(b_[12]) << 24 | uint32_t(b_[13]) << 16 | uint32_t(b_[14]) << 8 | b_[15];
  }

  std::string to_string() const;
  // Writes the text form into buf (>= 47 bytes: one past the text may be written); returns its
  // length.
  size_t format(char* buf) const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) { return a.b_ == b.b_; }
  friend std::strong_ordering operator<=>(const IpAddress& a, const IpAddress& b) {
    int c = std::memcmp(a.b_.data(), b.b_.data(), 16);
    return c < 0 ? std::strong_ordering::less
                 : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
  }

 private:
  std::array<uint8_t, 16> b_{};
};

// A well-mixed hash of an address, for tables and caches keyed by it (use the high bits).
inline uint64_t hash_of(const IpAddress& a) {
  uint64_t x, y;
  std::memcpy(&x, a.bytes(), 8);
  std::memcpy(&y, a.bytes() + 8, 8);
  return (x ^ (y * 0x9e3779b97f4a7c15)) * 0xff51afd7ed558ccd;
}

struct MacAddress {
  std::array<uint8_t, 6> b{};

  bool is_zero() const { return b == std::array<uint8_t, 6>{}; }
  std::string to_string() const;
  static std::optional<MacAddress> parse(std::string_view text);
  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

}  // namespace flowkit
