#include "store/block.h"

#include <lz4.h>
#include <xxhash.h>
#include <zstd.h>

#include <bit>
#include <cstdlib>
#include <cstring>
#include <string>

namespace flowkit::store {

bool stored_column(const Column& c) {
  return !c.field->derived;
}

Result<Compression> parse_compression(std::string_view text) {
  if (text == "lz4") return Compression{Codec::kLz4, 0};
  if (text == "none") return Compression{Codec::kNone, 0};
  if (text == "zstd") return Compression{};
  if (text.starts_with("zstd:")) {
    std::string level(text.substr(5));
    char* end = nullptr;
    long n = std::strtol(level.c_str(), &end, 10);
    if (!level.empty() && *end == 0 && n >= 1 && n <= 19) return Compression{Codec::kZstd, int(n)};
  }
  return Status::invalid_argument("--compress " + std::string(text) +
                                  ": use zstd, zstd:LEVEL (1-19), lz4 or none");
}

Compressor::Compressor(Compression c) : c_(c) {
  if (c_.codec == Codec::kZstd) zstd_ = ZSTD_createCCtx();
}

Compressor::~Compressor() {
  if (zstd_) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_));
}

Codec Compressor::compress(std::span<const uint8_t> raw, std::vector<uint8_t>& out) {
  size_t n = 0;
  switch (c_.codec) {
    case Codec::kZstd:
      out.resize(ZSTD_compressBound(raw.size()));
      n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_), out.data(), out.size(), raw.data(),
                            raw.size(), c_.level);
      if (ZSTD_isError(n)) n = 0;
      break;
    case Codec::kLz4:
      out.resize(LZ4_compressBound(int(raw.size())));
      n = size_t(std::max(0, LZ4_compress_default(reinterpret_cast<const char*>(raw.data()),
                                                  reinterpret_cast<char*>(out.data()),
                                                  int(raw.size()), int(out.size()))));
      break;
    case Codec::kNone:
      break;
  }
  if (n == 0 || n >= raw.size()) {
    out.assign(raw.begin(), raw.end());
    return Codec::kNone;
  }
  out.resize(n);
  return c_.codec;
}

Status decompress(Codec codec, std::span<const uint8_t> stored, std::span<uint8_t> out) {
  const size_t raw_size = out.size();
  switch (codec) {
    case Codec::kNone:
      if (stored.size() != raw_size) return Status::corruption("stored and raw sizes differ");
      std::copy(stored.begin(), stored.end(), out.begin());
      return {};
    case Codec::kZstd: {
      // A context per thread, kept: ZSTD_decompress makes and frees one per call (some 100 KiB
      // mapped and zeroed for every chunk).
      static thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(),
                                                                                 &ZSTD_freeDCtx);
      if (!ctx) return Status::corruption("zstd: no memory for a decompression context");
      size_t n =
          ZSTD_decompressDCtx(ctx.get(), out.data(), out.size(), stored.data(), stored.size());
      if (ZSTD_isError(n) || n != raw_size)
        return Status::corruption("zstd chunk does not decompress");
      return {};
    }
    case Codec::kLz4: {
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(stored.data()),
                                  reinterpret_cast<char*>(out.data()), int(stored.size()),
                                  int(raw_size));
      if (n < 0 || size_t(n) != raw_size)
        return Status::corruption("lz4 chunk does not decompress");
      return {};
    }
  }
  return Status::corruption("unknown codec");
}

BlockBuilder::BlockBuilder() {
  for (const Column& c : all_columns())
    if (stored_column(c)) columns_.emplace_back(*c.field, c.dir);
}

const std::vector<uint16_t>& BlockBuilder::plan(const FlowRecord& r) {
  PresenceView view(r);
  auto& recent = recent_[view.hash() % recent_.size()];
  if (recent && recent->first == view) return recent->second;
  auto it = plans_.find(view);
  if (it == plans_.end()) {
    // Hostile presence bits could make many shapes; start over rather than grow without end.
    if (plans_.size() >= 4096) {
      plans_.clear();
      recent_.fill(nullptr);
    }
    std::vector<uint16_t> cols;
    for (size_t i = 0; i < columns_.size(); ++i)
      if (view.has(*columns_[i].field, columns_[i].dir)) cols.push_back(uint16_t(i));
    it = plans_.emplace(view, std::move(cols)).first;
  }
  recent = &*it;
  return it->second;
}

