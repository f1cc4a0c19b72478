// Internet checksums (RFC 1071) for building packets, and RFC 1624 incremental updates for
// rewriting them. Sums are folded 16-bit values of big-endian words, ready to combine.
#pragma once

#include <cstddef>
#include <cstdint>

namespace flowkit::gen {

// One's complement sum of `len` bytes, folded to 16 bits. An odd last byte is padded with zero,
// so only the last piece of a multi-piece sum may have an odd length.
uint32_t ones_sum(const uint8_t* data, size_t len);

// Adds two folded sums.
inline uint32_t ones_add(uint32_t a, uint32_t b) {
  uint32_t s = a + b;
  return (s & 0xffff) + (s >> 16);
}

// The checksum field value for a folded sum.
inline uint16_t ones_finish(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// Pseudo-header sums for TCP/UDP/ICMPv6; addresses in network byte order.
uint32_t pseudo_sum_v4(const uint8_t* src4, const uint8_t* dst4, uint8_t protocol,
                       uint32_t l4_length);
uint32_t pseudo_sum_v6(const uint8_t* src16, const uint8_t* dst16, uint8_t next_header,
                       uint32_t l4_length);

// RFC 1624 eqn. 3: the checksum after `old_bytes` (even length, covered by the checksum) were
// replaced by `new_bytes`. Keeps a wrong checksum wrong by the same amount.
uint16_t checksum_replace(uint16_t checksum, const uint8_t* old_bytes, const uint8_t* new_bytes,
                          size_t len);

// The checksum after the data it covers changed from a folded sum of old_sum to new_sum (for a
// region that moved as a whole, such as a tunnel payload rewritten inside).
inline uint16_t checksum_update(uint16_t checksum, uint32_t old_sum, uint32_t new_sum) {
  return ones_finish(uint32_t(uint16_t(~checksum)) + uint16_t(~old_sum) + new_sum);
}

}  // namespace flowkit::gen
