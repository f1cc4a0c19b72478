// One column of a block: a registry field in one direction. The writer gathers the values of the
// rows that have one (ColumnBuffer), encodes them into a chunk's raw bytes (encode_column) and
// compresses those; the reader decompresses a chunk and decodes it into typed vectors with one
// entry per row (ColumnData), which is what queries work on.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "core/field_registry.h"
#include "core/result.h"
#include "store/format.h"

namespace flowkit::store {

// Bytes of one value of a fixed-size type in plain form; 0 for strings and lists.
size_t plain_size(FieldType type);

struct ColumnBuffer;
using Put = void (*)(ColumnBuffer&, const FlowRecord&, Direction);
// The function that appends a field's value, generated from fields.def (nullptr for derived
// fields, which are not stored).
Put put_of(FieldId id);

struct ColumnBuffer {
  ColumnBuffer(const FieldInfo& f, Direction d);
  const FieldInfo* field;
  Direction dir;
  std::vector<uint64_t> bits;     // presence, a bit per row
  uint32_t count = 0;             // rows with a value
  std::vector<uint8_t> values;    // fixed-size values in plain form; string and list bytes
  std::vector<uint32_t> lengths;  // strings and byte strings: each value's length

  // Appends row `row`'s value of record r (which has one).
  void append(uint32_t row, const FlowRecord& r);
  void clear();

 private:
  Put put_;
};

// Writes the chunk's raw bytes for `rows` rows (bitmap when some rows lack a value, then the
// values in the smallest of the encodings that suit the type) and fills the descriptor's
// field, direction, type, encoding, bitmap, min/max and raw size.
void encode_column(const ColumnBuffer& c, uint32_t rows, std::vector<uint8_t>& raw,
                   ColumnDescriptor& d);

// A column of a block read back: one entry per row in the vector of its type.
struct ColumnData {
  const FieldInfo* field = nullptr;
  Direction dir = Direction::kForward;
  uint32_t rows = 0;
  std::vector<uint8_t> present;  // 1 for rows with a value; empty when every row has one
  std::vector<uint64_t> ints;    // u8..u64 and enums; times as int64 nanoseconds
  std::vector<double> doubles;
  std::vector<IpAddress> ips;
  std::vector<MacAddress> macs;
  std::vector<std::string_view> strings;  // utf8 and bytes, in the block's arena
  std::vector<ListRef> lists;             // items in the block's arena

  bool has(uint32_t row) const { return present.empty() || present[row]; }
  // The row's value (monostate when it has none).
  FieldValue value(uint32_t row) const;
};

// Decodes a chunk's raw bytes. kCorruption when they do not hold what the descriptor says.
Status decode_column(const ColumnDescriptor& d, const FieldInfo& field,
                     std::span<const uint8_t> raw, uint32_t rows, ColumnData& out, Arena& arena);

// LEB128 varints and zigzag, as the format uses them.
inline void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(uint8_t(v) | 0x80);
    v >>= 7;
  }
  out.push_back(uint8_t(v));
}
inline bool get_varint(const uint8_t*& p, const uint8_t* end, uint64_t* v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint8_t b = *p++;
    x |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return true;
    }
  }
  return false;
}
inline uint64_t zigzag(int64_t d) {
  return (uint64_t(d) << 1) ^ uint64_t(d >> 63);
}
inline int64_t unzigzag(uint64_t z) {
  return int64_t(z >> 1) ^ -int64_t(z & 1);
}

}  // namespace flowkit::store