void BlockBuilder::add(const FlowRecord& r) {
  // A uniflow's reverse direction is not stored, so predictions must not see what it holds.
  if (!r.biflow && r.has_stats && !(r.rev == DirectionRecord())) {
    FlowRecord copy = r;
    copy.rev = DirectionRecord();
    return add(copy);
  }
  for (uint16_t i : plan(r)) columns_[i].append(rows_, r);
  time_min_ = std::min(time_min_, r.first());
  time_max_ = std::max(time_max_, r.last());
  ++rows_;
}

void BlockBuilder::clear() {
  for (ColumnBuffer& c : columns_)
    if (c.count) c.clear();
  rows_ = 0;
  time_min_ = Timestamp{INT64_MAX};
  time_max_ = Timestamp{INT64_MIN};
}

void BlockEncoder::encode(const BlockBuilder& rows, std::vector<uint8_t>& out) {
  BlockHeader h;
  h.rows = rows.rows();
  h.time_min = rows.time_min();
  h.time_max = rows.time_max();
  data_.clear();
  presences_.clear();
  const size_t words = (h.rows + 63) / 64;
  for (const ColumnBuffer& c : rows.columns()) {
    if (!c.count) continue;
    int presence_of = -1;
    if (c.count != h.rows) {
      const uint64_t hash = XXH3_64bits(c.bits.data(), words * 8);
      for (const Presence& p : presences_)
        if (p.hash == hash && p.column->count == c.count &&
            std::equal(c.bits.begin(), c.bits.begin() + ptrdiff_t(words), p.column->bits.begin())) {
          presence_of = p.index;
          break;
        }
      if (presence_of < 0) presences_.push_back({hash, &c, int(h.columns.size())});
    }
    const ColumnBuffer* key = nullptr;
    if (const FieldInfo* f = follows(c.field->id))
      for (const ColumnBuffer& k : rows.columns())
        if (k.field == f && k.dir == c.dir) key = &k;
    ColumnDescriptor& d = h.columns.emplace_back();
    encode_column(c, h.rows, raw_, d, scratch_, presence_of, key);
    d.codec = compressor_.compress(raw_, stored_);
    d.stored_size = uint32_t(stored_.size());
    d.checksum = checksum(stored_);
    data_.insert(data_.end(), stored_.begin(), stored_.end());
  }
  h.data_size = data_.size();
  put_block_header(h, out);
  out.insert(out.end(), data_.begin(), data_.end());
}

namespace {

bool is_input(FieldId id) {
  switch (id) {
#define FK_PREDICT_INPUT(id) case FieldId::id:
#include "core/fields.def"
    return true;
    default:
      return predicted(id);
  }
}

}  // namespace

std::vector<Column> prediction_inputs(std::span<const Column> want) {
  size_t last = 0;  // after the last predicted column wanted, in registry order
  std::span<const Column> all = all_columns();
  for (const Column& w : want)
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i].field == w.field && all[i].dir == w.dir && predicted(w.field->id))
        last = std::max(last, i + 1);
  std::vector<Column> v;
  for (size_t i = 0; i < last; ++i)
    if (is_input(all[i].field->id)) v.push_back(all[i]);
  for (const Column& w : want)
    if (const FieldInfo* key = follows(w.field->id)) v.push_back({key, w.dir});
  return v;
}

namespace {
// Predictions that are another field of the same direction (FK_PREDICT(kLast, d.first)...):
// resolved a column at a time, before the others, which may read them. file_test.cpp checks
// this table against predict().
constexpr std::pair<FieldId, FieldId> kSameDirection[] = {{FieldId::kLast, FieldId::kFirst},
                                                          {FieldId::kTtlMin, FieldId::kTtl},
                                                          {FieldId::kTtlMax, FieldId::kTtl}};
}  // namespace

std::span<const std::pair<FieldId, FieldId>> same_direction_predictions() {
  return kSameDirection;
}

