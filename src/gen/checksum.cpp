#include "gen/checksum.h"

#include <cstring>

namespace flowkit::gen {
namespace {

inline uint64_t add_carry(uint64_t a, uint64_t b) {
  uint64_t s = a + b;
  return s + (s < a);
}

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint32_t fold64(uint64_t acc) {
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffffffff) + (acc >> 32);
  uint32_t s = uint32_t(acc);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s;
}

}  // namespace

uint32_t ones_sum(const uint8_t* p, size_t n) {
  // Summing native little-endian words 8 bytes at a time gives the byte-swapped sum (RFC 1071
  // section 2B); one swap at the end restores network order.
  uint64_t a0 = 0, a1 = 0;
  while (n >= 32) {
    a0 = add_carry(a0, load64(p));
    a1 = add_carry(a1, load64(p + 8));
    a0 = add_carry(a0, load64(p + 16));
    a1 = add_carry(a1, load64(p + 24));
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    a0 = add_carry(a0, load64(p));
    p += 8;
    n -= 8;
  }
  if (n) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    a1 = add_carry(a1, tail);
  }
  uint32_t s = fold64(add_carry(a0, a1));
  if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) s = __builtin_bswap16(uint16_t(s));
  return s;
}

uint32_t pseudo_sum_v4(const uint8_t* src4, const uint8_t* dst4, uint8_t protocol,
                       uint32_t l4_length) {
  uint32_t s = uint32_t(src4[0] << 8 | src4[1]) + uint32_t(src4[2] << 8 | src4[3]) +
               uint32_t(dst4[0] << 8 | dst4[1]) + uint32_t(dst4[2] << 8 | dst4[3]) + protocol +
               (l4_length & 0xffff);
  return ones_add(s & 0xffff, s >> 16);
}

uint32_t pseudo_sum_v6(const uint8_t* src16, const uint8_t* dst16, uint8_t next_header,
                       uint32_t l4_length) {
  uint32_t s = ones_add(ones_sum(src16, 16), ones_sum(dst16, 16));
  s = ones_add(s, l4_length >> 16);
  s = ones_add(s, l4_length & 0xffff);
  return ones_add(s, next_header);
}

uint16_t checksum_replace(uint16_t checksum, const uint8_t* old_bytes, const uint8_t* new_bytes,
                          size_t len) {
  // HC' = ~(~HC + ~m + m'), summed over all replaced words.
  uint32_t s = uint16_t(~checksum);
  for (size_t i = 0; i + 1 < len; i += 2) {
    s += uint16_t(~uint16_t(old_bytes[i] << 8 | old_bytes[i + 1]));
    s += uint16_t(new_bytes[i] << 8 | new_bytes[i + 1]);
  }
  return ones_finish(s);
}

}  // namespace flowkit::gen
