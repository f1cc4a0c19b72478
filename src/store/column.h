// One column of a block: a registry field in one direction. The writer gathers the values of the
// rows that have one (ColumnBuffer), encodes them into a chunk's raw bytes (encode_column) and
// compresses those; the reader decompresses a chunk and decodes it into typed vectors with one
// entry per row (ColumnData), which is what queries work on.
//
// Encodings keep bytes aligned (byte planes rather than bit packing), so that zstd, which runs
// after them, finds the repeats and codes the entropy.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/arena.h"
#include "core/field_registry.h"
#include "core/result.h"
#include "store/format.h"

namespace flowkit::store {

// Bytes of one value of a fixed-size type; 0 for strings and lists.
size_t plain_size(FieldType type);

// Whether fields.def predicts the field (FK_PREDICT), and the prediction for a record: the
// bits of a double for f64 fields, the number (times: nanoseconds) for integer fields.
bool predicted(FieldId id);
uint64_t predict(FieldId id, const FlowRecord& r, Direction dir);

// The string field whose value a string field mostly follows from (FK_FOLLOWS), or nullptr.
const FieldInfo* follows(FieldId id);

// Where a fixed-size field's value lives in a FlowRecord, held as a column holds it (the
// type's width, little-endian; addresses as their 16 bytes): an offset into the record, or -1
// for values computed on the fly or held otherwise. Readers copy such values straight in.
int record_offset(FieldId id, Direction dir);

// The least and greatest of some integers, both unsigned and signed (times compare as signed).
struct ValueRange {
  uint64_t lo = ~uint64_t(0), hi = 0;
  int64_t slo = INT64_MAX, shi = INT64_MIN;
  void add(uint64_t x) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    slo = std::min(slo, int64_t(x));
    shi = std::max(shi, int64_t(x));
  }
};

struct ColumnBuffer;
using Put = void (*)(ColumnBuffer&, const FlowRecord&, Direction);

struct ColumnBuffer {
  ColumnBuffer(const FieldInfo& f, Direction d);
  const FieldInfo* field;
  Direction dir;
  std::vector<uint64_t> bits;  // presence, a bit per row
  uint32_t count = 0;          // rows with a value
  // Fixed-size values, little-endian, `used` bytes of them (predicted fields: the values that
  // missed their prediction); string bytes; list items.
  std::vector<uint8_t> values;
  size_t used = 0;
  std::vector<uint64_t> hits;  // predicted f64 fields: a bit per value equal to its prediction
  // Late-predicted integer fields (FK_PREDICT_LATE): the values too, for blocks where they take
  // fewer bytes than the residuals.
  std::vector<uint64_t> plain;
  ValueRange range;  // predicted integer fields: the values' (the chunk holds differences)
  std::vector<uint32_t> lengths;  // strings and byte strings: each value's length

  // Appends row `row`'s value of record r (which has one).
  void append(uint32_t row, const FlowRecord& r) {
    bits[row / 64] |= uint64_t(1) << (row % 64);
    ++count;
    if (copy_width_) {
      // values has room for a block of them (the constructor sized it).
      const uint8_t* from = reinterpret_cast<const uint8_t*>(&r) + copy_offset_;
      uint8_t* to = values.data() + used;
      switch (copy_width_) {
        case 1:
          *to = *from;
          break;
        case 2:
          std::memcpy(to, from, 2);
          break;
        case 4:
          std::memcpy(to, from, 4);
          break;
        case 6:
          std::memcpy(to, from, 6);
          break;
        case 8:
          std::memcpy(to, from, 8);
          break;
        default:
          std::memcpy(to, from, 16);
          break;
      }
      used += copy_width_;
    } else {
      put_(*this, r, dir);
    }
  }
  uint8_t* room(size_t n) {
    if (used + n > values.size()) values.resize(std::max(values.size() * 2, used + n));
    uint8_t* p = values.data() + used;
    used += n;
    return p;
  }
  void clear();

