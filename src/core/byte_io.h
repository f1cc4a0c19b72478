// Unaligned big/little-endian loads and stores over raw bytes. Callers check bounds first.
#pragma once

#include <cstdint>
#include <cstring>

namespace flowkit {

inline uint16_t load_be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t load_be24(const uint8_t* p) {
  return uint32_t(p[0]) << 16 | p[1] << 8 | p[2];
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t load_be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline uint16_t load_le16(const uint8_t* p) {
  return uint16_t(p[0] | p[1] << 8);
}
inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint16_t load16(const uint8_t* p, bool big_endian) {
  return big_endian ? load_be16(p) : load_le16(p);
}
inline uint32_t load32(const uint8_t* p, bool big_endian) {
  return big_endian ? load_be32(p) : load_le32(p);
}

inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void store_be64(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline void store_le16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, 2);
}
inline void store_le32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}
inline void store_le64(uint8_t* p, uint64_t v) {
  std::memcpy(p, &v, 8);
}

}  // namespace flowkit