void Block::resolve_predictions(std::span<const uint8_t> only) {
  if (only.size() != rows) only = {};
  auto chosen = [&](uint32_t row) { return only.empty() || only[row]; };
  for (auto [id, from] : kSameDirection) {
    for (Direction dir : {Direction::kForward, Direction::kReverse}) {
      ColumnData* c = find(id, dir);
      if (!c || c->from_prediction.empty()) continue;
      // The writer's record held 0 where the row lacked the value predicted from.
      const ColumnData* src = find(from, dir);
      for (uint32_t row = 0; row < rows; ++row)
        if (c->from_prediction[row] && chosen(row))
          c->ints[row] = (src ? src->ints[row] : 0) + uint64_t(unzigzag(c->ints[row]));
      c->from_prediction.clear();
    }
  }
  // Strings that follow from another column's (encoding 13): their key's value. A key the
  // column does not list (only damage makes one) leaves the string empty.
  for (ColumnData& c : columns) {
    const FieldInfo* key = follows(c.field->id);
    if (!key || c.from_prediction.empty()) continue;
    static thread_local std::unordered_map<std::string_view, std::string_view> value_of;
    value_of.clear();
    for (const auto& [k, v] : c.keyed) value_of.emplace(k, v);
    const ColumnData* src = find(key->id, c.dir);
    for (uint32_t row = 0; row < rows && src; ++row) {
      if (!c.from_prediction[row] || !chosen(row) || !src->has(row)) continue;
      if (auto it = value_of.find(src->strings[row]); it != value_of.end())
        c.strings[row] = it->second;
    }
    c.from_prediction.clear();
  }
  bool any = false;
  for (const ColumnData& c : columns) any = any || !c.from_prediction.empty();
  if (!any) return;
  // Each row as a record holding what predictions read, filled in the registry's order so that
  // each prediction sees those made before it, as the writer did. One record serves every row:
  // a value the row lacks is set to zero, as the writer's record held it.
  struct Input {
    Column col;
    ColumnData* c;
    int offset;  // record_offset(): the value is copied in; -1: through the setter
  };
  std::vector<Input> inputs;
  for (const Column& col : all_columns())
    if (is_input(col.field->id))
      if (ColumnData* c = find(col.field->id, col.dir))
        inputs.push_back({col, c, record_offset(col.field->id, col.dir)});
  FlowRecord rec;
  auto* base = reinterpret_cast<uint8_t*>(&rec);
  for (uint32_t row = 0; row < rows; ++row) {
    if (!chosen(row)) continue;  // every input of a row is set from that row's values
    for (Input& in : inputs) {
      const FieldInfo& f = *in.col.field;
      ColumnData* c = in.c;
      const bool has = c->has(row);
      if (has && !c->from_prediction.empty() && c->from_prediction[row]) {
        uint64_t p = predict(f.id, rec, in.col.dir);
        if (f.type == FieldType::kF64) {
          c->doubles[row] = std::bit_cast<double>(p);
        } else {
          c->ints[row] = p + uint64_t(unzigzag(c->ints[row]));
        }
      }
      if (in.offset >= 0) {
        // Absent values are held as 0, as the writer's record held them.
        if (f.type == FieldType::kF64) {
          double v = has ? c->doubles[row] : 0.0;
          std::memcpy(base + in.offset, &v, 8);
        } else {
          uint64_t v = has ? c->ints[row] : 0;
          std::memcpy(base + in.offset, &v, plain_size(f.type));
        }
      } else if (!has) {
        if (f.type == FieldType::kF64) {
          f.set(rec, in.col.dir, 0.0);
        } else if (f.type == FieldType::kTime) {
          f.set(rec, in.col.dir, Timestamp{});
        } else {
          f.set(rec, in.col.dir, uint64_t(0));
        }
      } else {
        f.set(rec, in.col.dir, c->value(row));
      }
    }
  }
  for (Input& in : inputs) in.c->from_prediction.clear();
}

const ColumnData* Block::find(FieldId id, Direction dir) const {
  for (const ColumnData& c : columns)
    if (c.field->id == id && c.dir == dir) return &c;
  return nullptr;
}

ColumnData* Block::find(FieldId id, Direction dir) {
  return const_cast<ColumnData*>(std::as_const(*this).find(id, dir));
}