 private:
  Put put_;
  // A value that is a fixed-size member held in memory as the chunk holds it (little-endian, of
  // the type's width) is copied from its offset in FlowRecord: no call per value.
  uint32_t copy_offset_ = 0;
  uint8_t copy_width_ = 0;
};

// Reusable scratch for encoding, one per encoding thread.
struct EncodeScratch {
  std::vector<uint64_t> ints;
  std::vector<uint64_t> dict_keys;
  std::vector<uint16_t> dict_slots;
  std::unordered_map<std::string_view, uint32_t> strings;  // a string column's distinct values
  std::vector<uint32_t> string_index;
  std::vector<uint8_t> alt;  // a second encoding of a column, to keep the smaller
  // Encoding 13: the value of each key, the keys in the order met, and the values that differ.
  std::unordered_map<std::string_view, std::string_view> keyed;
  std::vector<std::string_view> keys;
  std::vector<std::string_view> misses;
  std::vector<uint8_t> hits;
};

// Writes the chunk's raw bytes for `rows` rows (bitmap when some rows lack a value, then the
// values in the smallest encoding that suits the type) and fills the descriptor's field,
// direction, type, encoding, bitmap, min/max and raw size. With `presence_of` >= 0, the rows
// that have a value are those of the block's column of that index, whose bitmap the chunk names
// instead of holding its own. `key` is the column of the field that c's follows (FK_FOLLOWS),
// when the block has one.
void encode_column(const ColumnBuffer& c, uint32_t rows, std::vector<uint8_t>& raw,
                   ColumnDescriptor& d, EncodeScratch& scratch, int presence_of = -1,
                   const ColumnBuffer* key = nullptr);

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
  // Encodings 8 and 10, until the block resolves them: 1 for rows whose value is the
  // prediction (8), or the prediction plus the residual held in `ints` (10).
  std::vector<uint8_t> from_prediction;
  // Encoding 13, until the block resolves it: the value of each key (the rows whose
  // from_prediction is 1 take the value of their key in the column they follow).
  std::vector<std::pair<std::string_view, std::string_view>> keyed;

  bool has(uint32_t row) const { return present.empty() || present[row]; }
  // The row's value (monostate when it has none).
  FieldValue value(uint32_t row) const;
};

// Makes a vector reused block after block hold at least n values, keeping those it has:
// resizing to each block's rows would zero the tail again whenever a larger block follows a
// smaller one.
template <class V>
void hold(V& v, size_t n) {
  if (v.size() >= n) return;
  // Room for a whole block at once: growing block by block moved the values to fresh pages
  // each time (a third of a compound query's page faults).
  if (v.capacity() < n) v.reserve(std::max<size_t>(n, kMaxBlockRows));
  v.resize(n);
}

// Decodes a chunk's raw bytes. kCorruption when they do not hold what the descriptor says.
// Predicted values are left to the block (ColumnData::from_prediction). With `only` (a byte per
// row; `chosen` lists those rows in order, or is empty and made here), integers and addresses are
// read for the chosen rows alone: the other rows' values are unspecified (they may hold an
// earlier block's); presence is always whole, and chosen rows without a value hold 0 as after a
// whole decode. A column whose presence is another's (shared_presence) takes that column's
// bitmap in `presence`.
Status decode_column(const ColumnDescriptor& d, const FieldInfo& field,
                     std::span<const uint8_t> raw, uint32_t rows, ColumnData& out, Arena& arena,
                     std::span<const uint8_t> only = {}, std::span<const uint32_t> chosen = {},
                     std::span<const uint8_t> presence = {});

// The rows with only[row] != 0, in order, at the start of buf: what decode_column's `chosen`
// takes, made once for the columns of a block. buf only grows (cut to each block's rows, it
// was zeroed again up to the next block's).
inline std::span<const uint32_t> chosen_rows(std::span<const uint8_t> only,
                                             std::vector<uint32_t>& buf) {
  hold(buf, only.size());
  size_t k = 0;
  for (uint32_t row = 0; row < only.size(); ++row) {
    buf[k] = row;
    k += only[row] != 0;
  }
  return {buf.data(), k};
}

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
