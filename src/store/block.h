// A block: up to kMaxBlockRows records as columns. BlockBuilder gathers rows on the writer's
// caller thread (a few stores per field); encode_block turns them into the bytes of a block
// (encodings, compression, checksums), which the writer's own thread does; Block holds a block
// read back, as typed columns.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/arena.h"
#include "core/field_registry.h"
#include "store/column.h"
#include "store/format.h"

namespace flowkit::store {

struct Compression {
  Codec codec = Codec::kZstd;
  int level = 3;  // zstd's level (1-19)
};

// `zstd`, `zstd:LEVEL` (1-19), `lz4` or `none`, as --compress takes it.
Result<Compression> parse_compression(std::string_view text);

// Compresses with one codec, keeping its context between chunks.
class Compressor {
 public:
  explicit Compressor(Compression c);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  // The compressed bytes of `raw` in out (replaced); the codec used, kNone when compressing
  // would not make the chunk smaller.
  Codec compress(std::span<const uint8_t> raw, std::vector<uint8_t>& out);

 private:
  Compression c_;
  void* zstd_ = nullptr;
};

// Fills `out` (the raw size); kCorruption when the bytes do not decompress to exactly that.
Status decompress(Codec codec, std::span<const uint8_t> stored, std::span<uint8_t> out);

class BlockBuilder {
 public:
  BlockBuilder();
  void add(const FlowRecord& r);
  uint32_t rows() const { return rows_; }
  bool full() const { return rows_ >= kMaxBlockRows; }
  void clear();
  Timestamp time_min() const { return time_min_; }
  Timestamp time_max() const { return time_max_; }
  const std::vector<ColumnBuffer>& columns() const { return columns_; }

 private:
  struct ViewHash {
    size_t operator()(const PresenceView& v) const { return v.hash(); }
  };
  const std::vector<uint16_t>& plan(const FlowRecord& r);

  std::vector<ColumnBuffer> columns_;  // every stored column of the registry
  // The columns a record of each shape has.
  std::unordered_map<PresenceView, std::vector<uint16_t>, ViewHash> plans_;
  // The plans met last, by hash: records of a few shapes interleave (TCP, UDP, ICMP).
  std::array<const std::pair<const PresenceView, std::vector<uint16_t>>*, 64> recent_{};
  uint32_t rows_ = 0;
  Timestamp time_min_{INT64_MAX}, time_max_{INT64_MIN};
};

// Turns gathered rows into a block's bytes, keeping its buffers from block to block (one per
// writing thread).
class BlockEncoder {
 public:
  explicit BlockEncoder(Compression c) : compressor_(c) {}
  // Appends the block's bytes to out.
  void encode(const BlockBuilder& rows, std::vector<uint8_t>& out);

 private:
  // A column whose rows have values where an earlier column's have (TCP's fields, ICMP's)
  // names that column instead of repeating its bitmap: the earlier bitmaps, by hash.
  struct Presence {
    uint64_t hash;
    const ColumnBuffer* column;
    int index;
  };
  Compressor compressor_;
  EncodeScratch scratch_;
  std::vector<Presence> presences_;
  std::vector<uint8_t> raw_, stored_, data_;
};

// A block read back: the columns asked for, each with a value slot per row.
struct Block {
  uint64_t offset = 0;
  uint32_t rows = 0;
  Timestamp time_min, time_max;
  std::vector<ColumnData> columns;
  std::vector<ColumnData> spare;  // columns of an earlier read, whose buffers are reused
  Arena arena;                    // strings and lists of the columns

  // nullptr when the block has no such column (no row has a value there, or it was not read).
  const ColumnData* find(FieldId id, Direction dir = Direction::kForward) const;
  ColumnData* find(FieldId id, Direction dir = Direction::kForward);
  // Fills in the values of predicted columns (encodings 8 and 10): of every row, or of the rows
  // `only` chooses (a byte per row). Needs the columns the predictions read
  // (prediction_inputs()).
  void resolve_predictions(std::span<const uint8_t> only = {});
  // Rebuilds the rows as records (their strings and lists in the block's arena), appended to
  // out: every row of [from, to), or those with mask[row] != 0. Values that a FlowRecord cannot
  // hold are counted in *dropped.
  void to_records(std::vector<FlowRecord>& out, uint64_t* dropped,
                  std::span<const uint8_t> mask = {}, uint32_t from = 0,
                  uint32_t to = UINT32_MAX) const;
};

// The columns of records as a block holds them after a read (strings and lists stay in the
// records): those in `want` that are stored, every stored column when `want` is empty. A column
// no record has a value for is left out, as files leave it out.
void records_to_block(std::span<const FlowRecord> records, std::span<const Column> want,
                      Block& out);

// The predictions that are another field of the same direction, resolved a column at a time:
// (predicted field, the field it copies).
std::span<const std::pair<FieldId, FieldId>> same_direction_predictions();

// Whether a column is stored: registry fields that are not derived.
bool stored_column(const Column& c);
// What a reader must decode to resolve the predicted columns among `want`: the columns their
// predictions read, and the predicted columns before them.
std::vector<Column> prediction_inputs(std::span<const Column> want);

}  // namespace flowkit::store