void Block::to_records(std::vector<FlowRecord>& out, uint64_t* dropped,
                       std::span<const uint8_t> mask, uint32_t from, uint32_t to) const {
  static thread_local std::vector<uint32_t> kept;
  kept.clear();
  for (uint32_t row = from; row < std::min(to, rows); ++row)
    if (mask.empty() || mask[row]) kept.push_back(row);
  const size_t at = out.size();
  // Copies of one blank record: cheaper than constructing each member by member.
  static const FlowRecord kBlank{};
  out.insert(out.end(), kept.size(), kBlank);
  for (const ColumnData& c : columns) {
    // Values held in the record as the column holds them are copied in (and marked present,
    // unless that follows from other fields); the others go through the registry's setter.
    const int offset = record_offset(c.field->id, c.dir);
    const Presence p = c.field->presence;
    const bool mark = !(p == Presence::kAlways || p == Presence::kTcp || p == Presence::kIcmp ||
                        p == Presence::kIpv6);
    if (offset < 0) {
      for (size_t k = 0; k < kept.size(); ++k) {
        uint32_t row = kept[k];
        if (!c.has(row)) continue;
        if (!c.field->set(out[at + k], c.dir, c.value(row))) ++*dropped;
      }
      continue;
    }
    const FieldType type = c.field->type;
    const size_t width = plain_size(type);
    for (size_t k = 0; k < kept.size(); ++k) {
      uint32_t row = kept[k];
      if (!c.has(row)) continue;
      auto* to = reinterpret_cast<uint8_t*>(&out[at + k]) + offset;
      if (type == FieldType::kIp) {
        std::memcpy(to, c.ips[row].bytes(), 16);
      } else if (type == FieldType::kMac) {
        std::memcpy(to, c.macs[row].b.data(), 6);
      } else if (type == FieldType::kF64) {
        std::memcpy(to, &c.doubles[row], 8);
      } else {
        std::memcpy(to, &c.ints[row], width);  // little-endian: the low bytes
      }
      if (mark) mark_present(*c.field, out[at + k], c.dir);
    }
  }
  if (const ColumnData* rev_packets = find(FieldId::kPackets, Direction::kReverse))
    for (size_t k = 0; k < kept.size(); ++k) out[at + k].biflow = rev_packets->has(kept[k]);
}

void records_to_block(std::span<const FlowRecord> records, std::span<const Column> want,
                      Block& out) {
  for (ColumnData& c : out.columns) out.spare.push_back(std::move(c));
  out.columns.clear();
  out.arena.reset();
  out.rows = uint32_t(records.size());
  out.time_min = Timestamp{INT64_MAX};
  out.time_max = Timestamp{INT64_MIN};
  for (const FlowRecord& r : records) {
    out.time_min = std::min(out.time_min, r.fwd.first);
    out.time_max = std::max(out.time_max, r.fwd.first);
  }
  for (const Column& col : want.empty() ? all_columns() : want) {
    if (!stored_column(col) || out.find(col.field->id, col.dir)) continue;
    ColumnData c;
    if (!out.spare.empty()) {
      c = std::move(out.spare.back());
      out.spare.pop_back();
    }
    c.field = col.field;
    c.dir = col.dir;
    c.rows = out.rows;
    c.present.assign(out.rows, 0);
    c.ints.assign(out.rows, 0);
    c.doubles.assign(out.rows, 0);
    c.ips.assign(out.rows, IpAddress{});
    c.macs.assign(out.rows, MacAddress{});
    c.strings.assign(out.rows, {});
    c.lists.assign(out.rows, {});
    c.from_prediction.clear();
    bool any = false;
    for (uint32_t row = 0; row < out.rows; ++row) {
      const FlowRecord& r = records[row];
      if (!field_present(*col.field, r, col.dir)) continue;
      c.present[row] = 1;
      any = true;
      FieldValue v = col.field->get(r, col.dir);
      if (auto* u = std::get_if<uint64_t>(&v)) c.ints[row] = *u;
      if (auto* t = std::get_if<Timestamp>(&v)) c.ints[row] = uint64_t(t->ns);
      if (auto* d = std::get_if<double>(&v)) c.doubles[row] = *d;
      if (auto* a = std::get_if<IpAddress>(&v)) c.ips[row] = *a;
      if (auto* m = std::get_if<MacAddress>(&v)) c.macs[row] = *m;
      if (auto* s = std::get_if<std::string_view>(&v)) c.strings[row] = *s;
      if (auto* l = std::get_if<ListRef>(&v)) c.lists[row] = *l;
    }
    if (any) out.columns.push_back(std::move(c));
  }
}

}  // namespace flowkit::store
